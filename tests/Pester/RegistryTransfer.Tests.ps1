#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/RegistryTransferStories.cs (Copy-Image, Remove-RegistryImage,
# -AllTags, search) and SecuredRegistryStories (TLS with a generated CA, a pull-through mirror), against real
# docker-registry processes on loopback. Token auth with a JWT issuer is told by the xunit suite
# (tests/Shared/TokenIssuer.cs) only: a signing HTTP service is more than a Pester file should hold.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Copying, deleting and searching' {
    BeforeEach {
        New-TestStore
        $env:IMAGEMODULE_REGISTRY_CONFIG = Join-Path $TestDrive "$([Guid]::NewGuid().ToString('N')).json"
    }

    It 'copies registry to registry, to a layout skopeo reads and to an archive, digests unchanged' {
        $a = Start-TestRegistry; $b = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs copy 61) -Name copy:1 | Out-Null
            $remote = "$($a.Host)/team/copy:1"
            $published = Publish-Image copy:1 -Destination $remote
            Remove-Image copy:1
            $copied = Copy-Image "docker://$remote" "docker://$($b.Host)/prod/copy:1"
            $copied.Digest | Should -Be $published.Digest
            (skopeo inspect --tls-verify=false "docker://$($b.Host)/prod/copy:1" | ConvertFrom-Json).Digest | Should -Be $copied.Digest
            # Registry to registry never goes through the store.
            Get-ChildItem (Join-Path $env:IMAGEMODULE_STORE 'blobs/sha256') -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $layout = Join-Path $TestDrive 'layout'
            (Copy-Image $remote "oci:${layout}:v1").Digest | Should -Be $copied.Digest
            (skopeo inspect "oci:${layout}:v1" | ConvertFrom-Json).Digest | Should -Be $copied.Digest
            $archive = Join-Path $TestDrive 'copied-archive.tar'
            Copy-Image $remote "docker-archive:$archive" | Out-Null
            Copy-Image "docker-archive:$archive" store:copy:2 | Out-Null
            (Get-Image copy:2).Name | Should -Be 'docker.io/library/copy:2'
            (Get-Image copy:2).Digest | Should -Not -BeNullOrEmpty
            Copy-Image containers-storage:alpine:3 store:x:1 -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'TransportNotSupported,ImageModule.Commands.CopyImageCommand'
        }
        finally { Stop-TestRegistry $a; Stop-TestRegistry $b }
    }

    It 'deletes from a registry only after -WhatIf showed it' {
        $registry = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs gone 62) -Name gone:1 | Out-Null
            $remote = "$($registry.Host)/team/gone:1"
            Publish-Image gone:1 -Destination $remote | Out-Null
            $whatIf = Get-WhatIfText { Remove-RegistryImage $remote -WhatIf }
            $whatIf.Count | Should -Be 1
            $whatIf[0] | Should -Match ([regex]::Escape($registry.Host))
            $whatIf[0] | Should -Match 'gone'
            @(Get-RegistryRequest $registry) -match '^DELETE ' | Should -BeNullOrEmpty
            (Find-Image "$($registry.Host)/team/gone" -ListTags).Tag | Should -Contain '1'
            Remove-RegistryImage $remote -Confirm:$false
            # The tag alone first where the registry can; this one (distribution 2.8) then deletes the manifest.
            @(Get-RegistryRequest $registry) -match '^DELETE /v2/team/gone/manifests/' | Should -Not -BeNullOrEmpty
            Find-Image "$($registry.Host)/team/gone" -ListTags | Should -BeNullOrEmpty
        }
        finally { Stop-TestRegistry $registry }
    }

    It 'pulls every tag, the shared layer once' {
        $registry = Start-TestRegistry
        try {
            Import-Image (New-TestRootfs base 63) -Name base:1 | Out-Null
            foreach ($tag in 1..3) { Add-ImageTag base:1 "base:$tag" | Out-Null; Publish-Image "base:$tag" -Destination "$($registry.Host)/team/base:$tag" | Out-Null }
            Get-Image base | Remove-Image -Force
            Get-Image | Should -BeNullOrEmpty
            $before = @(Get-RegistryRequest $registry).Count
            $pulled = Install-Image "$($registry.Host)/team/base" -AllTags
            ($pulled.Tag | Sort-Object) | Should -Be @('1', '2', '3')
            @($pulled.Id | Sort-Object -Unique).Count | Should -Be 1
            $layer = (Get-ImageLayer "$($registry.Host)/team/base:1" | Where-Object { -not $_.EmptyLayer }).Digest
            $blobGets = @(Get-RegistryRequest $registry | Select-Object -Skip $before) -match "^GET /v2/team/base/blobs/$layer "
            $blobGets | Should -HaveCount 1
        }
        finally { Stop-TestRegistry $registry }
    }

    It 'searches with limit and official filters (a recorded Docker Hub response, replayed on loopback)' {
        $recorded = Get-Content -Raw (Join-Path $PSScriptRoot '../ImageModule.Tests/Data/dockerhub-search-nginx.json')
        $server = Start-TestHttpServer -Body $recorded
        try {
            $all = Find-Image nginx -Registry "127.0.0.1:$($server.Port)"
            $all.Count | Should -Be 4
            $all[0].Name | Should -Be "127.0.0.1:$($server.Port)/nginx"
            $official = Find-Image nginx -Registry "127.0.0.1:$($server.Port)" -IsOfficial -Limit 2
            $official.Name | Should -Be "127.0.0.1:$($server.Port)/nginx"
        }
        finally { $served = Stop-TestHttpServer $server }
        $served | Should -BeGreaterOrEqual 2
    }
}

Describe 'Registries that need settings' {
    BeforeEach {
        New-TestStore
        $env:IMAGEMODULE_REGISTRY_CONFIG = Join-Path $TestDrive "$([Guid]::NewGuid().ToString('N')).json"
    }

    It 'refuses a TLS registry until its CA is set' {
        $registry = Start-TestRegistry -Tls
        try {
            Import-Image (New-TestRootfs tls 64) -Name tls:1 | Out-Null
            $remote = "$($registry.Host)/secure/tls:1"
            Publish-Image tls:1 -Destination $remote -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'RegistryCertificateUntrusted,ImageModule.Commands.PublishImageCommand'
            Set-ImageRegistrySetting $registry.Host -CertificateAuthority $registry.CA
            (Get-ImageRegistrySetting).Registry | Should -Be $registry.Host
            (Publish-Image tls:1 -Destination $remote).Digest | Should -Match '^sha256:[0-9a-f]{64}$'
            Set-ImageRegistrySetting $registry.Host -Reset
            Get-ImageRegistrySetting | Should -BeNullOrEmpty
        }
        finally { Stop-TestRegistry $registry }
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
            @(Get-RegistryRequest $mirror) -match '^GET /v2/team/mir/manifests/1 ' | Should -Not -BeNullOrEmpty
            Stop-TestRegistry $mirror
            Get-Image $remote | Remove-Image
            Get-Image | Should -BeNullOrEmpty
            (Install-Image $remote).Id | Should -Be $pulled.Id
        }
        finally { Stop-TestRegistry $origin; Stop-TestRegistry $mirror }
    }
}
