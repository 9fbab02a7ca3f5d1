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

Describe 'Per-registry credential helpers' {
    BeforeEach { New-TestStore }

    It 'asks the helper named for that registry in credHelpers, and only for that registry' {
        $registry = Start-TestRegistry carol 'helper-Secr3t'
        $open = Start-TestRegistry
        $bin = Join-Path $TestDrive 'helper-bin'
        $calls = Join-Path $TestDrive 'helper-calls.log'
        $oldPath = $env:PATH
        try {
            # A docker-credential-* helper speaks the docker credential protocol on stdin/stdout; this one knows one
            # login and records every request it gets.
            New-Item -ItemType Directory $bin -Force | Out-Null
            $helper = Join-Path $bin 'docker-credential-lab'
            Set-Content $helper @"
#!/bin/sh
read server
echo "`$1 `$server" >> '$calls'
if [ "`$1" = get ] && [ "`$server" = '$($registry.Host)' ]; then
  echo '{"ServerURL":"$($registry.Host)","Username":"carol","Secret":"helper-Secr3t"}'; exit 0
fi
echo 'credentials not found in native keychain'; exit 1
"@
            chmod +x $helper
            $env:PATH = "$bin$([IO.Path]::PathSeparator)$oldPath"
            Set-Content (Join-Path $env:DOCKER_CONFIG 'config.json') (@{ credHelpers = @{ $registry.Host = 'lab' } } | ConvertTo-Json)

            Import-Image (New-TestRootfs helped 43) -Name helped:1 | Out-Null
            $published = Publish-Image helped:1 -Destination "$($registry.Host)/team/helped:1"
            $published.Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            (skopeo inspect --tls-verify=false --creds 'carol:helper-Secr3t' "docker://$($registry.Host)/team/helped:1" | ConvertFrom-Json).Digest |
                Should -Be $published.Digest
            # The other registry is not in credHelpers and there is no credsStore: its helper is never asked.
            Publish-Image helped:1 -Destination "$($open.Host)/team/helped:1" | Out-Null
            $asked = @(Get-Content $calls)
            $asked | Should -Not -BeNullOrEmpty
            $asked | ForEach-Object { $_ | Should -Be "get $($registry.Host)" }
            # The secret stays with the helper: nothing was written into config.json.
            Get-Content -Raw (Join-Path $env:DOCKER_CONFIG 'config.json') | Should -Not -Match 'helper-Secr3t'
        }
        finally {
            $env:PATH = $oldPath
            Set-Content (Join-Path $env:DOCKER_CONFIG 'config.json') '{}'
            Stop-TestRegistry $registry
            Stop-TestRegistry $open
        }
    }
}
