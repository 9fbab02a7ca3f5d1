#Requires -Version 5.1
<#
.SYNOPSIS
    Builds ImageModule into out/ImageModule (a folder Import-Module loads); -Test also runs the test suites.
#>
param(
    [switch]$Test,
    [ValidateSet('Debug', 'Release')]
    [string]$Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    dotnet build ImageModule.sln -c $Configuration
    if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
    Write-Host "Module: $(Join-Path $PSScriptRoot 'out/ImageModule/ImageModule.psd1')"
    if ($Test) {
        dotnet test ImageModule.sln -c $Configuration --no-build
        if ($LASTEXITCODE) { throw "dotnet test failed ($LASTEXITCODE)" }
        $pester = Get-Module -ListAvailable Pester | Where-Object Version -ge '5.0' | Sort-Object Version -Descending | Select-Object -First 1
        if ($pester) {
            # A child process, so the module under test is the freshly built one and nothing stays loaded here.
            pwsh -NoProfile -Command "Import-Module Pester -MinimumVersion 5.0; `$r = Invoke-Pester -Path '$PSScriptRoot/tests/Pester' -Output Detailed -PassThru; exit `$r.FailedCount"
            if ($LASTEXITCODE) { throw "Pester: $LASTEXITCODE failed" }
        }
        else {
            Write-Warning 'Pester 5 is not installed; skipped tests/Pester.'
        }
    }
}
finally {
    Pop-Location
}
