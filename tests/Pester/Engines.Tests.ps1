#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The same stories as tests/ImageModule.Tests/EngineStories.cs and PodmanStories.cs: a real dockerd and podman's
# API service, each with its own root and socket, started here and stopped gracefully in AfterAll.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
    # SIGTERM and a bounded wait, so the daemon unmounts what it mounted and stops its containerd; killed only if it
    # does not stop in time. Whatever is still mounted under the root is unmounted before the root is removed.
    function Stop-Daemon($Process, [int]$TimeoutSeconds = 60) {
        if (-not $Process -or $Process.HasExited) { return }
        kill -TERM $Process.Id
        if (-not $Process.WaitForExit($TimeoutSeconds * 1000)) {
            Write-Warning "$($Process.ProcessName) did not stop within ${TimeoutSeconds}s of SIGTERM; killing it"
            $Process.Kill($true)
            $Process.WaitForExit(10000) | Out-Null
        }
    }
    function Dismount-Under([string]$Path) {
        $mounts = Get-Content /proc/self/mountinfo | ForEach-Object { ($_ -split ' ')[4] } | Where-Object { $_ -like "$Path/*" }
        foreach ($mount in $mounts | Sort-Object Length -Descending) { umount -l $mount 2>$null; $global:LASTEXITCODE = 0 }
    }
    function New-BusyboxRootfs([string]$Name, [int]$RandomMB = 0) {
        $fs = Join-Path $TestDrive "$Name-fs"
        New-Item -ItemType Directory (Join-Path $fs 'bin') -Force | Out-Null
        Copy-Item /bin/busybox (Join-Path $fs 'bin/busybox')
        foreach ($applet in 'sh', 'echo') { New-Item -ItemType SymbolicLink -Path (Join-Path $fs "bin/$applet") -Target busybox | Out-Null }
        if ($RandomMB) { $bytes = [byte[]]::new($RandomMB * 1MB); [Random]::new($RandomMB).NextBytes($bytes); [IO.File]::WriteAllBytes((Join-Path $fs 'random.bin'), $bytes) }
        tar -C $fs -cf (Join-Path $TestDrive "$Name.tar") .
        Join-Path $TestDrive "$Name.tar"
    }
    $root = Join-Path $saved.Root 'engines'
    New-Item -ItemType Directory $root | Out-Null
    $dockerSocket = Join-Path $root 'docker.sock'
    # Daemon output goes to files (a failed start throws with their tail), never into the test output.
    $dockerd = Start-Process dockerd -PassThru -RedirectStandardOutput (Join-Path $root 'dockerd.out') -RedirectStandardError (Join-Path $root 'dockerd.log') -ArgumentList @(
        '--storage-driver=vfs', '--iptables=false', '--bridge=none', '--data-root', (Join-Path $root 'data'),
        '--exec-root', (Join-Path $root 'exec'), '--pidfile', (Join-Path $root 'docker.pid'), '--host', "unix://$dockerSocket")
    $podmanArgs = @('--storage-driver', 'vfs', '--root', (Join-Path $root 'podman'), '--runroot', (Join-Path $root 'podman-run'))
    $podmanSocket = Join-Path $root 'podman.sock'
    $podman = Start-Process podman -PassThru -RedirectStandardOutput (Join-Path $root 'podman.out') -RedirectStandardError (Join-Path $root 'podman.log') `
        -ArgumentList ($podmanArgs + @('system', 'service', '--time=0', "unix://$podmanSocket"))
    function Test-EngineReady([string]$Socket, $Process, [string]$Log) {
        if ($Process.HasExited) { throw "$($Process.ProcessName) exited with $($Process.ExitCode): $(Get-Content -Tail 20 $Log)" }
        if (-not (Test-Path $Socket)) { return $false }
        # /version, not just /_ping: podman loads its storage on the first real call, which can take seconds on a busy
        # machine; the module's own 5 s reachability check must not pay for that in the first test.
        try { (Invoke-WebRequest -UnixSocket $Socket 'http://engine/version' -TimeoutSec 30).StatusCode -eq 200 } catch { $false }
    }
    Wait-Until -TimeoutSeconds 90 -Message 'dockerd did not answer /version' { Test-EngineReady $dockerSocket $dockerd (Join-Path $root 'dockerd.log') }
    Wait-Until -TimeoutSeconds 90 -Message 'podman system service did not answer /version' { Test-EngineReady $podmanSocket $podman (Join-Path $root 'podman.log') }
    $docker = "unix://$dockerSocket"; $pod = "unix://$podmanSocket"

}

AfterAll {
    try {
        Stop-Daemon $dockerd
        Stop-Daemon $podman
        $PSNativeCommandUseErrorActionPreference = $false
        Dismount-Under $root
        Get-Content /proc/self/mountinfo | Where-Object { $_ -like "* $root/*" } | Should -BeNullOrEmpty -Because 'no mount of the test daemons is left behind'
    }
    finally { Exit-TestIsolation $saved }
}

Describe 'Engines' {
    BeforeEach { New-TestStore }

    It 'removes only the large docker images, and not one a container uses without -Force' {
        docker -H $docker import (New-BusyboxRootfs big 110) stories/big:1 | Out-Null
        docker -H $docker import (New-BusyboxRootfs small) stories/small:1 | Out-Null
        docker -H $docker import (New-BusyboxRootfs busy 105) stories/busy:1 | Out-Null
        docker -H $docker create --network=none stories/busy:1 /bin/sh | Out-Null
        $PSDefaultParameterValues['*-Image*:Engine'] = $docker
        try {
            $whatIf = Get-WhatIfText { Get-Image | Where-Object Size -gt 100MB | Remove-Image -WhatIf }
            $whatIf.Count | Should -Be 2
            ($whatIf -join "`n") | Should -Match 'stories/big:1'
            ($whatIf -join "`n") | Should -Match 'stories/busy:1'
            docker -H $docker images --format '{{.Repository}}' | Sort-Object | Should -Be 'stories/big', 'stories/busy', 'stories/small'
            Get-Image | Where-Object Size -gt 100MB | Remove-Image -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -Be 'ImageInUse,ImageModule.Commands.RemoveImageCommand'
            docker -H $docker images --format '{{.Repository}}' | Sort-Object | Should -Be 'stories/busy', 'stories/small'
        }
        finally { $PSDefaultParameterValues.Remove('*-Image*:Engine') }
    }

    It 'moves a store image to podman and back with its ID, and podman runs it' {
        $image = Import-Image (New-BusyboxRootfs pod) -Name stories/pod:1 -Change 'CMD ["/bin/sh"]'
        $whatIf = Get-WhatIfText { Get-Image stories/pod:1 | Copy-EngineImage -Engine $pod -WhatIf }
        $whatIf | Should -HaveCount 1
        $whatIf[0] | Should -BeLike "What if: *$pod*"
        podman @podmanArgs images --format '{{.Repository}}' | Should -Not -BeLike '*stories/pod'
        (Get-Image stories/pod:1 | Copy-EngineImage -Engine $pod).Id | Should -Be $image.Id
        $name = podman @podmanArgs images --format '{{.Repository}}:{{.Tag}}' | Where-Object { $_ -like '*stories/pod:1' }
        $name | Should -HaveCount 1
        Invoke-Native { podman @podmanArgs run --rm --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 $name sh -c 'echo from podman' } | Should -Be 'from podman'
        Remove-Image stories/pod:1
        Get-Image | Should -BeNullOrEmpty
        (Get-Image -Engine $pod stories/pod:1 | Copy-EngineImage).Id | Should -Be $image.Id
        (Get-Image stories/pod:1).Id | Should -Be $image.Id
        Get-ImageFile -Engine $pod stories/pod:1 -Path 'bin/*' | ForEach-Object Path | Should -Contain '/bin/busybox'
    }
}
