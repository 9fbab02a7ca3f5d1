#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/ArchiveStories.cs, under real pwsh.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Archives' {
    BeforeEach { New-TestStore }

    It 'saves two images into one file that loads into an empty store with the same IDs' {
        $one = Import-Image (New-TestRootfs one 21) -Name save/one:1
        $two = Import-Image (New-TestRootfs two 22) -Name save/two:2
        $archive = Join-Path $TestDrive 'both.tar'
        $file = Get-Image 'save/*' | Save-Image -Path $archive
        $file | Should -BeOfType [IO.FileInfo]
        $file.FullName | Should -Be $archive
        (skopeo inspect --config "docker-archive:${archive}:docker.io/save/one:1" | ConvertFrom-Json).rootfs.diff_ids | Should -Be $one.LayerDiffIds
        (skopeo inspect --config "oci-archive:${archive}:2" | ConvertFrom-Json).rootfs.diff_ids | Should -Be $two.LayerDiffIds
        Get-Image | Remove-Image
        Get-Image | Should -BeNullOrEmpty
        $loaded = Import-Image -Path $archive
        ($loaded.Id | Sort-Object) | Should -Be (@($one.Id, $two.Id) | Sort-Object)
        (Get-Image).Name | Sort-Object | Should -Be 'docker.io/save/one:1', 'docker.io/save/two:2'
    }

    It 'loads a gzip-compressed archive whatever its name' {
        $image = Import-Image (New-TestRootfs zipped 23) -Name zipped:1
        $archive = Join-Path $TestDrive 'zipped.bin'
        Save-Image zipped:1 -Path $archive -Compress | Out-Null
        $head = [byte[]]::new(2); $stream = [IO.File]::OpenRead($archive); try { $stream.ReadExactly($head) } finally { $stream.Dispose() }
        $head | Should -Be 0x1f, 0x8b
        Remove-Image zipped:1
        Get-Image | Should -BeNullOrEmpty
        (Import-Image $archive).Id | Should -Be $image.Id
        (Get-Image zipped:1).Id | Should -Be $image.Id
    }

    It 'imports a rootfs tarball with config changes' {
        $image = Import-Image (New-TestRootfs changes 24) -Name tools:1 -Change 'ENV MODE=prod', 'WORKDIR /data'
        $image.Config.Env | Should -Contain 'MODE=prod'
        $image.Config.WorkingDir | Should -Be '/data'
        $files = Get-ImageFile tools:1 -Path 'data/*'
        $files.Path | Should -Be '/data/random.bin'
        $files.Size | Should -Be 1MB
    }

    It 'exports and expands the filesystem' {
        Import-Image (New-TestRootfs fs 25) -Name fs:1 | Out-Null
        $flat = Join-Path $TestDrive 'flat.tar'
        Export-Image fs:1 -Path $flat | Should -BeOfType [IO.FileInfo]
        (tar -tf $flat) -replace '^\./', '' | Should -Contain 'data/random.bin'
        Expand-Image fs:1 -DestinationPath (Join-Path $TestDrive 'rootfs') | Out-Null
        $expanded = Join-Path $TestDrive 'rootfs/data/random.bin'
        (Get-Item $expanded).Length | Should -Be 1MB
        $original = Join-Path $TestDrive 'original'
        New-Item -ItemType Directory $original | Out-Null
        tar -C $original -xf (Join-Path $TestDrive 'fs.tar') 2>$null
        (Get-FileHash $expanded).Hash | Should -Be (Get-FileHash (Join-Path $original 'data/random.bin')).Hash
    }

    It 'rejects a corrupt gzip archive as a non-terminating ArchiveCorrupt error, adds nothing, and goes on' {
        # The defect (issue 15 §2): a raw System.IO.InvalidDataException that ignored -ErrorAction and stopped the
        # rest of the pipeline input. The good archive after the bad one must still be imported.
        $bad = Join-Path $TestDrive 'bad.tar.gz'
        [IO.File]::WriteAllBytes($bad, [byte[]](0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5))
        $image = Import-Image (New-TestRootfs good 26) -Name good:1
        $good = Join-Path $TestDrive 'good-image.tar'
        Save-Image good:1 -Path $good | Out-Null
        Remove-Image good:1
        $imported = $bad, $good | Import-Image -ErrorVariable errors -ErrorAction SilentlyContinue
        $errors.Count | Should -Be 1
        $errors[0].FullyQualifiedErrorId | Should -Be 'ArchiveCorrupt,ImageModule.Commands.ImportImageCommand'
        $errors[0].CategoryInfo.Category | Should -Be 'InvalidData'
        @($imported).Id | Should -Be $image.Id
        (Get-Image).Name | Should -Be 'docker.io/library/good:1'
    }
}
