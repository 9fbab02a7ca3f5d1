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

        /// <summary>
        /// The module the processes load: this build, or the one <c>IMAGEMODULE_TEST_MODULE</c> names (a module
        /// manifest, e.g. <c>out/ImageModule/ImageModule.psd1</c> of a checkout of an older commit), so that a story can be
        /// shown to fail before a fix: <c>IMAGEMODULE_TEST_MODULE=/path/ImageModule.psd1 dotnet test … --filter …</c>.
        /// </summary>
        private static string WorkerManifest => Environment.GetEnvironmentVariable("IMAGEMODULE_TEST_MODULE") is { Length: > 0 } other ? other : ModuleSession.ManifestPath;

        internal static Process StartWorker(string storePath, string script, bool redirect = true)
        {
            // Real pwsh, one process per worker (a SIGKILL of it is a SIGKILL of the engine), the module imported.
            var psi = ModuleSession.PowerShellProcess(script, WorkerManifest, redirect);
            psi.Environment["IMAGEMODULE_STORE"] = storePath;
            return Process.Start(psi)!;
        }

        /// <summary>
        /// Every round one process removes an image while three others copy the same image (same manifest, config and
        /// 64 tiny layers, content no other round uses) into the store under names of their own: the copies find the
        /// blobs present while the removal's collection finds them unreferenced. The protocol must keep every blob a copy
        /// relies on until the copy has named it. A copier starts when the removal has rewritten index.json (the
        /// collection follows under the same lock), after 0–6 ms that differ by round and process, so that in some rounds
        /// a copy's existence checks meet the collection whatever the machine's speed; the store grows by three images a
        /// round, so later collections take longer. Every process of the story (the seeding copies and the listing too)
        /// runs the module under test, so with IMAGEMODULE_TEST_MODULE naming a build of the old protocol (ed928d9) it
        /// fails in every run, several rounds each (docs/ARCHITECTURE.md says how to rerun that).
        /// </summary>
        [Fact]
        public async Task Processes_copying_an_image_while_another_removes_it_leave_every_name_whole()
        {
            const int rounds = 14, layers = 64, copiers = 3;
            var layout = ManyLayerLayout.Create(Path.Combine(_session.TempDir, "layout"), rounds, layers);
            var sync = Path.Combine(_session.TempDir, "sync");
            Directory.CreateDirectory(sync);
            // Each round a worker prepares, says ready, waits for the round's go file and acts at once: the actions
            // collide as closely as the processes allow. Every wait is bounded; a stop file ends the waiting.
            string Lockstep(string role, string prepare, string act) =>
                $"$ErrorActionPreference = 'Continue'; $sync = '{sync}'; $layout = '{layout}'; " +
                $"for ($i = 0; $i -lt {rounds}; $i++) {{ {prepare}; New-Item -ItemType File \"$sync/ready-$i-{role}\" | Out-Null; " +
                "$limit = [DateTime]::UtcNow.AddSeconds(30); " +
                "while (-not (Test-Path \"$sync/go-$i\") -and -not (Test-Path \"$sync/stop\") -and [DateTime]::UtcNow -lt $limit) { [Threading.Thread]::Sleep(1) }; " +
                $"if (-not (Test-Path \"$sync/go-$i\")) {{ break }}; {act} }}";
            // A copier starts when the removal has rewritten index.json (the collection follows at once), after a delay
            // that differs by round and process, so that some copy's existence checks meet the collection.
            string WhenRemoved(int offset, string act) =>
                "$index = \"$env:IMAGEMODULE_STORE/index.json\"; $limit = [DateTime]::UtcNow.AddSeconds(30); " +
                "while ([IO.File]::ReadAllText($index).Contains(\"/victim:$i\" + [char]34) -and [DateTime]::UtcNow -lt $limit) { [Threading.Thread]::Sleep(1) }; " +
                $"[Threading.Thread]::Sleep(($i * 3 + {offset}) % 7); {act}";
            var roles = new List<(string Role, string Script)>
            {
                ("remove", Lockstep("remove", "Copy-Image \"oci:${layout}:r$i\" \"store:victim:$i\" | Out-Null", "Remove-Image \"victim:$i\"")),
            };
            for (var c = 0; c < copiers; c++)
                roles.Add(("copy" + c, Lockstep("copy" + c, "", WhenRemoved(c * 2, $"Copy-Image \"oci:${{layout}}:r$i\" \"store:keep{c}:$i\" | Out-Null"))));
            var workers = roles.Select(r => StartWorker(_session.StorePath, r.Script)).ToArray();
            var outputs = workers.Select(p => (Err: p.StandardError.ReadToEndAsync(), Out: p.StandardOutput.ReadToEndAsync())).ToArray();
            var deadline = DateTime.UtcNow.AddSeconds(35);
            var played = 0;
            try
            {
                for (var i = 0; i < rounds; i++, played++)
                {
                    while (roles.Any(r => !File.Exists(Path.Combine(sync, $"ready-{i}-{r.Role}"))) && DateTime.UtcNow < deadline && workers.All(w => !w.HasExited))
                        await Task.Delay(2);
                    if (DateTime.UtcNow >= deadline || workers.Any(w => w.HasExited)) break;
                    File.WriteAllText(Path.Combine(sync, "go-" + i), "");
                }
            }
            finally
            {
                // Cut short (time, a worker gone): the workers stop waiting; every round that was started is played out.
                if (played < rounds) File.WriteAllText(Path.Combine(sync, "stop"), "");
            }
            var unexpected = new List<string>();
            for (var w = 0; w < workers.Length; w++)
            {
                var finished = workers[w].WaitForExit(60_000);
                if (!finished) workers[w].Kill(entireProcessTree: true);
                var text = (await outputs[w].Err) + (await outputs[w].Out);
                Assert.True(finished, $"worker {roles[w].Role} did not finish: {text}");
                // No command may fail: each copy reads a layout nothing changes, each removal removes its own image.
                foreach (var line in text.Split('\n').Where(l => l.Trim().Length > 0)) unexpected.Add(roles[w].Role + ": " + line.Trim());
            }

            var indexNames = StoreInvariants.Names(_session.StorePath).Where(n => n != null).Select(n => n!).OrderBy(n => n).ToList();
            var copies = indexNames.Count(n => n.StartsWith("docker.io/library/keep", StringComparison.Ordinal));
            var broken = StoreInvariants.BrokenNames(_session.StorePath);
            Assert.True(broken.Count == 0, $"{broken.Count} problems, {copies} copies named in {played} rounds:\n" + string.Join("\n", broken));
            Assert.True(unexpected.Count == 0, string.Join("\n", unexpected));
            Assert.True(played > 0 && copies == played * copiers, $"{copies} copies named in {played} rounds");
            // Get-Image, from a process of the module under test, lists exactly the names index.json holds.
            var lister = StartWorker(_session.StorePath, "Get-Image | ForEach-Object { $_.Name }");
            var (listing, listingErrors) = (lister.StandardOutput.ReadToEndAsync(), lister.StandardError.ReadToEndAsync());
            Assert.True(lister.WaitForExit(60_000), "Get-Image did not finish");
            Assert.Equal("", (await listingErrors).Trim());
            var listed = (await listing).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).OrderBy(n => n).ToList();
            Assert.Equal(indexNames, listed);
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
                while (!staged() && !worker.HasExited && DateTime.UtcNow < deadline) await Task.Delay(2);
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
            var big = Rootfs.Create(_session.TempDir, "big", 40, 7);
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
            await KillMidway($"Save-Image big:2 -Path '{archive}'", () => StagedBeside(archive, 1 << 20), $"Save-Image big:2 -Path '{archive}' | Out-Null", archive);

            // Import of a docker-archive: layers are spooled into the store's staging, then adopted.
            _session.Run("Remove-Image big:2");
            await KillMidway($"Import-Image '{archive}'", () => StagedInStore(4 << 20));

            // Export-Image: the flattened filesystem is written beside its target.
            var exported = Path.Combine(_session.TempDir, "out", "fs.tar");
            _session.Run($"Import-Image '{archive}' | Out-Null");
            await KillMidway($"Export-Image big:2 -Path '{exported}'", () => StagedBeside(exported, 1 << 20), $"Export-Image big:2 -Path '{exported}' | Out-Null", exported);

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
