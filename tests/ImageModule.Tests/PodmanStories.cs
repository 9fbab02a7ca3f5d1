using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>The same cmdlets on podman's API service: list, move both ways keeping the ID, run, remove.</summary>
    public sealed class PodmanStories : IClassFixture<PodmanFixture>, IDisposable
    {
        private readonly PodmanFixture _podman;
        private readonly ModuleSession _session = new();

        public PodmanStories(PodmanFixture podman)
        {
            _podman = podman;
            _session.SetVariable("podman", podman.Uri);
        }

        public void Dispose() => _session.Dispose();

        [Fact]
        public void A_store_image_goes_to_podman_runs_there_and_comes_back_with_its_id()
        {
            _session.SetVariable("tar", Busybox.Rootfs(_session.TempDir, "pod"));
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name stories/pod:1 -Change 'CMD [\"/bin/sh\"]'"));

            var moved = Assert.Single(_session.Objects("Get-Image stories/pod:1 | Copy-EngineImage -Engine $podman"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal((string)image.Id, (string)moved.Id);
            Assert.Equal("Podman", (string)moved.StoreKind);
            var name = _podman.Podman("images", "--format", "{{.Repository}}:{{.Tag}}").Split('\n').Single(n => n.Contains("stories/pod:1")).Trim();
            Assert.Equal("from podman", _podman.RunContainer(name, "sh", "-c", "echo from podman").Trim());

            var listed = _session.Objects("Get-Image -Engine $podman stories/pod:1");
            Assert.Equal((string)image.Id, (string)Assert.Single(listed).Id);
            Assert.Contains("stories/pod", _session.RunAndRender("Get-Image -Engine $podman"));

            _session.Run("Remove-Image stories/pod:1");
            var back = Assert.Single(_session.Objects("Get-Image -Engine $podman stories/pod:1 | Copy-EngineImage"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal((string)image.Id, (string)back.Id);

            // The podman copy goes only after -WhatIf showed it.
            _session.Run("Get-Image -Engine $podman stories/pod:1 | Remove-Image -WhatIf");
            Assert.Contains("stories/pod:1", _podman.Podman("images", "--format", "{{.Repository}}:{{.Tag}}"));
            _session.Run("Get-Image -Engine $podman stories/pod:1 | Remove-Image");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.DoesNotContain("stories/pod:1", _podman.Podman("images", "--format", "{{.Repository}}:{{.Tag}}"));
        }

        [Fact]
        public void An_archive_imports_into_podman_and_its_layers_files_and_archive_read_like_the_store()
        {
            // docker import into podman: read and checked beside the store, then streamed to podman's load.
            _session.SetVariable("tar", Busybox.Rootfs(_session.TempDir, "podfiles"));
            var imported = Assert.Single(_session.Objects("Import-Image -Engine $podman $tar -Name stories/podfiles:1 -Change 'CMD [\"/bin/sh\"]'"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal("Podman", (string)imported.StoreKind);
            Assert.Contains(((string)imported.Id).Substring(7, 12), _podman.Podman("images", "--format", "{{.ID}}"));
            var layers = _session.Objects("Get-ImageLayer -Engine $podman stories/podfiles:1");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.NotEmpty(layers);
            var files = _session.Objects("Get-ImageFile -Engine $podman stories/podfiles:1 -Path 'bin/*'").Select(f => (string)f.Path).ToList();
            Assert.Contains("/bin/busybox", files);
            var archive = Path.Combine(_session.TempDir, "from-podman.tar");
            _session.SetVariable("archive", archive);
            _session.Run("Save-Image -Engine $podman stories/podfiles:1 -Path $archive | Out-Null");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal((string)Assert.Single(_session.Objects("Get-Image -Engine $podman stories/podfiles:1")).Id,
                (string)Assert.Single(_session.Objects("Import-Image $archive")).Id);
        }
    }

    /// <summary>A rootfs with a static busybox and a shell, so engines can run it.</summary>
    public static class Busybox
    {
        public static string Rootfs(string directory, string name)
        {
            var root = Path.Combine(directory, name + "-busybox");
            Directory.CreateDirectory(Path.Combine(root, "bin"));
            File.Copy("/bin/busybox", Path.Combine(root, "bin", "busybox"), overwrite: true);
            foreach (var applet in new[] { "sh", "echo", "cat", "ls" })
            {
                var link = Path.Combine(root, "bin", applet);
                if (!File.Exists(link)) File.CreateSymbolicLink(link, "busybox");
            }
            var tar = Path.Combine(directory, name + "-busybox.tar");
            ExternalTool.Run("tar", "-C", root, "-cf", tar, ".");
            return tar;
        }
    }
}
