# Runs inside one started engine (imagemodule-run -File), the way a user at a prompt runs a second command.
param([string]$Store, [int]$Images, [int]$Iterations, [string]$Results, [string]$Work, [string]$Reference, [string]$Remote)
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
function Measure-Op([string]$Op, [scriptblock]$Body) {
    foreach ($n in 1..$Iterations) {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        & $Body | Out-Null
        $clock.Stop()
        [IO.File]::AppendAllText($Results, ('{{"op":"{0}","side":"ours-warm","wall":{1},"cpu":0,"rss_kb":0}}' -f $Op, $clock.Elapsed.TotalSeconds) + "`n")
    }
}
Measure-Op 'list-warm' { Get-Image -StorePath $Store }
Measure-Op 'filter-warm' { Get-Image -StorePath $Store | Where-Object Size -gt 100MB }

# Save, load and expand of the reference image, warm (the same engine, a second command).
$refStore = [IO.Path]::Combine($Work, 'warm-store')
Import-Image -Path $Reference -StorePath $refStore | Out-Null
$n = 0
Measure-Op 'save' { Save-Image bench/ref:1 -StorePath $refStore -Path ([IO.Path]::Combine($Work, 'warm.tar')) -Force }
Measure-Op 'load' { $script:n++; Import-Image -Path $Reference -StorePath ([IO.Path]::Combine($Work, "warm-load-$script:n")) }
Measure-Op 'expand' { $script:n++; Expand-Image bench/ref:1 -StorePath $refStore -DestinationPath ([IO.Path]::Combine($Work, "warm-x-$script:n")) }

# Pull into an empty store and re-pull with every blob present, warm; push to a new repository, warm.
Measure-Op 'pull' { $script:n++; Install-Image $Remote -StorePath ([IO.Path]::Combine($Work, "warm-pull-$script:n")) }
$pulled = [IO.Path]::Combine($Work, "warm-pull-$n")
Measure-Op 'repull' { Install-Image $Remote -StorePath $pulled }
$registry = $Remote.Substring(0, $Remote.IndexOf('/'))
Measure-Op 'push' { $script:n++; Publish-Image bench/ref:1 -StorePath $refStore -Destination "$registry/warm-push-$script:n/ref:1" }
foreach ($dir in [IO.Directory]::GetDirectories($Work, 'warm-*')) { [IO.Directory]::Delete($dir, $true) }
