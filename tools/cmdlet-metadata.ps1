# Writes the built module's cmdlet metadata as JSON (what PowerShell itself sees: parameter sets, types, positions,
# pipeline input, aliases, wildcards, output types), for tools/gen-help.py. Run under pwsh against out/ImageModule.
param([Parameter(Mandatory)][string]$Manifest)
$ErrorActionPreference = 'Stop'
Import-Module $Manifest
$common = [System.Management.Automation.Cmdlet]::CommonParameters
$commands = Get-Command -Module ImageModule -CommandType Cmdlet | Sort-Object Name | ForEach-Object {
    $command = $_
    [ordered]@{
        Name                = $command.Name
        Verb                = $command.Verb
        Noun                = $command.Noun
        DefaultParameterSet = $command.DefaultParameterSet
        OutputTypes         = @($command.OutputType | ForEach-Object { if ($_.Type) { $_.Type.FullName } else { $_.Name } } | Select-Object -Unique)
        ParameterSets       = @($command.ParameterSets | ForEach-Object {
            [ordered]@{
                Name       = $_.Name
                IsDefault  = $_.IsDefault
                Parameters = @($_.Parameters | Where-Object { $common -notcontains $_.Name } | ForEach-Object {
                    $parameter = $command.Parameters[$_.Name]
                    [ordered]@{
                        Name           = $_.Name
                        Type           = $_.ParameterType.FullName
                        TypeName       = $_.ParameterType.Name
                        Mandatory      = $_.IsMandatory
                        Position       = $_.Position
                        ByValue        = $_.ValueFromPipeline
                        ByPropertyName = $_.ValueFromPipelineByPropertyName
                        Aliases        = @($_.Aliases)
                        Wildcards      = [bool]($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
                        Values         = @($parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | ForEach-Object { $_.ValidValues })
                        Enum           = @(if ($_.ParameterType.IsEnum) { [Enum]::GetNames($_.ParameterType) })
                    }
                })
            }
        })
    }
}
ConvertTo-Json -InputObject @($commands) -Depth 8
