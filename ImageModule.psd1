@{
    RootModule           = 'ImageModule.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6f1c7e9a-3b2d-4c55-9a8e-2f0d4b7c1e93'
    Author               = 'ImageModule contributors'
    CompanyName          = 'ImageModule'
    Copyright            = '(c) ImageModule contributors. MIT License.'
    Description          = 'Container images as PowerShell objects: list, inspect, tag, remove, pull, push, search, save, load, import and export OCI and Docker images without a daemon, or on a Docker engine or podman.'
    PowerShellVersion    = '5.1'
    CompatiblePSEditions = @('Desktop', 'Core')
    FormatsToProcess     = @('ImageModule.Format.ps1xml')
    CmdletsToExport      = @(
        'Get-Image', 'Remove-Image', 'Add-ImageTag', 'Get-ImageLayer', 'Copy-EngineImage',
        'Import-Image', 'Save-Image', 'Export-Image', 'Expand-Image', 'Get-ImageFile',
        'Install-Image', 'Publish-Image', 'Find-Image', 'Copy-Image',
        'Connect-ImageRegistry', 'Disconnect-ImageRegistry', 'Remove-RegistryImage',
        'Get-ImageRegistrySetting', 'Set-ImageRegistrySetting', 'Test-ImageStore', 'Repair-ImageStore'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # No ProjectUri or HelpInfoUri: the project has no public home yet, and a made-up address would send
            # users (and Update-Help) nowhere. Full help ships in en-US.
            Tags = @('container', 'docker', 'oci', 'image', 'registry', 'podman', 'skopeo')
        }
    }
}
