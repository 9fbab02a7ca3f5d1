using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Get-Help shows what the cmdlets really take: syntax per parameter set, types, pipeline input, outputs.</summary>
    public sealed class HelpStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private static readonly HashSet<string> Common = new(StringComparer.OrdinalIgnoreCase)
        {
            "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction", "ProgressAction", "ErrorVariable",
            "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable",
        };

        private string[] Strings(string script) => _session.Run(script).Where(o => o != null).Select(o => o.ToString()!).ToArray();

        [Fact]
        public void Every_exported_cmdlet_has_a_syntax_block_per_parameter_set_with_the_real_parameters_and_types()
        {
            var names = Strings("(Get-Module ImageModule).ExportedCmdlets.Keys");
            Assert.True(names.Length >= 19, string.Join(", ", names));
            foreach (var name in names)
            {
                _session.SetVariable("cmd", name);
                var sets = Strings("(Get-Command $cmd).ParameterSets.Name");
                // Each syntax block as the sorted list of its parameter names.
                var documented = Strings("@((Get-Help $cmd).syntax.syntaxItem).ForEach({ [string[]]$n = $_.parameter.name; [Array]::Sort($n, [StringComparer]::Ordinal); $n -join ',' })");
                Assert.True(documented.Length == sets.Length, $"{name}: {documented.Length} syntax blocks for {sets.Length} parameter sets");
                foreach (var set in sets)
                {
                    _session.SetVariable("set", set);
                    var expected = Strings("(Get-Command $cmd).ParameterSets.Where({ $_.Name -eq $set }).Parameters.Name").Where(p => !Common.Contains(p)).OrderBy(p => p, StringComparer.Ordinal);
                    Assert.True(documented.Contains(string.Join(",", expected)), $"{name} set {set}: no syntax block lists {string.Join(", ", expected)}; blocks: {string.Join(" | ", documented)}");
                }
                // Every parameter has its type, as Get-Command knows it.
                foreach (var parameter in Strings("(Get-Command $cmd).Parameters.Keys").Where(p => !Common.Contains(p)))
                {
                    _session.SetVariable("parameter", parameter);
                    var type = Strings("(Get-Help $cmd -Parameter $parameter).type.name").SingleOrDefault();
                    var real = Strings("(Get-Command $cmd).Parameters[$parameter].ParameterType.FullName").Single();
                    Assert.True(type == real, $"{name} -{parameter}: help says {type}, the cmdlet takes {real}");
                    Assert.False(string.IsNullOrWhiteSpace(Strings("(Get-Help $cmd -Parameter $parameter).description.Text").FirstOrDefault()), $"{name} -{parameter} has no description");
                }
                Assert.NotEmpty(Strings("(Get-Help $cmd -Full).returnValues.returnValue.type.name"));
                Assert.NotEmpty(Strings("(Get-Help $cmd -Full).inputTypes.inputType.type.name"));
                Assert.Contains("about_ImageModule", Strings("(Get-Help $cmd -Full).relatedLinks.navigationLink.linkText"));
            }
        }

        [Fact]
        public void Get_Help_shows_the_syntax_and_aliases_users_type()
        {
            var text = _session.RunAndRender("Get-Help Get-Image");
            Assert.Contains("Get-Image [[-Name] <String[]>] [-Dangling]", text);
            Assert.Contains("Get-Image -Id <String[]>", text);
            Assert.Equal("Name", Strings("(Get-Help Copy-Image -Parameter Source).aliases").Single());
            Assert.Equal("True (ByValue)", Strings("(Get-Help Remove-Image -Parameter InputObject).pipelineInput").Single());
            Assert.Contains("decimal", _session.RunAndRender("Get-Help Get-Image -Full"));
        }

        [Fact]
        public void The_about_topic_explains_the_store_engines_references_settings_and_errors()
        {
            var text = _session.RunAndRender("Get-Help about_ImageModule");
            foreach (var section in new[] { "THE STORE", "ENGINES", "IMAGE REFERENCES", "REGISTRIES: SETTINGS AND LOGINS", "SIZES", "ERRORS YOU CAN CATCH", "ImageNotFound" })
                Assert.Contains(section, text);
            var manifest = _session.Objects("Get-Module ImageModule").Single();
            Assert.Null((object?)manifest.ProjectUri);
            Assert.Null((object?)manifest.HelpInfoUri);
        }
    }
}
