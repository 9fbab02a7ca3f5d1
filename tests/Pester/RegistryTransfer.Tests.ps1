#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/RegistryTransferStories.cs (Copy-Image, Remove-RegistryImage,
# -AllTags, search) and SecuredRegistryStories (TLS with a generated CA, a pull-through mirror), against real
# docker-registry processes on loopback. Token auth with a JWT issuer is told by the xunit suite
# (tests/Shared/TokenIssuer.cs) only: a signing HTTP service is more than a Pester file should hold.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force
    . (Join-Path $PSScriptRoot 'Common.ps1')
}

Describe 'Copying, deleting and searching' {
    BeforeEach {
        $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N'))
        $env:IMAGEMODULE_REGISTRY_CONFIG = Join-Path $TestDrive "$([Guid]::NewGuid().ToString('N')).json"
    }

    It 'copies registry to registry, to a layout skopeo reads and to an archive, digests unchanged' {
        $a = Start-TestRegistry; $b = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs copy 61) -Name copy:1 | Out-Null
            $remote = "$($a.Host)/team/copy:1"
            Publish-Image copy:1 -Destination $remote | Out-Null
            Remove-Image copy:1
            $copied = Copy-Image "docker://$remote" "docker://$($b.Host)/prod/copy:1"
            skopeo inspect --tls-verify=false "docker://$($b.Host)/prod/copy:1" | Should -Match $copied.Digest
            Get-ChildItem (Join-Path $env:IMAGEMODULE_STORE 'blobs/sha256') -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $layout = Join-Path $TestDrive 'layout'
            (Copy-Image $remote "oci:${layout}:v1").Digest | Should -Be $copied.Digest
            skopeo inspect "oci:${layout}:v1" | Should -Match $copied.Digest
            $archive = Join-Path $TestDrive 'copied-archive.tar'
            Copy-Image $remote "docker-archive:$archive" | Out-Null
            Copy-Image "docker-archive:$archive" store:copy:2 | Out-Null
            Get-Image copy:2 | Should -Not -BeNullOrEmpty
            Copy-Image containers-storage:alpine:3 store:x:1 -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -Be 'TransportNotSupported,ImageModule.Commands.CopyImageCommand'
        }
        finally { Stop-Process $a.Process; Stop-Process $b.Process }
    }

    It 'deletes from a registry only after -WhatIf showed it' {
        $registry = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs gone 62) -Name gone:1 | Out-Null
            $remote = "$($registry.Host)/team/gone:1"
            Publish-Image gone:1 -Destination $remote | Out-Null
            Remove-RegistryImage $remote -WhatIf
            (Find-Image "$($registry.Host)/team/gone" -ListTags).Tag | Should -Contain '1'
            Remove-RegistryImage $remote -Confirm:$false
            Find-Image "$($registry.Host)/team/gone" -ListTags | Should -BeNullOrEmpty
        }
        finally { Stop-Process $registry.Process }
    }

    It 'pulls every tag, the shared layer once' {
        $registry = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs base 63) -Name base:1 | Out-Null
            foreach ($tag in 1..3) { Add-ImageTag base:1 "base:$tag" | Out-Null; Publish-Image "base:$tag" -Destination "$($registry.Host)/team/base:$tag" | Out-Null }
            Get-Image base | Remove-Image -Force
            $pulled = Install-Image "$($registry.Host)/team/base" -AllTags
            ($pulled.Tag | Sort-Object) | Should -Be @('1', '2', '3')
            ($pulled.Id | Sort-Object -Unique).Count | Should -Be 1
        }
        finally { Stop-Process $registry.Process }
    }

    It 'searches with limit and official filters (a recorded Docker Hub response, replayed on loopback)' {
        $port = Get-FreePort
        $recorded = Get-Content -Raw (Join-Path $PSScriptRoot '../ImageModule.Tests/Data/dockerhub-search-nginx.json')
        $job = Start-ThreadJob -ArgumentList $port, $recorded {
            param($port, $recorded)
            $listener = [Net.HttpListener]::new(); $listener.Prefixes.Add("http://127.0.0.1:$port/"); $listener.Start()
            foreach ($i in 1..2) {
                $context = $listener.GetContext(); $bytes = [Text.Encoding]::UTF8.GetBytes($recorded)
                $context.Response.OutputStream.Write($bytes, 0, $bytes.Length); $context.Response.Close()
            }
            $listener.Stop()
        }
        Start-Sleep -Milliseconds 300
        (Find-Image nginx -Registry "127.0.0.1:$port").Count | Should -Be 4
        $official = Find-Image nginx -Registry "127.0.0.1:$port" -IsOfficial -Limit 2
        $official.Name | Should -Be "127.0.0.1:$port/nginx"
        $job | Wait-Job -Timeout 30 | Remove-Job -Force
    }
}

Describe 'Registries that need settings' {
    BeforeEach {
        $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N'))
        $env:IMAGEMODULE_REGISTRY_CONFIG = Join-Path $TestDrive "$([Guid]::NewGuid().ToString('N')).json"
    }

    It 'refuses a TLS registry until its CA is set' {
        $registry = Start-TestRegistry -Tls
        try {
            Import-Image (New-TestRootfs tls 64) -Name tls:1 | Out-Null
            $remote = "$($registry.Host)/secure/tls:1"
            Publish-Image tls:1 -Destination $remote -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -Be 'RegistryCertificateUntrusted,ImageModule.Commands.PublishImageCommand'
            Set-ImageRegistrySetting $registry.Host -CertificateAuthority $registry.CA
            Publish-Image tls:1 -Destination $remote | Should -Not -BeNullOrEmpty
            Set-ImageRegistrySetting $registry.Host -Reset
            Get-ImageRegistrySetting | Should -BeNullOrEmpty
        }
        finally { Stop-Process $registry.Process }
    }

    It 'pulls through a mirror and falls back to the origin when it is down' {
        $origin = Start-TestRegistry
        $mirror = Start-TestRegistry -Extra "proxy:`n  remoteurl: $($origin.Url)`n"
        try {
            Import-Image (New-TestRootfs mir 66) -Name mir:1 | Out-Null
            $remote = "$($origin.Host)/team/mir:1"
            Publish-Image mir:1 -Destination $remote | Out-Null
            Remove-Image mir:1
            Set-ImageRegistrySetting $origin.Host -Mirror $mirror.Host
            $pulled = Install-Image $remote -Verbose 4>&1 | Tee-Object -Variable output | Where-Object { $_ -isnot [Management.Automation.VerboseRecord] }
            ($output | Where-Object { $_ -is [Management.Automation.VerboseRecord] }) -join "`n" | Should -Match "mirror $([regex]::Escape($mirror.Host))"
            Stop-Process $mirror.Process
            Get-Image mir | Remove-Image
            (Install-Image $remote).Id | Should -Be $pulled.Id
        }
        finally { Stop-Process $origin.Process; Stop-Process $mirror.Process -ErrorAction SilentlyContinue }
    }
}
