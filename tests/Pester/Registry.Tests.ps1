#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/RegistryStories.cs: a real docker-registry on a loopback port.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Registry' {
    BeforeEach { $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N')) }

    It 'publishes and installs with digests skopeo agrees on' {
        $registry = Start-TestRegistry
        try {
            $local = Import-Image (New-TestRootfs app 41) -Name app:1
            $remote = "$($registry.Host)/team/app:1"
            $published = Publish-Image app:1 -Destination $remote
            skopeo inspect --tls-verify=false "docker://$remote" | Should -Match $published.Digest
            Remove-Image app:1
            (Install-Image $remote).Id | Should -Be $local.Id
            (Install-Image "$($registry.Host)/team/app@$($published.Digest)").Id | Should -Be $local.Id
            Install-Image "$($registry.Host)/team/missing:1" -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,ImageModule.Commands.InstallImageCommand'
        }
        finally { Stop-Process $registry.Process }
    }

    It 'needs the right password and never shows it' {
        $registry = Start-TestRegistry alice 's3cret-Passw0rd'
        try {
            Import-Image (New-TestRootfs priv 42) -Name priv:1 | Out-Null
            $remote = "$($registry.Host)/private/app:1"
            $bad = [pscredential]::new('alice', (ConvertTo-SecureString 'wrong-Passw0rd' -AsPlainText -Force))
            Publish-Image priv:1 -Destination $remote -Credential $bad -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -Be 'RegistryUnauthorized,ImageModule.Commands.PublishImageCommand'
            "$($errors[0])" | Should -Not -Match 'wrong-Passw0rd'
            $good = [pscredential]::new('alice', (ConvertTo-SecureString 's3cret-Passw0rd' -AsPlainText -Force))
            Publish-Image priv:1 -Destination $remote -Credential $good | Should -Not -BeNullOrEmpty
        }
        finally { Stop-Process $registry.Process }
    }
}
