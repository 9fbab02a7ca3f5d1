# Runs inside one started engine (pwsh -File), the way a user at a prompt runs a second command.
param([string]$Store, [int]$Images, [int]$Iterations, [string]$Results, [string]$Work, [string]$Reference, [string]$Layout, [string]$Remote, [string]$PushRegistries)
$ErrorActionPreference = 'Stop'
$root = [IO.Path]::Combine($Work, 'tiny-rootfs')
[void][IO.Directory]::CreateDirectory($root)
foreach ($i in 1..$Images) {
    [IO.File]::WriteAllText([IO.Path]::Combine($root, 'id.txt'), "image $i")
    $tar = [IO.Path]::Combine($Work, 'tiny.tar')
    & tar -C $root -cf $tar .
    Import-Image -Path $tar -Name ("many/app{0}:v{1}" -f ($i % 50), $i) -StorePath $Store | Out-Null
}
Get-Image -StorePath $Store | Out-Null   # first listing fills the cache, as any later session finds it
# Cleanup runs after the clock stops: what one timed run wrote must not weigh on the next (the cold runs delete too).
function Measure-Op([string]$Op, [scriptblock]$Body, [scriptblock]$Cleanup = {}) {
    foreach ($n in 1..$Iterations) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Body | Out-Null
        $clock.Stop()
        & $Cleanup
        [IO.File]::AppendAllText($Results, ('{{"op":"{0}","side":"ours-warm","wall":{1},"cpu":0,"rss_kb":0}}' -f $Op, $clock.Elapsed.TotalSeconds) + "`n")
    }
}
Measure-Op 'list-warm' { Get-Image -StorePath $Store }
Measure-Op 'filter-warm' { Get-Image -StorePath $Store | Where-Object Size -gt 100MB }

# Save, load and expand of the reference image, warm (the same engine, a second command).
$refStore = [IO.Path]::Combine($Work, 'warm-store')
Copy-Image -Source "oci:${Layout}:bench" -Destination store:bench/ref:1 -StorePath $refStore | Out-Null
$scratch = [IO.Path]::Combine($Work, 'warm-scratch')
$removeScratch = { if ([IO.Directory]::Exists($scratch)) { [IO.Directory]::Delete($scratch, $true) } }
$archive = [IO.Path]::Combine($Work, 'warm.tar')
Measure-Op 'save' { Save-Image bench/ref:1 -StorePath $refStore -Path $archive } { [IO.File]::Delete($archive) }
Measure-Op 'load' { Import-Image -Path $Reference -StorePath $scratch } $removeScratch
Measure-Op 'expand' { Expand-Image bench/ref:1 -StorePath $refStore -DestinationPath $scratch } $removeScratch

# Pull into an empty store and re-pull with every blob present, warm; push to an empty registry (one per push), warm.
Measure-Op 'pull' { Install-Image $Remote -StorePath $scratch } $removeScratch
Install-Image $Remote -StorePath $scratch | Out-Null
Measure-Op 'repull' { Install-Image $Remote -StorePath $scratch }
$targets = $PushRegistries.Split(',')
$pushes = 0
Measure-Op 'push' { $target = $targets[$script:pushes++]; Publish-Image bench/ref:1 -StorePath $refStore -Destination "$target/push/ref:1" }
foreach ($dir in [IO.Directory]::GetDirectories($Work, 'warm-*')) { [IO.Directory]::Delete($dir, $true) }
