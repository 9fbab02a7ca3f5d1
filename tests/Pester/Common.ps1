# Helpers every Pester file shares. Dot-source it first thing in the file's top-level BeforeAll, right after
# `$ErrorActionPreference = 'Stop'` and `$PSNativeCommandUseErrorActionPreference = $true` (so a failed cmdlet or
# native command fails the test), then `$saved = Enter-TestIsolation` and, in AfterAll, `Exit-TestIsolation $saved`.
# Every loop here is bounded in count and time; no fixed sleeps stand in for readiness.

Import-Module (Join-Path $PSScriptRoot '../../out/ImageModule/ImageModule.psd1') -Force

# The variables that point the module (and docker, skopeo, podman) at user files: each file gets its own temp
# folder for them, so a test never reads or writes the real ~/.docker/config.json, registry settings or store.
# (Not REGISTRY_AUTH_FILE: docker-registry reads every REGISTRY_* variable as a setting of its own.)
$script:IsolatedVariables = 'DOCKER_CONFIG', 'IMAGEMODULE_REGISTRY_CONFIG', 'IMAGEMODULE_STORE'

function Enter-TestIsolation {
    # Short: podman refuses a run root longer than 50 characters, and the engines file puts one in here.
    $root = Join-Path ([IO.Path]::GetTempPath()) "imp-$([Guid]::NewGuid().ToString('N').Substring(0, 10))"
    New-Item -ItemType Directory $root | Out-Null
    $saved = @{ Root = $root }
    foreach ($name in $script:IsolatedVariables) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
    $env:DOCKER_CONFIG = Join-Path $root 'docker'
    # An empty docker config, as after a fresh install: podman refuses to run when DOCKER_CONFIG names no file.
    New-Item -ItemType Directory $env:DOCKER_CONFIG | Out-Null
    Set-Content (Join-Path $env:DOCKER_CONFIG 'config.json') '{}'
    $env:IMAGEMODULE_REGISTRY_CONFIG = Join-Path $root 'registries.json'
    $env:IMAGEMODULE_STORE = Join-Path $root 'store'
    $saved
}

function Exit-TestIsolation([hashtable]$Saved) {
    if (-not $Saved) { return }
    # The old values come back exactly, unset ones unset: never $null-ed over what the caller had.
    foreach ($name in $script:IsolatedVariables) { [Environment]::SetEnvironmentVariable($name, $Saved[$name]) }
    Remove-Item $Saved.Root -Recurse -Force -ErrorAction SilentlyContinue
    if (Test-Path $Saved.Root) { rm -rf $Saved.Root }
}

# Runs native commands with their standard error kept in a file (progress and chatter stay out of the test output);
# a non-zero exit throws with the end of that standard error. Returns standard output.
#   Invoke-Native { podman run --rm $image sh -c 'echo hi' }
function Invoke-Native([scriptblock]$Script) {
    $errFile = [IO.Path]::GetTempFileName()
    try {
        $PSNativeCommandUseErrorActionPreference = $false
        $global:LASTEXITCODE = 0
        $output = & $Script 2>$errFile
        if ($LASTEXITCODE) { throw "{$Script} exited with ${LASTEXITCODE}: $((Get-Content $errFile -Tail 15) -join "`n")" }
        $output
    }
    finally { Remove-Item $errFile -ErrorAction SilentlyContinue }
}

# A fresh empty store for one test (the BeforeEach of most files).
function New-TestStore { $env:IMAGEMODULE_STORE = Join-Path $TestDrive "store-$([Guid]::NewGuid().ToString('N'))" }

# Runs $Script with a transcript and returns the "What if:" lines PowerShell wrote to the host.
function Get-WhatIfText([scriptblock]$Script) {
    $file = Join-Path $TestDrive "whatif-$([Guid]::NewGuid().ToString('N')).txt"
    Start-Transcript -Path $file -UseMinimalHeader | Out-Null
    try { & $Script | Out-Null } finally { Stop-Transcript | Out-Null }
    , @((Get-Content $file) -match '^What if: ')
}

# Waits (bounded) until $Condition returns true; throws $Message otherwise.
function Wait-Until([scriptblock]$Condition, [string]$Message, [int]$TimeoutSeconds = 30) {
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after ${TimeoutSeconds}s: $Message" }
        Start-Sleep -Milliseconds 50
    }
}

# A real docker-registry on loopback. It binds port 0 itself and we read the port it got from its log, so no port is
# picked, released and raced for. Access logs (stdout) and its own log (stderr) go to files under its root.
function Start-TestRegistry([string]$User, [string]$Password, [string]$Extra = '', [switch]$Tls) {
    $root = Join-Path $TestDrive "registry-$([Guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $root | Out-Null
    $scheme = 'http'; $tlsConfig = ''; $ca = $null
    if ($Tls) {
        $rsa = [Security.Cryptography.RSA]::Create(2048)
        $request = [Security.Cryptography.X509Certificates.CertificateRequest]::new('CN=registry', $rsa, 'SHA256', [Security.Cryptography.RSASignaturePadding]::Pkcs1)
        $names = [Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder]::new(); $names.AddIpAddress([Net.IPAddress]::Loopback)
        $request.CertificateExtensions.Add($names.Build())
        $request.CertificateExtensions.Add([Security.Cryptography.X509Certificates.X509BasicConstraintsExtension]::new($true, $false, 0, $true))
        $cert = $request.CreateSelfSigned([DateTimeOffset]::UtcNow.AddMinutes(-5), [DateTimeOffset]::UtcNow.AddDays(1))
        $ca = Join-Path $root 'registry.pem'
        Set-Content $ca $cert.ExportCertificatePem()
        Set-Content (Join-Path $root 'registry.key') $rsa.ExportPkcs8PrivateKeyPem()
        $tlsConfig = "  tls:`n    certificate: $ca`n    key: $(Join-Path $root 'registry.key')`n"
        $scheme = 'https'
    }
    if ($User) {
        htpasswd -Bbn $User $Password 2>$null | Set-Content (Join-Path $root 'htpasswd')
        $Extra += "auth:`n  htpasswd:`n    realm: test`n    path: $(Join-Path $root 'htpasswd')`n"
    }
    "version: 0.1`nstorage:`n  filesystem:`n    rootdirectory: $root/data`n  delete:`n    enabled: true`nhttp:`n  addr: 127.0.0.1:0`n$tlsConfig$Extra" | Set-Content (Join-Path $root 'config.yml')
    $log = Join-Path $root 'registry.log'
    $process = Start-Process docker-registry -ArgumentList 'serve', (Join-Path $root 'config.yml') -PassThru `
        -RedirectStandardOutput (Join-Path $root 'access.log') -RedirectStandardError $log
    $found = @{}
    Wait-Until -TimeoutSeconds 30 -Message "docker-registry did not start (log: $log)" {
        if ($process.HasExited) { throw "docker-registry exited with $($process.ExitCode): $(Get-Content -Raw $log)" }
        $line = Select-String -Path $log -Pattern 'listening on 127\.0\.0\.1:(\d+)' -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($line) { $found.Port = [int]$line.Matches[0].Groups[1].Value }
        [bool]$line
    }
    $port = $found.Port
    $url = "${scheme}://127.0.0.1:$port"
    Wait-Until -TimeoutSeconds 30 -Message "docker-registry at $url did not answer /v2/" {
        try { Invoke-WebRequest "$url/v2/" -SkipHttpErrorCheck -SkipCertificateCheck -TimeoutSec 2 | Out-Null; $true } catch { $false }
    }
    [pscustomobject]@{ Process = $process; Host = "127.0.0.1:$port"; Url = $url; Root = $root; CA = $ca; AccessLog = (Join-Path $root 'access.log') }
}

function Stop-TestRegistry([Parameter(ValueFromPipeline)]$Registry) {
    process {
        if (-not $Registry -or $Registry.Process.HasExited) { return }
        $Registry.Process.Kill()
        if (-not $Registry.Process.WaitForExit(10000)) { throw "docker-registry $($Registry.Host) did not exit" }
    }
}

# The request lines ("GET /v2/... HTTP/1.1") a test registry logged, in order.
function Get-RegistryRequest($Registry) {
    @(Get-Content $Registry.AccessLog -ErrorAction SilentlyContinue | ForEach-Object { if ($_ -match '"([A-Z]+ [^"]+ HTTP/[0-9.]+)"') { $Matches[1] } })
}

# Serves the same HTTP response body to every request on a loopback listener bound before this returns (port 0),
# in a thread job, until Stop-TestHttpServer; returns its port. Used where a test replays a recorded response.
# Bytes that are not HTTP (a TLS hello) get the same answer, which the client rejects as it should.
function Start-TestHttpServer([string]$Body) {
    $listener = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
    $listener.Start()
    $job = Start-ThreadJob -ArgumentList $listener, $Body {
        param($listener, $body)
        $served = 0
        foreach ($i in 1..1000) {
            try { $client = $listener.AcceptTcpClient() } catch { break }   # stopped
            try {
                $stream = $client.GetStream(); $stream.ReadTimeout = 10000
                $reader = [IO.StreamReader]::new($stream, [Text.Encoding]::ASCII, $false, 1024, $true)
                while ($line = $reader.ReadLine()) { }
                $bytes = [Text.Encoding]::UTF8.GetBytes($body)
                $head = [Text.Encoding]::ASCII.GetBytes("HTTP/1.1 200 OK`r`nContent-Type: application/json`r`nContent-Length: $($bytes.Length)`r`nConnection: close`r`n`r`n")
                $stream.Write($head, 0, $head.Length); $stream.Write($bytes, 0, $bytes.Length); $stream.Flush()
                $served++
            }
            catch { }
            finally { $client.Dispose() }
        }
        $served
    }
    [pscustomobject]@{ Port = $listener.LocalEndpoint.Port; Job = $job; Listener = $listener }
}

# Stops the server and returns how many requests it answered.
function Stop-TestHttpServer($Server) {
    $Server.Listener.Stop()
    $Server.Job | Wait-Job -Timeout 30 | Out-Null
    $served = $Server.Job | Receive-Job
    $Server.Job | Remove-Job -Force
    $served
}

# A rootfs tarball with one file of $Megabytes random megabytes (seeded) under data/.
function New-TestRootfs([string]$Name, [int]$Seed, [int]$Megabytes = 1) {
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
