using System;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using Xunit;

namespace ImageModule.EndToEnd
{
    public sealed class ModuleTests : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        [Fact]
        public void The_manifest_targets_Windows_PowerShell_and_PowerShell_7()
        {
            var module = _session.Objects("Get-Module ImageModule").Single();
            Assert.Equal(new Version(5, 1), (Version)module.PowerShellVersion);
            Assert.Contains("Desktop", (System.Collections.Generic.IEnumerable<string>)module.CompatiblePSEditions);
            Assert.Contains("Core", (System.Collections.Generic.IEnumerable<string>)module.CompatiblePSEditions);
        }

        /// <summary>CmdletsToExport as ImageModule.psd1 lists it, read with PowerShell's own parser.</summary>
        private static string[] ManifestCmdlets()
        {
            var ast = Parser.ParseFile(ModuleSession.ManifestPath, out _, out var errors);
            Assert.Empty(errors);
            var table = (HashtableAst)ast.Find(a => a is HashtableAst, searchNestedScriptBlocks: false)!;
            var entry = table.KeyValuePairs.Single(p => string.Equals(p.Item1.SafeGetValue() as string, "CmdletsToExport", StringComparison.OrdinalIgnoreCase));
            var value = ((PipelineAst)entry.Item2).GetPureExpression()!.SafeGetValue();
            return ((object[])value).Select(o => (string)o).ToArray();
        }

        [Fact]
        public void Exactly_the_cmdlets_the_manifest_lists_are_exported_and_every_cmdlet_class_is_listed()
        {
            var listed = ManifestCmdlets().OrderBy(n => n).ToArray();
            var exported = _session.Run("(Get-Command -Module ImageModule -CommandType Cmdlet).Name").Select(o => o.ToString()!).OrderBy(n => n).ToArray();
            Assert.Equal(listed, exported);
            // And no cmdlet class the assembly defines is left out of the manifest.
            var assembly = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == "ImageModule");
            var defined = assembly.GetTypes()
                .Select(t => (CmdletAttribute?)Attribute.GetCustomAttribute(t, typeof(CmdletAttribute)))
                .Where(a => a != null)
                .Select(a => $"{a!.VerbName}-{a.NounName}")
                .OrderBy(n => n)
                .ToArray();
            Assert.Equal(listed, defined);
        }

        [Fact]
        public void Every_cmdlet_uses_an_approved_verb_and_has_help_with_examples()
        {
            var approved = _session.Run("[System.Management.Automation.VerbsCommon].GetFields().Name + [System.Management.Automation.VerbsData].GetFields().Name + [System.Management.Automation.VerbsLifecycle].GetFields().Name + [System.Management.Automation.VerbsCommunications].GetFields().Name + [System.Management.Automation.VerbsDiagnostic].GetFields().Name")
                .Select(o => o.ToString()).ToHashSet();
            var names = _session.Run("(Get-Command -Module ImageModule).Name").Select(o => o.ToString()).ToList();
            Assert.Equal(ManifestCmdlets().OrderBy(n => n), names.OrderBy(n => n));
            foreach (var name in names)
            {
                Assert.Contains(name.Split('-')[0], approved);
                _session.SetVariable("cmd", name);
                var synopsis = _session.Run("(Get-Help $cmd).Synopsis").Single().ToString()!.Trim();
                Assert.False(synopsis.StartsWith(name, StringComparison.Ordinal), $"{name} has no help synopsis: {synopsis}");
                Assert.True((int)_session.Run("@((Get-Help $cmd -Examples).examples.example).Count").Single().BaseObject > 0, $"{name} has no examples");
            }
        }
    }
}
