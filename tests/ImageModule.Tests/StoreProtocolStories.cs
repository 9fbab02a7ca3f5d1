using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Text.RegularExpressions;
using System.Threading.Tasks;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// The store's ingest/lease/GC protocol under several processes at once and under kill -9, with the invariants
    /// checked from outside (<see cref="StoreInvariants"/>).
    /// </summary>
    public sealed class StoreProtocolStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        /// <summary>The module the worker processes load: the built one, or (to show a test fails before a fix) another build.</summary>
        private static string WorkerManifest => Environment.GetEnvironmentVariable("IMAGEMODULE_WORKER_MANIFEST") is { Length: > 0 } other ? other : ModuleSession.ManifestPath;

        internal static Process StartWorker(string storePath, string script, bool redirect = true)
        {
            // Real pwsh, one process per worker (a SIGKILL of it is a SIGKILL of the engine), the module imported.
            var psi = ModuleSession.PowerShellProcess(script, WorkerManifest, redirect);
            psi.Environment["IMAGEMODULE_STORE"] = storePath;
            return Process.Start(psi)!;
        }

        [Fact]
        public async Task Four_processes_importing_copying_tagging_and_removing_in_lockstep_leave_every_name_whole()
        {
            var tars = Enumerable.Range(0, 2).Select(i => Rootfs.Create(_session.TempDir, "base" + i, 1, 100 + i)).ToArray();
            _session.SetVariable("tars", tars);
            // An OCI layout to copy from, holding an image the store also has under another name.
            _session.Run("Import-Image $tars[1] -Name seed:0 | Out-Null; Copy-Image store:seed:0 \"oci:$TestDir/layout:app\" | Out-Null");
            var sync = Path.Combine(_session.TempDir, "sync");
            Directory.CreateDirectory(sync);
            const int rounds = 8;
            // Every round each worker waits for the round's go file, acts at once, and reports done: the actions collide
            // as closely as the processes allow. The runner has no Microsoft.PowerShell.Utility (no Start-Sleep, Get-Date).
            string Lockstep(string role, string action) =>
                $"$ErrorActionPreference = 'Continue'; $sync = '{sync}'; $tars = @({string.Join(",", tars.Select(t => $"'{t}'"))}); " +
                $"for ($i = 0; $i -lt {rounds}; $i++) {{ $limit = [DateTime]::UtcNow.AddSeconds(30); " +
                $"while (-not (Test-Path \"$sync/go-$i\") -and [DateTime]::UtcNow -lt $limit) {{ [Threading.Thread]::Sleep(2) }}; " +
                $"if (Test-Path \"$sync/stop\") {{ break }}; {action}; New-Item -ItemType File \"$sync/done-$i-{role}\" | Out-Null }}";
            var roles = new (string Role, string Action)[]
            {
                ("import", "Import-Image $tars[$i % 2] -Name \"keep:$i\" | Out-Null"),
                ("copy", $"Copy-Image \"oci:{_session.TempDir}/layout:app\" \"store:copy:$i\" | Out-Null; if ($i -gt 0) {{ Remove-Image \"copy:$($i - 1)\" -ErrorAction SilentlyContinue }}"),
                ("tag", "Add-ImageTag \"victim:$i\" \"tagged:$i\" -ErrorAction SilentlyContinue | Out-Null"),
                ("remove", "Remove-Image \"victim:$i\" -ErrorAction SilentlyContinue; if ($i -eq 3) { Remove-Image seed:0 }"),
            };
            var workers = roles.Select(r => StartWorker(_session.StorePath, Lockstep(r.Role, r.Action))).ToArray();
            var outputs = workers.Select(p => (Err: p.StandardError.ReadToEndAsync(), Out: p.StandardOutput.ReadToEndAsync())).ToArray();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            try
            {
                for (var i = 0; i < rounds && DateTime.UtcNow < deadline; i++)
                {
                    // The victim shares its layer with this round's import and the copy source's layer.
                    _session.Run($"Import-Image $tars[{(i + 1) % 2}] -Name victim:{i} | Out-Null");
                    File.WriteAllText(Path.Combine(sync, "go-" + i), "");
                    while (roles.Any(r => !File.Exists(Path.Combine(sync, $"done-{i}-{r.Role}"))) && DateTime.UtcNow < deadline && workers.All(w => !w.HasExited))
                        await Task.Delay(5);
                }
            }
            finally
            {
                File.WriteAllText(Path.Combine(sync, "stop"), "");
                for (var i = 0; i < rounds; i++) File.WriteAllText(Path.Combine(sync, "go-" + i), "");
            }
            var unexpected = new List<string>();
            for (var w = 0; w < workers.Length; w++)
            {
                var finished = workers[w].WaitForExit(60_000);
                if (!finished) workers[w].Kill(entireProcessTree: true);
                var text = (await outputs[w].Err) + (await outputs[w].Out);
                Assert.True(finished, $"worker {roles[w].Role} did not finish: {text}");
                // Losing a race is fine (the source was removed first, ImageNotFound); anything else is a defect.
                foreach (var line in text.Split('\n').Where(l => l.Contains("Exception") || l.Contains("StoreBusy"))) unexpected.Add(line.Trim());
            }

            var broken = StoreInvariants.BrokenNames(_session.StorePath);
            Assert.True(broken.Count == 0, string.Join("\n", broken));
            Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
            var indexNames = StoreInvariants.Names(_session.StorePath).Where(n => n != null).Select(n => n!).OrderBy(n => n).ToList();
            var listed = _session.Objects("Get-Image").Where(i => i.Name != null).Select(i => (string)i.Name).OrderBy(n => n).ToList();
            Assert.Equal(indexNames, listed);
            Assert.Contains(indexNames, n => n.StartsWith("docker.io/library/keep:", StringComparison.Ordinal));
            var orphans = StoreInvariants.OrphanedStaging(_session.StorePath);
            Assert.True(orphans.Count == 0, string.Join("\n", orphans));
        }
    
        /// <summary>Starts a writing command, waits until it has staged work in progress, kills it (SIGKILL), then checks.</summary>
        private async Task KillMidway(string script, Func<bool> staged, string next = "Import-Image $small -Name after:1 | Out-Null", params string[] targets)
        {
            var worker = StartWorker(_session.StorePath, script, redirect: false);
            var deadline = DateTime.UtcNow.AddSeconds(40);
            try
            {
                while (!staged() && !worker.HasExited && DateTime.UtcNow < deadline) await Task.Delay(10);
                Assert.False(worker.HasExited, "the command finished before it could be killed: " + script);
                Assert.True(staged(), "nothing was staged within 40 s: " + script);
            }
            finally
            {
                if (!worker.HasExited) worker.Kill();
                worker.WaitForExit(30_000);
            }
            // The next writing command cleans what the killed one left; the store is whole.
            _session.Run(next);
            var broken = StoreInvariants.BrokenNames(_session.StorePath);
            Assert.True(broken.Count == 0, string.Join("\n", broken));
            var orphans = StoreInvariants.OrphanedStaging(_session.StorePath, targets);
            Assert.True(orphans.Count == 0, script + " left: " + string.Join("\n", orphans));
            var indexNames = StoreInvariants.Names(_session.StorePath).Where(n => n != null).Select(n => n!).OrderBy(n => n).ToList();
            Assert.Equal(indexNames, _session.Objects("Get-Image").Where(i => i.Name != null).Select(i => (string)i.Name).OrderBy(n => n).ToList());
        }

        private bool StagedInStore(long atLeast) =>
            Directory.Exists(Path.Combine(_session.StorePath, ".imagemodule", "tmp"))
            && Directory.EnumerateFiles(Path.Combine(_session.StorePath, ".imagemodule", "tmp"), "*", SearchOption.AllDirectories)
                .Any(f => { try { return new FileInfo(f).Length >= atLeast; } catch (IOException) { return false; } });

        private static bool StagedBeside(string target, long atLeast) =>
            Directory.GetFileSystemEntries(Path.GetDirectoryName(target)!, "." + Path.GetFileName(target) + ".*")
                .Any(e => Directory.Exists(e) || new FileInfo(e).Length >= atLeast);

        [Fact]
        public async Task Writing_commands_killed_midway_leave_the_store_whole_and_no_staging()
        {
            var big = Rootfs.Create(_session.TempDir, "big", 24, 7);
            _session.SetVariable("small", Rootfs.Create(_session.TempDir, "small", 0, 8));
            _session.SetVariable("big", big);
            _session.Run("Import-Image $small -Name small:1 | Out-Null");

            // Import of a filesystem tarball: the spool and the layer being written live in the store's staging.
            await KillMidway($"Import-Image '{big}' -Name big:1", () => StagedInStore(4 << 20));

            // Save-Image: the archive is written beside its target under a hidden name owned by the process.
            _session.Run("Import-Image $big -Name big:2 | Out-Null");
            var archive = Path.Combine(_session.TempDir, "out", "big.tar");
            Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
            // The next save to the same place removes what a killed one left beside it.
            await KillMidway($"Save-Image big:2 -Path '{archive}'", () => StagedBeside(archive, 4 << 20), $"Save-Image big:2 -Path '{archive}' | Out-Null", archive);

            // Import of a docker-archive: layers are spooled into the store's staging, then adopted.
            _session.Run("Remove-Image big:2");
            await KillMidway($"Import-Image '{archive}'", () => StagedInStore(4 << 20));

            // Export-Image: the flattened filesystem is written beside its target.
            var exported = Path.Combine(_session.TempDir, "out", "fs.tar");
            _session.Run($"Import-Image '{archive}' | Out-Null");
            await KillMidway($"Export-Image big:2 -Path '{exported}'", () => StagedBeside(exported, 4 << 20), $"Export-Image big:2 -Path '{exported}' | Out-Null", exported);

            // Expand-Image: the tree is built beside its target under a hidden name owned by the process; the next expand
            // there removes what a killed one left.
            var rootfs = Path.Combine(_session.TempDir, "out", "rootfs");
            await KillMidway($"Expand-Image big:2 -DestinationPath '{rootfs}'", () => StagedBeside(rootfs, 0), $"Expand-Image big:2 -DestinationPath '{rootfs}' | Out-Null", rootfs);
            Assert.True(File.Exists(Path.Combine(rootfs, "data", "random.bin")), "the expand after the kill did not complete");
        }

        [Fact]
        public void A_full_disk_names_the_operation_and_Remove_Image_still_frees_space()
        {
            OnSmallDisk(24, mount =>
            {
                var store = Path.Combine(mount, "store");
                _session.SetVariable("store", store);
                var tars = Enumerable.Range(0, 4).Select(i => Rootfs.Create(_session.TempDir, "fill" + i, 6, 40 + i)).ToArray();
                _session.SetVariable("tars", tars);
                _session.Run("$i = 0; foreach ($t in $tars) { Import-Image $t -Name \"fill:$i\" -StorePath $store | Out-Null; $i++ }");
                Assert.NotEmpty(_session.Errors);
                foreach (var full in _session.Errors)
                {
                    Assert.StartsWith("DiskFull,", full.FullyQualifiedErrorId);
                    // The command and the image it was importing, then the blob and the store.
                    Assert.Matches($"^Not enough disk space for Import-Image '{Regex.Escape(_session.TempDir)}/fill[0-3]\\.tar': could not store blob sha256:[0-9a-f]{{64}} in {Regex.Escape(store)}\\.", full.Exception.Message);
                    Assert.DoesNotContain(".partial", full.Exception.Message);
                }
                _session.Errors.Clear();

                // Fill what is left to the last byte, then remove: removal needs no free space.
                using (var filler = new FileStream(Path.Combine(mount, "filler"), FileMode.CreateNew))
                {
                    var block = new byte[1 << 16];
                    try { while (true) filler.Write(block, 0, block.Length); }
                    catch (IOException) { }
                }
                var before = StoreInvariants.Names(store).Count(n => n != null);
                Assert.True(before >= 1, "nothing was imported before the disk filled up");
                _session.Run("Remove-Image fill:0 -StorePath $store");
                Assert.Empty(_session.Errors);
                Assert.Equal(before - 1, StoreInvariants.Names(store).Count(n => n != null));
                var broken = StoreInvariants.BrokenNames(store);
                Assert.True(broken.Count == 0, string.Join("\n", broken));
                Assert.Empty(StoreInvariants.OrphanedStaging(store));
            });
        }

        [Fact]
        public void Writing_outside_the_store_on_a_full_disk_names_the_command_and_target_and_leaves_nothing()
        {
            OnSmallDisk(4, mount =>
            {
                _session.SetVariable("big", Rootfs.Create(_session.TempDir, "big", 8, 9));
                _session.SetVariable("out", mount);
                _session.Run("Import-Image $big -Name big:1 | Out-Null");
                Assert.Empty(_session.Errors);
                var commands = new (string Command, string Target)[]
                {
                    ("Save-Image", Path.Combine(mount, "big.tar")),
                    ("Export-Image", Path.Combine(mount, "fs.tar")),
                    ("Expand-Image", Path.Combine(mount, "rootfs")),
                };
                foreach (var (command, target) in commands)
                {
                    _session.Errors.Clear();
                    var path = command == "Expand-Image" ? "-DestinationPath" : "-Path";
                    _session.Run($"{command} big:1 {path} '{target}' | Out-Null");
                    var full = Assert.Single(_session.Errors);
                    Assert.StartsWith("DiskFull,", full.FullyQualifiedErrorId);
                    Assert.Contains($"Not enough disk space for {command} '", full.Exception.Message);
                    Assert.DoesNotContain(".tmp-", full.Exception.Message);
                    Assert.Empty(Directory.GetFileSystemEntries(mount));
                }
            });
        }

        /// <summary>Runs <paramref name="test"/> on a tmpfs of that many MiB, a disk that really fills up (needs mount(8); CI runs as root).</summary>
        private void OnSmallDisk(int megabytes, Action<string> test)
        {
            if (!OperatingSystem.IsLinux() || Environment.UserName != "root") return;
            var mount = Path.Combine(_session.TempDir, $"disk-{megabytes}m");
            Directory.CreateDirectory(mount);
            ExternalTool.Run("mount", "-t", "tmpfs", "-o", $"size={megabytes}m", "tmpfs", mount);
            try { test(mount); }
            finally { ExternalTool.Run("umount", "-l", mount); }
        }
    }
}
