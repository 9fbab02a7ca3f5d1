using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Two PowerShell processes changing one store at once, as two terminals would.</summary>
    public sealed class ConcurrencyStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        [Fact]
        public async System.Threading.Tasks.Task Two_processes_tagging_the_same_store_at_once_lose_no_name()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "shared", 1, 31));
            _session.Run("Import-Image $tar -Name shared:0 | Out-Null");
            // Two real pwsh processes, as two terminals would be.
            Process Start(string prefix)
            {
                var psi = ModuleSession.PowerShellProcess($"$ErrorActionPreference = 'Stop'; 1..25 | ForEach-Object {{ Add-ImageTag shared:0 \"{prefix}:$_\" | Out-Null }}");
                psi.Environment["IMAGEMODULE_STORE"] = _session.StorePath;
                return Process.Start(psi)!;
            }
            var a = Start("left");
            var b = Start("right");
            foreach (var p in new[] { a, b })
            {
                var stderr = p.StandardError.ReadToEndAsync();
                _ = p.StandardOutput.ReadToEndAsync();
                Assert.True(p.WaitForExit(120_000), "pwsh did not finish");
                Assert.True(p.ExitCode == 0, await stderr);
            }
            var names = _session.Objects("Get-Image").Select(i => (string)i.Name).ToList();
            Assert.Equal(51, names.Count);
            Assert.Equal(25, names.Count(n => n.StartsWith("docker.io/library/left:", StringComparison.Ordinal)));
            Assert.Equal(25, names.Count(n => n.StartsWith("docker.io/library/right:", StringComparison.Ordinal)));
        }
    }
}
