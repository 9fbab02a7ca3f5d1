using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Archives moving between the module and real engines: our Save → docker/podman load, their save → our Import.</summary>
    public sealed class EngineInteropStories : IClassFixture<DockerFixture>, IDisposable
    {
        private readonly DockerFixture _engine;
        private readonly ModuleSession _session = new();

        public EngineInteropStories(DockerFixture engine) => _engine = engine;

        public void Dispose() => _session.Dispose();

        private string Archive(string name)
        {
            var path = Path.Combine(_session.TempDir, name);
            _session.SetVariable("archive", path);
            return path;
        }

        [Fact]
        public void An_image_docker_built_with_RUN_steps_loads_with_its_id_diff_ids_and_history()
        {
            var id = _engine.Build("interop/built:1");
            var diffIds = _engine.Docker("inspect", "--format", "{{json .RootFS.Layers}}", "interop/built:1");
            var archive = Archive("docker-saved.tar");
            _engine.Docker("save", "-o", archive, "interop/built:1");

            var image = Assert.Single(_session.Objects("Import-Image $archive"));
            Assert.Empty(_session.Errors);
            Assert.Equal(id, (string)image.Id);
            foreach (var d in (System.Collections.Generic.IEnumerable<string>)image.LayerDiffIds) Assert.Contains(d, diffIds);
            var history = _session.Objects("Get-ImageLayer interop/built:1").Select(l => (string)(l.CreatedBy ?? "")).ToList();
            Assert.Contains(history, h => h.Contains("echo two > /app/second"));

            // The RUN step that deleted /app/old left a whiteout; the flattened filesystem honours it.
            var files = _session.Objects("Get-ImageFile interop/built:1 -Path 'app/*'").Select(f => (string)f.Path).ToList();
            Assert.Contains("/app/greeting", files);
            Assert.Contains("/app/second", files);
            Assert.DoesNotContain(files, f => f.StartsWith("/app/old", StringComparison.Ordinal));
        }

        [Fact]
        public void Docker_push_then_our_pull_and_our_push_then_docker_pull_and_run_keep_the_image()
        {
            using var registry = new RegistryFixture();
            var id = _engine.Build("interop/pushed:1");
            var remote = $"{registry.Host}/interop/pushed:1";
            _engine.Docker("tag", "interop/pushed:1", remote);
            _engine.Docker("push", remote);
            var dockerDigest = _engine.Docker("inspect", "--format", "{{index .RepoDigests 0}}", remote).Trim();

            var pulled = Assert.Single(_session.Objects($"Install-Image {remote}"));
            Assert.Empty(_session.Errors);
            Assert.Equal(id, (string)pulled.Id);
            Assert.EndsWith((string)pulled.Digest, dockerDigest);

            var back = $"{registry.Host}/interop/republished:1";
            var published = Assert.Single(_session.Objects($"Publish-Image {remote} -Destination {back}"));
            Assert.Equal((string)pulled.Digest, (string)published.Digest);
            _engine.Docker("pull", back);
            Assert.Equal(id, _engine.Docker("inspect", "--format", "{{.Id}}", back).Trim());
            Assert.Equal("hello", _engine.Docker("run", "--rm", "--network=none", back, "sh", "-c", "read line < /app/greeting; echo $line").Trim());
        }

        [Fact]
        public void Our_archive_loads_into_docker_and_podman_with_the_same_id_and_diff_ids()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "ours", 2, 51));
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name interop/ours:1"));
            var archive = Archive("saved-by-module.tar");
            _session.Run("Save-Image interop/ours:1 -Path $archive | Out-Null");
            Assert.Empty(_session.Errors);

            _engine.Docker("load", "-i", archive);
            Assert.Equal((string)image.Id, _engine.Docker("inspect", "--format", "{{.Id}}", "interop/ours:1").Trim());
            Assert.Contains((string)image.LayerDiffIds[0], _engine.Docker("inspect", "--format", "{{json .RootFS.Layers}}", "interop/ours:1"));

            _engine.Podman("load", "-i", archive);
            Assert.Contains(((string)image.Id).Substring(7), _engine.Podman("images", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"));
        }

        [Fact]
        public void Podman_saved_archives_in_both_formats_load_with_the_same_id()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "pod", 1, 52));
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name interop/pod:1"));
            var ours = Archive("for-podman.tar");
            _session.Run("Save-Image interop/pod:1 -Path $archive | Out-Null");
            _engine.Podman("load", "-i", ours);
            foreach (var format in new[] { "docker-archive", "oci-archive" })
            {
                var saved = Archive($"podman-{format}.tar");
                _engine.Podman("save", "--format", format, "-o", saved, "docker.io/interop/pod:1");
                _session.Run("Get-Image | Remove-Image -Force");
                var loaded = _session.Objects("Import-Image $archive -Name interop/pod:back");
                Assert.Empty(_session.Errors);
                Assert.Equal((string)image.Id, (string)Assert.Single(loaded).Id);
            }
        }
    }
}
