#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same user stories as tests/ImageModule.Tests/LocalImageStories.cs, under real pwsh.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
    function Get-BlobPath([string]$Digest) { Join-Path $env:IMAGEMODULE_STORE "blobs/sha256/$($Digest.Substring(7))" }
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Local images' {
    BeforeEach { New-TestStore }

    It 'removes exactly the images over 100MB, and their blobs, with the literal pipeline' {
        $big = Import-Image -Path (New-TestRootfs big 1 -Megabytes 110) -Name bars/big:1
        $small = Import-Image -Path (New-TestRootfs small 2 -Megabytes 2) -Name bars/small:1
        Add-ImageTag bars/big:1 bars/big:also | Out-Null
        $bigLayers = @(Get-ImageLayer bars/big:1 | Where-Object { -not $_.EmptyLayer })
        $bigLayers.Count | Should -Be 1

        Get-Image | Where-Object Size -gt 100MB | Remove-Image

        (Get-Image).Name | Should -Be 'docker.io/bars/small:1'
        foreach ($layer in $bigLayers) { Get-BlobPath $layer.Digest | Should -Not -Exist }
        Get-BlobPath $big.Id | Should -Not -Exist
        Get-BlobPath $small.Id | Should -Exist
    }

    It '-WhatIf says what it would remove, and removes nothing' {
        $image = Import-Image -Path (New-TestRootfs one 3) -Name bars/one:1
        $whatIf = Get-WhatIfText { Get-Image | Remove-Image -WhatIf }
        $whatIf.Count | Should -Be 1
        $whatIf[0] | Should -BeLike 'What if: Performing the operation "Remove image" on target "docker.io/bars/one:1 in *'
        (Get-Image).Id | Should -Be $image.Id
        Get-BlobPath $image.Id | Should -Exist
    }

    It 'matches names the way docker does, and wildcards' {
        Import-Image -Path (New-TestRootfs alpine 4) -Name alpine:3.20 | Out-Null
        Add-ImageTag alpine:3.20 alpine:latest | Out-Null
        Add-ImageTag alpine:3.20 localhost:5000/team/alpine:dev | Out-Null
        (Get-Image alpine).Name | Sort-Object | Should -Be 'docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest'
        (Get-Image alpine:3.20).Name | Should -Be 'docker.io/library/alpine:3.20'
        (Get-Image 'localhost:5000/*').Name | Should -Be 'localhost:5000/team/alpine:dev'
        (Get-Image '*alpine*').Name | Sort-Object | Should -Be 'docker.io/library/alpine:3.20', 'docker.io/library/alpine:latest', 'localhost:5000/team/alpine:dev'
    }

    It 'reports an unknown image as ObjectNotFound and goes on' {
        $present = Import-Image -Path (New-TestRootfs present 5) -Name present:1
        $found = Get-Image missing:1, present:1 -ErrorVariable errors -ErrorAction SilentlyContinue
        @($found).Id | Should -Be $present.Id
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,ImageModule.Commands.GetImageCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errors[0].TargetObject | Should -Be 'missing:1'
    }

    It 'reports an invalid reference as InvalidArgument' {
        Get-Image 'Upper/Case:1' -ErrorVariable errors -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidReference,ImageModule.Commands.GetImageCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'stops with -ErrorAction Stop on an unknown image' {
        { Get-Image missing:1 } | Should -Throw -ErrorId 'ImageNotFound,ImageModule.Commands.GetImageCommand'
    }

    It 'removes an ID with two names only with -Force' {
        $image = Import-Image -Path (New-TestRootfs app 6) -Name app:1
        Add-ImageTag app:1 app:stable | Out-Null
        Remove-Image -Id $image.ShortId -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'ImageHasMultipleNames,ImageModule.Commands.RemoveImageCommand'
        (Get-Image).Name | Sort-Object | Should -Be 'docker.io/library/app:1', 'docker.io/library/app:stable'
        Remove-Image -Id $image.ShortId -Force
        Get-Image | Should -BeNullOrEmpty
        Get-BlobPath $image.Id | Should -Not -Exist
    }

    It 'keeps layers another image shares' {
        $layout = Join-Path $TestDrive 'layout'
        $file = Join-Path $TestDrive 'payload.bin'
        [IO.File]::WriteAllBytes($file, [byte[]](1..200000 | ForEach-Object { $_ % 251 }))
        umoci init --layout $layout
        umoci new --image "${layout}:base"
        umoci insert --rootless --image "${layout}:base" $file /base.bin
        umoci insert --rootless --image "${layout}:base" --tag one $file /one.bin
        umoci insert --rootless --image "${layout}:base" --tag two $file /two.bin
        (Import-Image -Path $layout).Name | Sort-Object | Should -Be 'docker.io/library/base:latest', 'docker.io/library/one:latest', 'docker.io/library/two:latest'
        $base = Get-ImageLayer one | Where-Object Index -eq 0
        $base.SharedBy | Should -Contain 'docker.io/library/two:latest'
        Remove-Image one, base
        (Get-Image).Name | Should -Be 'docker.io/library/two:latest'
        Get-BlobPath $base.Digest | Should -Exist
    }

    It 'writes a store skopeo reads' {
        $image = Import-Image -Path (New-TestRootfs interop 9) -Name localhost:5000/interop/app:v1
        $config = skopeo inspect --config "oci:$($env:IMAGEMODULE_STORE):localhost:5000/interop/app:v1" | ConvertFrom-Json
        $config.rootfs.diff_ids | Should -Be $image.LayerDiffIds
        $config.architecture | Should -Be $image.Platform.Split('/')[1]
    }
}
