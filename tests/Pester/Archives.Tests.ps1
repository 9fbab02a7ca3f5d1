#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/ArchiveStories.cs, for machines that have pwsh and Pester.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force
    function New-TestRootfs([string]$Name, [int]$Seed) {
        $root = Join-Path $TestDrive "$Name-rootfs"
        New-Item -ItemType Directory -Path (Join-Path $root 'data') -Force | Out-Null
        $bytes = [byte[]]::new(1MB); [Random]::new($Seed).NextBytes($bytes)
        [IO.File]::WriteAllBytes((Join-Path $root 'data/random.bin'), $bytes)
        $tar = Join-Path $TestDrive "$Name.tar"
        tar -C $root -cf $tar .
        $tar
    }
}

Describe 'Archives' {
    BeforeEach {
        $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N'))
    }

    It 'saves two images into one file that loads into an empty store with the same IDs' {
        $one = Import-Image (New-TestRootfs one 21) -Name save/one:1
        $two = Import-Image (New-TestRootfs two 22) -Name save/two:2
        $archive = Join-Path $TestDrive 'both.tar'
        Get-Image 'save/*' | Save-Image -Path $archive | Should -BeOfType [IO.FileInfo]
        skopeo inspect --config "docker-archive:${archive}:docker.io/save/one:1" | Should -Match $one.LayerDiffIds[0]
        skopeo inspect --config "oci-archive:${archive}:2" | Should -Match $two.LayerDiffIds[0]
        Get-Image | Remove-Image
        $loaded = Import-Image -Path $archive
        ($loaded.Id | Sort-Object) | Should -Be (@($one.Id, $two.Id) | Sort-Object)
    }

    It 'loads a gzip-compressed archive whatever its name' {
        $image = Import-Image (New-TestRootfs zipped 23) -Name zipped:1
        $archive = Join-Path $TestDrive 'zipped.bin'
        Save-Image zipped:1 -Path $archive -Compress | Out-Null
        Remove-Image zipped:1
        (Import-Image $archive).Id | Should -Be $image.Id
    }

    It 'imports a rootfs tarball with config changes' {
        $image = Import-Image (New-TestRootfs changes 24) -Name tools:1 -Change 'ENV MODE=prod', 'WORKDIR /data'
        $image.Config.Env | Should -Contain 'MODE=prod'
        $image.Config.WorkingDir | Should -Be '/data'
        (Get-ImageFile tools:1 -Path 'data/*').Path | Should -Be '/data/random.bin'
    }

    It 'exports and expands the filesystem' {
        Import-Image (New-TestRootfs fs 25) -Name fs:1 | Out-Null
        Export-Image fs:1 -Path (Join-Path $TestDrive 'flat.tar') | Should -BeOfType [IO.FileInfo]
        Expand-Image fs:1 -DestinationPath (Join-Path $TestDrive 'rootfs') | Out-Null
        (Get-Item (Join-Path $TestDrive 'rootfs/data/random.bin')).Length | Should -Be 1MB
    }

    It 'rejects a corrupt archive and adds nothing' {
        $bad = Join-Path $TestDrive 'bad.tar.gz'
        [IO.File]::WriteAllBytes($bad, [byte[]](0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5))
        Import-Image $bad -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        Get-Image | Should -BeNullOrEmpty
    }
}
