#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Ctrl+C on long-running cmdlets: the pipeline is stopped (PowerShell.Stop(), what Ctrl+C does) while the command
# is writing, it ends promptly, and it leaves no half-written temp file and never a partial target.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
    $manifest = (Get-Module ImageModule).Path -replace '\.dll$', '.psd1'
    # Starts $Script in a runspace of its own, waits (bounded) until $Started holds, stops it (asserting it was
    # stopped, not finished), returns the seconds the stop took.
    function Stop-Midway([string]$Script, [scriptblock]$Started) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$manifest'; $Script")
            $async = $ps.BeginInvoke()
            Wait-Until -TimeoutSeconds 60 -Message "never started: $Script" { (& $Started) -or $async.IsCompleted }
            # Never enumerate $ps.Streams.Error here: a PSDataCollection's enumerator blocks until the command ends,
            # which made the stop come only after the command had finished.
            $async.IsCompleted | Should -BeFalse -Because 'the command must still be running when it is stopped'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped' -Because 'Ctrl+C must stop the command, not wait for it to finish'
            $clock.Elapsed.TotalSeconds
        }
        finally { $ps.Dispose() }
    }
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Ctrl+C' {
    BeforeAll {
        New-TestStore
        Import-Image (New-TestRootfs big 95 -Megabytes 200) -Name big:1 | Out-Null
    }

    It 'stops Save-Image and leaves no archive, whole or partial' {
        $path = Join-Path $TestDrive 'saved.tar'
        $seconds = Stop-Midway "Save-Image big:1 -Path '$path'" { @(Get-ChildItem -Force $TestDrive -Filter '.saved.tar.tmp-*').Count -gt 0 }
        $seconds | Should -BeLessThan 10
        Wait-Until -TimeoutSeconds 10 -Message 'temp archive left behind' { @(Get-ChildItem -Force $TestDrive -Filter '.saved.tar.tmp-*').Count -eq 0 }
        # Stopped, or (on a race with the last write) finished: never a partial archive under the target's name.
        if (Test-Path $path) { (tar -tf $path) | Should -Not -BeNullOrEmpty }
    }

    It 'stops Export-Image and leaves no tarball, whole or partial' {
        $path = Join-Path $TestDrive 'flat.tar'
        $seconds = Stop-Midway "Export-Image big:1 -Path '$path'" { @(Get-ChildItem -Force $TestDrive -Filter '.flat.tar.tmp-*').Count -gt 0 }
        $seconds | Should -BeLessThan 10
        Wait-Until -TimeoutSeconds 10 -Message 'temp tarball left behind' { @(Get-ChildItem -Force $TestDrive -Filter '.flat.tar.tmp-*').Count -eq 0 }
        # Stopped, or (on a race with the last write) finished: never a partial tarball under the target's name.
        if (Test-Path $path) { (tar -tf $path) -replace '^\./', '' | Should -Contain 'data/random.bin' }
    }

    It 'stops Expand-Image and leaves neither the target nor its staging directory' {
        $target = Join-Path $TestDrive 'rootfs'
        $seconds = Stop-Midway "Expand-Image big:1 -DestinationPath '$target'" {
            @(Get-ChildItem -Force -Directory $TestDrive -Filter '.rootfs.tmp-*').Count -gt 0 }
        $seconds | Should -BeLessThan 10
        Wait-Until -TimeoutSeconds 10 -Message 'expand staging left behind' {
            @(Get-ChildItem -Force -Directory $TestDrive -Filter '.rootfs.tmp-*').Count -eq 0 }
        Test-Path $target | Should -BeFalse -Because 'a stopped expand leaves no half-expanded tree'
    }

    It 'stops Copy-Image to an OCI layout and names nothing there' {
        $layout = Join-Path $TestDrive 'copied-layout'
        $staging = Join-Path $layout '.imagemodule/tmp'
        $seconds = Stop-Midway "Copy-Image store:big:1 'oci:$($layout):big'" {
            (Test-Path $staging) -and @(Get-ChildItem -Recurse -File -Force $staging -ErrorAction SilentlyContinue).Count -gt 0 }
        $seconds | Should -BeLessThan 10
        $index = Join-Path $layout 'index.json'
        if (Test-Path $index) { (Get-Content -Raw $index | ConvertFrom-Json).manifests | Should -BeNullOrEmpty -Because 'a stopped copy names nothing' }
        Wait-Until -TimeoutSeconds 10 -Message 'staging left behind by a stopped copy' {
            @(Get-ChildItem -Recurse -File -Force $staging -ErrorAction SilentlyContinue).Count -eq 0 }
    }

    It 'stops Import-Image of an archive and names nothing, leaving no staging' {
        $archive = Join-Path $TestDrive 'big.oci.tar'
        Save-Image big:1 -Path $archive -Format Oci | Out-Null
        $store = Join-Path $TestDrive "import-store-$([Guid]::NewGuid().ToString('N'))"
        $staging = Join-Path $store '.imagemodule/tmp'
        $seconds = Stop-Midway "Import-Image -Path '$archive' -StorePath '$store'" {
            (Test-Path $staging) -and @(Get-ChildItem -Recurse -File -Force $staging -ErrorAction SilentlyContinue).Count -gt 0 }
        $seconds | Should -BeLessThan 10
        @(Get-Image -StorePath $store) | Should -BeNullOrEmpty -Because 'a stopped import names nothing'
        Wait-Until -TimeoutSeconds 10 -Message 'staging left behind by a stopped import' {
            @(Get-ChildItem -Recurse -File -Force $staging -ErrorAction SilentlyContinue).Count -eq 0 }
    }

    It 'stops Publish-Image and tags nothing at the registry' {
        $registry = Start-TestRegistry
        try {
            $remote = "$($registry.Host)/team/big:1"
            # Stopped once the upload has started (its POST is logged), while the 200 MB layer is on its way.
            $seconds = Stop-Midway "Publish-Image big:1 -Destination '$remote'" {
                @(Get-RegistryRequest $registry | Where-Object { $_ -match '^POST /v2/team/big/blobs/uploads/' }).Count -gt 0 }
            $seconds | Should -BeLessThan 10
            @(Get-RegistryRequest $registry | Where-Object { $_ -match '^PUT /v2/team/big/manifests/' }) | Should -BeNullOrEmpty -Because 'a stopped push names nothing'
        }
        finally { Stop-TestRegistry $registry }
    }
}

Describe 'A store another process has locked' {
    BeforeAll {
        New-TestStore
        Import-Image (New-TestRootfs held 11) -Name held:1 | Out-Null
        $lock = Join-Path $env:IMAGEMODULE_STORE '.imagemodule/lock'
        # Another process holding the store's lock exclusively, as a running Remove-Image does: flock(1) takes the same
        # kernel lock .NET takes for the module's exclusive mode.
        function Lock-Store {
            $holder = Start-Process flock -ArgumentList '-x', $lock, 'sleep', '120' -PassThru
            Wait-Until -TimeoutSeconds 10 -Message 'flock never took the lock' {
                & { $PSNativeCommandUseErrorActionPreference = $false; flock -n -s $lock true; $LASTEXITCODE -ne 0 } }
            $holder
        }
        function Unlock-Store($Holder) { Stop-Process $Holder -Force; $Holder.WaitForExit(10000) | Out-Null }
    }

    AfterEach { Remove-Item Env:IMAGEMODULE_STORE_LOCK_TIMEOUT -ErrorAction SilentlyContinue }

    It 'is StoreBusy after the wait the user set, and the image is still there' {
        $holder = Lock-Store
        try {
            $env:IMAGEMODULE_STORE_LOCK_TIMEOUT = '2'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $failure = try { Remove-Image held:1 -ErrorAction Stop; $null } catch { $_ }
            $clock.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 2
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
            $failure.FullyQualifiedErrorId | Should -BeLike 'StoreBusy,*'
            $failure.CategoryInfo.Category | Should -Be 'ResourceUnavailable'
            $failure.Exception.Message | Should -Match 'locked by another process .*waited 2 s.*IMAGEMODULE_STORE_LOCK_TIMEOUT'
        }
        finally { Unlock-Store $holder }
        (Get-Image held:1).Name | Should -Be 'docker.io/library/held:1'
    }

    It 'stops waiting at Ctrl+C' {
        $holder = Lock-Store
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$manifest'; Remove-Image held:1")
            $async = $ps.BeginInvoke()
            # Nothing outside shows the wait itself; a moment in, the command is waiting on the lock (it cannot finish
            # before the 60 s default wait runs out).
            $started = [Diagnostics.Stopwatch]::StartNew()
            Wait-Until -TimeoutSeconds 10 -Message 'the command ended while the store was locked' { $started.Elapsed.TotalSeconds -ge 2 -or $async.IsCompleted }
            $async.IsCompleted | Should -BeFalse -Because 'the command waits for the lock'
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        }
        finally { $ps.Dispose(); Unlock-Store $holder }
        (Get-Image held:1).Name | Should -Be 'docker.io/library/held:1'
    }
}
