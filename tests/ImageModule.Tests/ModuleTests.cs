using System;
using System.Linq;
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

        [Fact]
        public void Every_cmdlet_uses_an_approved_verb_and_has_help_with_examples()
        {
            var approved = _session.Run("[System.Management.Automation.VerbsCommon].GetFields().Name + [System.Management.Automation.VerbsData].GetFields().Name + [System.Management.Automation.VerbsLifecycle].GetFields().Name + [System.Management.Automation.VerbsCommunications].GetFields().Name + [System.Management.Automation.VerbsDiagnostic].GetFields().Name")
                .Select(o => o.ToString()).ToHashSet();
            var names = _session.Run("(Get-Command -Module ImageModule).Name").Select(o => o.ToString()).ToList();
            Assert.True(names.Count >= 9, string.Join(", ", names));
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
