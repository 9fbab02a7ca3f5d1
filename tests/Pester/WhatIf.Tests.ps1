#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# -WhatIf on every cmdlet that changes something: it says what it would do, in PowerShell's own "What if:" line, and
# changes nothing (no file, directory, registry tag, setting or login appears or goes). Remove-Image,
# Remove-RegistryImage (RegistryTransfer) and Copy-EngineImage (Engines) have theirs beside their stories.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
}

AfterAll { Exit-TestIsolation $saved }

Describe 'WhatIf' {
    BeforeAll {
        New-TestStore
        $image = Import-Image (New-TestRootfs whatif 81) -Name whatif/app:1
        $storeFiles = { @(Get-ChildItem -Recurse -File $env:IMAGEMODULE_STORE | ForEach-Object FullName | Sort-Object) }
    }

    It '<Command> -WhatIf <Says>' -ForEach @(
        @{ Command = 'Save-Image'; Parameter = 'Path'; Target = 'app.tar'; Says = 'writes no archive' }
        @{ Command = 'Export-Image'; Parameter = 'Path'; Target = 'flat.tar'; Says = 'writes no filesystem tarball' }
        @{ Command = 'Expand-Image'; Parameter = 'DestinationPath'; Target = 'rootfs'; Says = 'creates no directory' }
    ) {
        $path = Join-Path $TestDrive $Target
        $output = @{ $Parameter = $path }
        $whatIf = Get-WhatIfText { & $Command whatif/app:1 @output -WhatIf }
        $whatIf | Should -HaveCount 1
        $whatIf[0] | Should -BeLike "What if: *$path*"
        $path | Should -Not -Exist
    }

    It 'Copy-Image -WhatIf writes no layout and leaves the store as it was' {
        $layout = Join-Path $TestDrive 'layout'
        $before = & $storeFiles
        $whatIf = Get-WhatIfText { Copy-Image store:whatif/app:1 "oci:${layout}:v1" -WhatIf }
        $whatIf | Should -HaveCount 1
        $whatIf[0] | Should -BeLike "What if: *$layout*"
        $layout | Should -Not -Exist
        & $storeFiles | Should -Be $before
    }

    It 'Publish-Image -WhatIf pushes nothing' {
        $registry = Start-TestRegistry
        try {
            $remote = "$($registry.Host)/team/app:1"
            $whatIf = Get-WhatIfText { Publish-Image whatif/app:1 -Destination $remote -WhatIf }
            $whatIf | Should -HaveCount 1
            $whatIf[0] | Should -BeLike "What if: *$remote*"
            @(Get-RegistryRequest $registry) -match '^(PUT|POST|PATCH) ' | Should -BeNullOrEmpty
            Find-Image "$($registry.Host)/team/app" -ListTags -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }
        finally { Stop-TestRegistry $registry }
    }

    It 'Set-ImageRegistrySetting -WhatIf writes no settings file' {
        $whatIf = Get-WhatIfText { Set-ImageRegistrySetting registry.example:5000 -Mirror mirror.example:5000 -WhatIf }
        $whatIf | Should -HaveCount 1
        $whatIf[0] | Should -BeLike '*registry.example:5000*'
        $env:IMAGEMODULE_REGISTRY_CONFIG | Should -Not -Exist
        Get-ImageRegistrySetting | Should -BeNullOrEmpty
    }

    It 'Disconnect-ImageRegistry -WhatIf keeps the stored login' {
        $config = Join-Path $env:DOCKER_CONFIG 'config.json'
        $login = '{"auths":{"registry.example:5000":{"auth":"' + [Convert]::ToBase64String([Text.Encoding]::UTF8.GetBytes('alice:s3cret')) + '"}}}'
        Set-Content $config $login
        try {
            $whatIf = Get-WhatIfText { Disconnect-ImageRegistry registry.example:5000 -WhatIf }
            $whatIf | Should -HaveCount 1
            $whatIf[0] | Should -BeLike '*registry.example:5000*'
            $whatIf[0] | Should -Not -BeLike '*s3cret*'
            Get-Content -Raw $config | Should -Be "$login$([Environment]::NewLine)"
        }
        finally { Set-Content $config '{}' }
    }

    It 'Remove-Image -WhatIf on a piped image keeps its blobs' {
        $before = & $storeFiles
        $whatIf = Get-WhatIfText { Get-Image whatif/app:1 | Remove-Image -WhatIf }
        $whatIf | Should -HaveCount 1
        (Get-Image whatif/app:1).Id | Should -Be $image.Id
        & $storeFiles | Should -Be $before
    }
}
