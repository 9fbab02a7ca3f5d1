#Requires -Version 5.1
<#
.SYNOPSIS
    Builds ImageModule into out/ImageModule (a folder Import-Module loads). -Test also runs every test suite;
    -Pester runs only the Pester suite (tests/Pester) after the build.
.DESCRIPTION
    The Pester suite runs in a child pwsh (this one when it is PowerShell 7, else pwsh on PATH) with the pinned
    Pester, which is restored from NuGet into out/tools/packages when absent (tests/Pester/tools/PesterRestore.csproj
    names the version). A missing pwsh or a failed restore is an error, never a skipped suite.
.EXAMPLE
    ./build.ps1 -Test
.EXAMPLE
    ./build.ps1 -Pester
#>
param(
    [switch]$Test,
    [switch]$Pester,
    [ValidateSet('Debug', 'Release')]
    [string]$Configuration = 'Release'
)
$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    dotnet build ImageModule.sln -c $Configuration -nologo
    if ($LASTEXITCODE) { throw "dotnet build failed ($LASTEXITCODE)" }
    Write-Host "Module: $(Join-Path $PSScriptRoot 'out/ImageModule/ImageModule.psd1')"
    if ($Test) {
        foreach ($project in 'tests/ImageModule.Core.Tests', 'tests/ImageModule.Tests') {
            dotnet test $project -c $Configuration --no-build --nologo
            if ($LASTEXITCODE) { throw "dotnet test $project failed ($LASTEXITCODE)" }
        }
    }
    if ($Test -or $Pester) {
        $restoreProject = Join-Path $PSScriptRoot 'tests/Pester/tools/PesterRestore.csproj'
        $version = ([xml](Get-Content -Raw $restoreProject)).Project.PropertyGroup.PesterVersion.'#text'
        $packages = Join-Path $PSScriptRoot 'out/tools/packages'
        $module = Join-Path $packages "pester/$version/tools/Pester.psd1"
        if (-not (Test-Path $module)) {
            dotnet restore $restoreProject --packages $packages -nologo -v quiet
            if ($LASTEXITCODE -or -not (Test-Path $module)) { throw "Could not restore Pester $version from NuGet into $packages" }
        }
        $pwsh = (Get-Command pwsh -ErrorAction SilentlyContinue).Source
        foreach ($candidate in 'pwsh', 'pwsh.exe') {
            if ($PSVersionTable.PSEdition -eq 'Core' -and (Test-Path (Join-Path $PSHOME $candidate))) { $pwsh = Join-Path $PSHOME $candidate }
        }
        if (-not $pwsh -or -not (Test-Path $pwsh)) { throw 'The Pester suite needs PowerShell 7 (pwsh); install it, e.g. dotnet tool install PowerShell --version 7.6.9 --tool-path out/tools' }
        # A child process, so the module under test is the freshly built one and nothing stays loaded here.
        & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'tests/Pester/Invoke-Tests.ps1') -PesterModule $module
        if ($LASTEXITCODE) { throw "Pester suite failed ($LASTEXITCODE)" }
    }
}
finally {
    Pop-Location
}
