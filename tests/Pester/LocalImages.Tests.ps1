#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same user stories as tests/ImageModule.Tests/LocalImageStories.cs, for machines that have pwsh and Pester.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force
    function New-TestRootfs([string]$Name, [int]$Megabytes, [int]$Seed) {
        $root = Join-Path $TestDrive "$Name-rootfs"
        New-Item -ItemType Directory -Path (Join-Path $root 'data') -Force | Out-Null
        $bytes = [byte[]]::new(1MB); $random = [Random]::new($Seed)
        $stream = [IO.File]::Create((Join-Path $root 'data/random.bin'))
        try { foreach ($i in 1..$Megabytes) { $random.NextBytes($bytes); $stream.Write($bytes, 0, $bytes.Length) } } finally { $stream.Dispose() }
        $tar = Join-Path $TestDrive "$Name.tar"
        tar -C $root -cf $tar .
        Remove-Item -Recurse -Force $root
        $tar
    }
    function Get-BlobPath([string]$Digest) { Join-Path $env:IMAGEMODULE_STORE "blobs/sha256/$($Digest.Substring(7))" }
}

Describe 'Local images' {
    BeforeEach {
        $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N'))
    }

    It 'removes exactly the images over 100MB, and their blobs, with the literal pipeline' {
        $big = Import-Image -Path (New-TestRootfs big 110 1) -Name bars/big:1
        $small = Import-Image -Path (New-TestRootfs small 2 2) -Name bars/small:1
        Add-ImageTag bars/big:1 bars/big:also | Out-Null
        $bigLayers = Get-ImageLayer bars/big:1 | Where-Object { -not $_.EmptyLayer }

        Get-Image | Where-Object Size -gt 100MB | Remove-Image

        (Get-Image).Name | Should -Be 'docker.io/bars/small:1'
        foreach ($layer in $bigLayers) { Get-BlobPath $layer.Digest | Should -Not -Exist }
        Get-BlobPath $big.Id | Should -Not -Exist
        Get-BlobPath $small.Id | Should -Exist
    }

    It '-WhatIf removes nothing' {
        Import-Image -Path (New-TestRootfs one 1 3) -Name bars/one:1 | Out-Null
        Get-Image | Remove-Image -WhatIf
        (Get-Image).Count | Should -Be 1
    }

    It 'matches names the way docker does, and wildcards' {
        Import-Image -Path (New-TestRootfs alpine 1 4) -Name alpine:3.20 | Out-Null
        Add-ImageTag alpine:3.20 alpine:latest | Out-Null
        Add-ImageTag alpine:3.20 localhost:5000/team/alpine:dev | Out-Null
        @(Get-Image alpine).Count | Should -Be 2
        @(Get-Image alpine:3.20).Count | Should -Be 1
        @(Get-Image 'localhost:5000/*').Count | Should -Be 1
        @(Get-Image '*alpine*').Count | Should -Be 3
    }

    It 'reports an unknown image as ObjectNotFound and goes on' {
        Import-Image -Path (New-TestRootfs present 1 5) -Name present:1 | Out-Null
        $found = Get-Image missing:1, present:1 -ErrorVariable errors -ErrorAction SilentlyContinue
        @($found).Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'ImageNotFound,ImageModule.Commands.GetImageCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'reports an invalid reference as InvalidArgument' {
        Get-Image 'Upper/Case:1' -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'InvalidReference,ImageModule.Commands.GetImageCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'removes an ID with two names only with -Force' {
        $image = Import-Image -Path (New-TestRootfs app 1 6) -Name app:1
        Add-ImageTag app:1 app:stable | Out-Null
        Remove-Image -Id $image.ShortId -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors[0].FullyQualifiedErrorId | Should -Be 'ImageHasMultipleNames,ImageModule.Commands.RemoveImageCommand'
        Remove-Image -Id $image.ShortId -Force
        Get-Image | Should -BeNullOrEmpty
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
        Import-Image -Path $layout | Out-Null
        $base = Get-ImageLayer one | Where-Object Index -eq 0
        $base.SharedBy | Should -Contain 'docker.io/library/two:latest'
        Remove-Image one, base
        Get-BlobPath $base.Digest | Should -Exist
    }

    It 'writes a store skopeo reads' {
        $image = Import-Image -Path (New-TestRootfs interop 1 9) -Name localhost:5000/interop/app:v1
        skopeo inspect --config "oci:$($env:IMAGEMODULE_STORE):localhost:5000/interop/app:v1" | Should -Match $image.LayerDiffIds[0]
    }
}
