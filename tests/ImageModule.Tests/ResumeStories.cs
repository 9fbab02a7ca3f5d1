using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// A pull killed mid-blob (kill -9 of a real pwsh) is continued by the next Install-Image: the bytes the dead process
    /// wrote are kept, only the rest is asked for with a Range request, the digest is checked over the whole, and
    /// -Verbose says so.
    /// </summary>
    public sealed class ResumeStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        [Fact]
        public void A_second_Install_Image_after_kill_9_continues_where_the_first_stopped()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "big", 8, 77));
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name big:1"));
            _session.SetVariable("remote", $"{_registry.Host}/team/big:1");
            _session.Run("Publish-Image big:1 -Destination $remote | Out-Null; Remove-Image big:1");
            Assert.Empty(_session.Errors);

            // The first pull gets 3 MB of the 8 MB layer, then the registry stalls (until the process is killed). The
            // config, far smaller, passes whole.
            const long StallAt = 3_000_000;
            using var proxy = new FaultServer(_registry.Url);
            proxy.OnRequest = r => r.Method == "GET" && r.Path.Contains("/blobs/") && r.Header("Range") is null ? new Fault { StallAfter = StallAt } : null;
            var remote = $"{proxy.Host}/team/big:1";
            var staging = Path.Combine(_session.StorePath, ".imagemodule", "tmp");
            var psi = ModuleSession.PowerShellProcess($"Install-Image '{remote}' -Verbose *> '{_session.TempDir}/first.log'");
            psi.Environment["IMAGEMODULE_STORE"] = _session.StorePath;
            using (var first = Process.Start(psi)!)
            {
                var deadline = DateTime.UtcNow.AddSeconds(40);
                while (!Directory.Exists(staging) || !Directory.EnumerateFiles(staging, "*.partial", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length >= StallAt))
                {
                    if (first.HasExited) Assert.Fail("the first pull ended before it was killed: " + File.ReadAllText(Path.Combine(_session.TempDir, "first.log")));
                    Assert.True(DateTime.UtcNow < deadline, "the first pull never wrote 3 MB of the layer; requests: " + string.Join("; ", proxy.Received));
                    System.Threading.Thread.Sleep(50);
                }
                first.Kill(entireProcessTree: true); // SIGKILL: no cleanup runs
                first.WaitForExit(10_000);
            }
            Assert.Empty(_session.Objects("Get-Image"));

            _session.SetVariable("proxied", remote);
            var output = _session.Run("Install-Image $proxied -Verbose 4>&1");
            Assert.Empty(_session.Errors);
            var pulled = Assert.Single(output, o => o.BaseObject is not VerboseRecord);
            Assert.Equal((string)image.Id, (string)pulled.Properties["Id"].Value);
            var verbose = output.Select(o => o.BaseObject).OfType<VerboseRecord>().Select(v => v.Message).ToList();
            Assert.Contains(verbose, m => m.Contains("left by an earlier pull") && m.Contains("resuming"));
            // Only the rest was asked for: a Range request from at least where the dead process had got to.
            var ranged = proxy.Received.Where(r => r.Method == "GET" && r.Path.Contains("/blobs/") && r.Header("Range") is not null).ToList();
            var range = Assert.Single(ranged).Header("Range")!;
            Assert.StartsWith("bytes=", range);
            Assert.True(long.Parse(range.Substring(6).TrimEnd('-')) >= StallAt, range);
            // Nothing of either pull is left in staging.
            Assert.Empty(Directory.EnumerateFiles(staging, "*", SearchOption.AllDirectories));
        }
    }
}
