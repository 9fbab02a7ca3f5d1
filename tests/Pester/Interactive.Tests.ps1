#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# The interactive experience under real pwsh (issue 15 §3): completion, help, 80-column views, CSV, output items,
# relative paths after Set-Location. The xunit twins are CompletionStories, HelpStories, ViewStories, ExactIntentStories.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
    function Complete([string]$Line) { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText) }
    $long = 'registry.example.com:5000/platform-team/services/payment-gateway-service:2024.11.29-build.1234'
}

AfterAll { Exit-TestIsolation $saved }

Describe 'Interactive use' {
    BeforeEach { New-TestStore }

    It 'completes image names, tags, IDs and engines' {
        $alpine = Import-Image (New-TestRootfs alpine 601) -Name alpine:3.20
        Import-Image (New-TestRootfs edge 602) -Name alpine:edge | Out-Null
        Complete 'Get-Image alp' | Should -Be @('alpine:3.20', 'alpine:edge')
        Complete 'Remove-Image alpine:e' | Should -Be @('alpine:edge')
        Complete "Remove-Image -Id $($alpine.ShortId.Substring(0, 4))" | Should -Contain $alpine.ShortId
        Complete 'Get-Image -Engine Po' | Should -Be @('Podman')
        Complete 'Save-Image alpine:3.20 -Platform linux/ar' | Should -Contain 'linux/arm64'
    }

    It 'completes from the store the session defaults name, as the command will use it' {
        $other = Join-Path $TestDrive "other-$([Guid]::NewGuid().ToString('N'))"
        Import-Image (New-TestRootfs busybox 603) -Name busybox:1 -StorePath $other | Out-Null
        Complete 'Get-Image bu' | Should -BeNullOrEmpty
        # Set globally, as at the prompt. PSReadLine completes from inside its own module, whose scope sees an empty
        # $PSDefaultParameterValues: completing from a module of our own does the same.
        $global:PSDefaultParameterValues['*-Image*:StorePath'] = $other
        $readLine = New-Module -ScriptBlock { function Complete-FromModule([string]$Line) { @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches.CompletionText) } }
        try {
            Complete 'Get-Image bu' | Should -Be @('busybox:1')
            Complete-FromModule 'Get-Image bu' | Should -Be @('busybox:1')
            Complete-FromModule 'Copy-Image store:bu' | Should -Be @('store:busybox:1')
            (Get-Image busybox:1).Name | Should -Be 'docker.io/library/busybox:1'
        }
        finally { $global:PSDefaultParameterValues.Remove('*-Image*:StorePath'); Remove-Module $readLine }
    }

    It 'shows a syntax block per parameter set for every cmdlet' {
        foreach ($command in Get-Command -Module ImageModule) {
            $help = Get-Help $command.Name
            @($help.syntax.syntaxItem).Count | Should -Be $command.ParameterSets.Count -Because $command.Name
            ($help.syntax | Out-String) | Should -Match ([regex]::Escape($command.Name) + ' ')
        }
        Get-Help about_ImageModule | Out-String | Should -Match 'ERRORS YOU CAN CATCH'
    }

    It 'fits Get-Image and Get-ImageLayer in 80 columns with every column' {
        $image = Import-Image (New-TestRootfs long 603) -Name $long
        $table = Get-Image | Format-Table | Out-String -Width 80
        $lines = $table -split "`n" | ForEach-Object TrimEnd
        $lines | Where-Object Length -gt 80 | Should -BeNullOrEmpty
        $table | Should -Match 'REPOSITORY +TAG +IMAGE ID +CREATED +SIZE'
        $lines | Where-Object { $_ -match $image.ShortId } | Should -Match 'payment-gateway-service'
        $layers = Get-Image | Get-ImageLayer | Format-Table | Out-String -Width 80
        $layers -split "`n" | ForEach-Object TrimEnd | Where-Object Length -gt 80 | Should -BeNullOrEmpty
        $layers | Should -Match 'LAYER +CREATED +CREATED BY +SIZE'
        $layers | Should -Match "Image: registry\.example\.com:5000/platform-team"  # a long group label wraps; it is not cut
    }

    It 'writes Config readably to CSV and keeps sizes exact' {
        Import-Image (New-TestRootfs csv 604) -Name app:1 -Change 'ENV MODE=prod', 'CMD ["/bin/sh"]' | Out-Null
        $row = Get-Image app:1 | ConvertTo-Csv | ConvertFrom-Csv
        $row.Config | Should -Be 'Cmd: /bin/sh; Env: MODE=prod'
        [long]$row.Size | Should -Be (Get-Image app:1).Size
    }

    It 'resolves Copy-Image paths against the location and emits saved files as Get-Item does' {
        Import-Image (New-TestRootfs rel 605) -Name app:1 | Out-Null
        $work = New-Item -ItemType Directory (Join-Path $TestDrive 'work')
        Push-Location $work
        try {
            Copy-Image store:app:1 oci:./layout:1 | Out-Null
            $saved = Get-Image app:1 | Save-Image -Path ./app.tar
        }
        finally { Pop-Location }
        Join-Path $work 'layout/index.json' | Should -Exist
        $saved.FullName | Should -Be (Join-Path $work 'app.tar')
        $saved.Length | Should -Be (Get-Item (Join-Path $work 'app.tar')).Length
        ($saved | Format-Table | Out-String) | Should -Match "$($saved.Length) app.tar"
        { Save-Image app:1 -Path (Join-Path $TestDrive 'missing/x.tar') } | Should -Throw -ErrorId 'DirectoryNotFound,ImageModule.Commands.SaveImageCommand'
    }
}
