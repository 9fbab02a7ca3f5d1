# Helpers the Pester files share: real docker-registry processes on loopback and small rootfs tarballs.
# Dot-sourced inside BeforeAll, so $TestDrive is the calling file's.

function Get-FreePort { $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0); $l.Start(); $p = $l.LocalEndpoint.Port; $l.Stop(); $p }
function Start-TestRegistry([string]$User, [string]$Password, [string]$Extra = '', [switch]$Tls) {
    $root = Join-Path $TestDrive ([Guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory $root | Out-Null
    $port = Get-FreePort
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
        htpasswd -Bbn $User $Password | Set-Content (Join-Path $root 'htpasswd')
        $Extra += "auth:`n  htpasswd:`n    realm: test`n    path: $(Join-Path $root 'htpasswd')`n"
    }
    "version: 0.1`nstorage:`n  filesystem:`n    rootdirectory: $root/data`n  delete:`n    enabled: true`nhttp:`n  addr: 127.0.0.1:$port`n$tlsConfig$Extra" | Set-Content (Join-Path $root 'config.yml')
    $process = Start-Process docker-registry -ArgumentList 'serve', (Join-Path $root 'config.yml') -PassThru -RedirectStandardError (Join-Path $root 'log')
    foreach ($i in 1..150) {
        try { Invoke-WebRequest "${scheme}://127.0.0.1:$port/v2/" -SkipHttpErrorCheck -SkipCertificateCheck -TimeoutSec 2 | Out-Null; break } catch { Start-Sleep -Milliseconds 100 }
    }
    [pscustomobject]@{ Process = $process; Host = "127.0.0.1:$port"; Url = "${scheme}://127.0.0.1:$port"; Root = $root; CA = $ca }
}
function New-TestRootfs([string]$Name, [int]$Seed) {
    $root = Join-Path $TestDrive "$Name-rootfs"
    New-Item -ItemType Directory -Path (Join-Path $root 'data') -Force | Out-Null
    $bytes = [byte[]]::new(1MB); [Random]::new($Seed).NextBytes($bytes)
    [IO.File]::WriteAllBytes((Join-Path $root 'data/random.bin'), $bytes)
    tar -C $root -cf (Join-Path $TestDrive "$Name.tar") .
    Join-Path $TestDrive "$Name.tar"
}
