# Runs the Pester suite in this pwsh with the Pester module at -PesterModule (the pinned one tests/pester.sh and
# build.ps1 -Test restore), writes an NUnit XML result to -ResultPath, and exits non-zero when anything is wrong:
# a failed test, a failed BeforeAll/AfterAll (block or container), or no test run at all. Never "skipped, exit 0".
param(
    [Parameter(Mandatory)] [string]$PesterModule,
    [string]$ResultPath,
    [string[]]$Path = @($PSScriptRoot),
    [string[]]$FullNameFilter
)
$ErrorActionPreference = 'Stop'
# pwsh -File passes "a,b" as one string: tests/pester.sh joins several paths (and filters) with commas.
$Path = @($Path | ForEach-Object { $_ -split ',' })
$FullNameFilter = @($FullNameFilter | Where-Object { $_ } | ForEach-Object { $_ -split ',' })
Import-Module $PesterModule -Force
$config = New-PesterConfiguration
$config.Run.Path = $Path
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
if ($env:NO_COLOR) { $config.Output.RenderMode = 'Plaintext' }
if ($FullNameFilter) { $config.Filter.FullName = $FullNameFilter }
if ($ResultPath) {
    $config.TestResult.Enabled = $true
    $config.TestResult.OutputFormat = 'NUnitXml'
    $config.TestResult.OutputPath = $ResultPath
}
$result = Invoke-Pester -Configuration $config
$failed = $result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount
if ($result.PassedCount -eq 0) {
    Write-Host 'Pester: no test passed (none found, or every one failed or was skipped)' -ForegroundColor Red
    $failed = [Math]::Max($failed, 1)
}
if ($failed) { Write-Host "Pester: $($result.FailedCount) failed tests, $($result.FailedBlocksCount) failed blocks, $($result.FailedContainersCount) failed files" -ForegroundColor Red }
exit [Math]::Min($failed, 100)
