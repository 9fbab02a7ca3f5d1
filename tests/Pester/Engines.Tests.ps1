#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/EngineStories.cs and PodmanStories.cs: a real dockerd and podman's
# API service, each with its own root and socket, started here.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force
    $root = Join-Path ([IO.Path]::GetTempPath()) "imp-$([Guid]::NewGuid().ToString('N').Substring(0, 8))"
    New-Item -ItemType Directory $root | Out-Null
    $dockerSocket = Join-Path $root 'docker.sock'
    $dockerd = Start-Process dockerd -PassThru -RedirectStandardError (Join-Path $root 'dockerd.log') -ArgumentList @(
        '--storage-driver=vfs', '--iptables=false', '--bridge=none', '--data-root', (Join-Path $root 'data'),
        '--exec-root', (Join-Path $root 'exec'), '--pidfile', (Join-Path $root 'docker.pid'), '--host', "unix://$dockerSocket")
    $podmanArgs = @('--storage-driver', 'vfs', '--root', (Join-Path $root 'podman'), '--runroot', (Join-Path $root 'podman-run'))
    $podmanSocket = Join-Path $root 'podman.sock'
    $podman = Start-Process podman -PassThru -ArgumentList ($podmanArgs + @('system', 'service', '--time=0', "unix://$podmanSocket"))
    foreach ($i in 1..150) { if ((Test-Path $dockerSocket) -and (Test-Path $podmanSocket)) { break }; Start-Sleep -Milliseconds 200 }
    $docker = "unix://$dockerSocket"; $pod = "unix://$podmanSocket"
    function New-BusyboxRootfs([string]$Name, [int]$RandomMB = 0) {
        $fs = Join-Path $TestDrive "$Name-fs"
        New-Item -ItemType Directory (Join-Path $fs 'bin') -Force | Out-Null
        Copy-Item /bin/busybox (Join-Path $fs 'bin/busybox')
        foreach ($applet in 'sh', 'echo') { New-Item -ItemType SymbolicLink -Path (Join-Path $fs "bin/$applet") -Target busybox | Out-Null }
        if ($RandomMB) { $bytes = [byte[]]::new($RandomMB * 1MB); [Random]::new($RandomMB).NextBytes($bytes); [IO.File]::WriteAllBytes((Join-Path $fs 'random.bin'), $bytes) }
        tar -C $fs -cf (Join-Path $TestDrive "$Name.tar") .
        Join-Path $TestDrive "$Name.tar"
    }
}

AfterAll {
    Stop-Process $dockerd, $podman -ErrorAction SilentlyContinue
    Remove-Item $root -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Engines' {
    BeforeEach { $env:IMAGEMODULE_STORE = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N')) }

    It 'removes only the large docker images, and not one a container uses without -Force' {
        docker -H $docker import (New-BusyboxRootfs big 110) stories/big:1 | Out-Null
        docker -H $docker import (New-BusyboxRootfs small) stories/small:1 | Out-Null
        docker -H $docker import (New-BusyboxRootfs busy 105) stories/busy:1 | Out-Null
        docker -H $docker create --network=none stories/busy:1 /bin/sh | Out-Null
        $PSDefaultParameterValues['*-Image*:Engine'] = $docker
        try {
            Get-Image | Where-Object Size -gt 100MB | Remove-Image -WhatIf
            docker -H $docker images --format '{{.Repository}}' | Should -Contain 'stories/big'
            Get-Image | Where-Object Size -gt 100MB | Remove-Image -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[0].FullyQualifiedErrorId | Should -Be 'ImageInUse,ImageModule.Commands.RemoveImageCommand'
            docker -H $docker images --format '{{.Repository}}' | Should -Not -Contain 'stories/big'
            docker -H $docker images --format '{{.Repository}}' | Should -Contain 'stories/small'
        }
        finally { $PSDefaultParameterValues.Remove('*-Image*:Engine') }
    }

    It 'moves a store image to podman and back with its ID, and podman runs it' {
        $image = Import-Image (New-BusyboxRootfs pod) -Name stories/pod:1 -Change 'CMD ["/bin/sh"]'
        (Get-Image stories/pod:1 | Copy-EngineImage -Engine $pod).Id | Should -Be $image.Id
        $name = podman @podmanArgs images --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like '*stories/pod:1' }
        podman @podmanArgs run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $name sh -c 'echo from podman' | Should -Be 'from podman'
        Remove-Image stories/pod:1
        (Get-Image -Engine $pod stories/pod:1 | Copy-EngineImage).Id | Should -Be $image.Id
        Get-ImageFile -Engine $pod stories/pod:1 -Path 'bin/*' | ForEach-Object Path | Should -Contain '/bin/busybox'
    }
}
