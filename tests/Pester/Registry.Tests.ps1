#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/RegistryStories.cs: a real docker-registry on a loopback port.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Registry' {
    BeforeEach { New-TestStore }

    It 'publishes and installs with digests skopeo agrees on' {
        $registry = Start-TestRegistry
        try {
            $local = Import-Image (New-TestRootfs app 41) -Name app:1
            $remote = "$($registry.Host)/team/app:1"
            $published = Publish-Image app:1 -Destination $remote
            $published.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            (skopeo inspect --tls-verify=false "docker://$remote" | ConvertFrom-Json).Digest | Should -Be $published.Digest
            Remove-Image app:1
            (Install-Image $remote).Id | Should -Be $local.Id
            (Install-Image "$($registry.Host)/team/app@$($published.Digest)").Id | Should -Be $local.Id
            Install-Image "$($registry.Host)/team/missing:1" -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,ImageModule.Commands.InstallImageCommand'
        }
        finally { Stop-TestRegistry $registry }
    }

    It 'needs the right password and never shows it' {
        $registry = Start-TestRegistry alice 's3cret-Passw0rd'
        try {
            Import-Image (New-TestRootfs priv 42) -Name priv:1 | Out-Null
            $remote = "$($registry.Host)/private/app:1"
            $bad = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong-Passw0rd' -AsPlainText -Force))
            Publish-Image priv:1 -Destination $remote -Credential $bad -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'RegistryUnauthorized,ImageModule.Commands.PublishImageCommand'
            ($errors[0] | Format-List * -Force | Out-String) | Should -Not -Match 'wrong-Passw0rd'
            $good = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret-Passw0rd' -AsPlainText -Force))
            $published = Publish-Image priv:1 -Destination $remote -Credential $good
            $published.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            (skopeo inspect --tls-verify=false --creds 'alice:s3cret-Passw0rd' "docker://$remote" | ConvertFrom-Json).Digest | Should -Be $published.Digest
        }
        finally { Stop-TestRegistry $registry }
    }
}
