# This machine's raw throughput for what the operations are made of, so RESULTS.md can say where time goes:
# SHA-256 and gunzip of the largest layer (in .NET, as the module does them), and writing a file with fsync.
param([string]$Blob, [string]$Results, [string]$Work, [int]$WriteMB = 1024)
$ErrorActionPreference = 'Stop'
function Emit([string]$Op, [double]$Seconds, [double]$MB) {
    $line = [string]::Format([Globalization.CultureInfo]::InvariantCulture, '{{"op":"{0}","side":"machine","wall":{1},"cpu":0,"rss_kb":0,"mb":{2}}}', $Op, $Seconds, $MB)
    [IO.File]::AppendAllText($Results, $line + "`n")
}
$size = [IO.FileInfo]::new($Blob).Length / 1MB
$buffer = [byte[]]::new(1MB)
foreach ($round in 1..2) {   # the second round is the one kept: JIT and page cache warmed by the first
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $file = [IO.File]::OpenRead($Blob); [void][Security.Cryptography.SHA256]::HashData($file); $file.Dispose()
    $sha = $clock.Elapsed.TotalSeconds
    $clock.Restart()
    $file = [IO.File]::OpenRead($Blob)
    $gz = [IO.Compression.GZipStream]::new($file, [IO.Compression.CompressionMode]::Decompress)
    $out = 0L; while (($n = $gz.Read($buffer, 0, $buffer.Length)) -gt 0) { $out += $n }
    $gz.Dispose()
    $gunzip = $clock.Elapsed.TotalSeconds
}
Emit 'tp-sha256' $sha $size
Emit 'tp-gunzip-in' $gunzip $size
Emit 'tp-gunzip-out' $gunzip ($out / 1MB)
$path = [IO.Path]::Combine($Work, 'throughput.bin')
$clock = [Diagnostics.Stopwatch]::StartNew()
$file = [IO.FileStream]::new($path, [IO.FileMode]::Create, [IO.FileAccess]::Write, [IO.FileShare]::None, 1)
foreach ($i in 1..$WriteMB) { $file.Write($buffer, 0, $buffer.Length) }
$written = $clock.Elapsed.TotalSeconds
$file.Flush($true); $file.Dispose()
Emit 'tp-write' $written $WriteMB
Emit 'tp-write-fsync' $clock.Elapsed.TotalSeconds $WriteMB
[IO.File]::Delete($path)
