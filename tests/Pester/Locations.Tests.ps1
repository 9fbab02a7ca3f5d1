#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0' }
# Where the store and the registry settings live when nothing names them: $XDG_DATA_HOME/imagemodule and
# $XDG_CONFIG_HOME/imagemodule/registries.json (README), pointed here at temp folders, never the user's own.

BeforeAll {
    $ErrorActionPreference = 'Stop'
    $PSNativeCommandUseErrorActionPreference = $true
    . (Join-Path $PSScriptRoot 'Common.ps1')
    $saved = Enter-TestIsolation
    $xdg = @{ XDG_DATA_HOME = $env:XDG_DATA_HOME; XDG_CONFIG_HOME = $env:XDG_CONFIG_HOME }
}

AfterAll {
    foreach ($name in $xdg.Keys) { [Environment]::SetEnvironmentVariable($name, $xdg[$name]) }
    Exit-TestIsolation $saved
}

Describe 'Default locations' {
    It 'keeps the store under $XDG_DATA_HOME/imagemodule when IMAGEMODULE_STORE is not set' {
        $env:XDG_DATA_HOME = Join-Path $TestDrive 'data'
        Remove-Item Env:IMAGEMODULE_STORE
        $image = Import-Image (New-TestRootfs located 91) -Name located:1
        Join-Path $env:XDG_DATA_HOME 'imagemodule/index.json' | Should -Exist
        Join-Path $env:XDG_DATA_HOME "imagemodule/blobs/sha256/$($image.Id.Substring(7))" | Should -Exist
        (Get-Image -StorePath (Join-Path $env:XDG_DATA_HOME 'imagemodule') located:1).Id | Should -Be $image.Id
    }

    It 'keeps registry settings in $XDG_CONFIG_HOME/imagemodule/registries.json when IMAGEMODULE_REGISTRY_CONFIG is not set' {
        $env:XDG_CONFIG_HOME = Join-Path $TestDrive 'config'
        Remove-Item Env:IMAGEMODULE_REGISTRY_CONFIG
        Set-ImageRegistrySetting registry.example:5000 -Mirror mirror.example:5000
        $file = Join-Path $env:XDG_CONFIG_HOME 'imagemodule/registries.json'
        $file | Should -Exist
        Get-Content -Raw $file | Should -Match 'mirror\.example:5000'
        (Get-ImageRegistrySetting).Registry | Should -Be 'registry.example:5000'
    }
}
