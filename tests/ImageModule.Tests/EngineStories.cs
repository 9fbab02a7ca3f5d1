using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>The local-image cmdlets on a real Docker engine, as a user types them.</summary>
    public sealed class EngineStories : IClassFixture<DockerFixture>, System.IDisposable
    {
        private readonly DockerFixture _engine;
        private readonly ModuleSession _session = new();

        public EngineStories(DockerFixture engine)
        {
            _engine = engine;
            _session.SetVariable("engine", "unix://" + engine.Socket);
            _session.Run("$PSDefaultParameterValues['*-Image*:Engine'] = $engine");
        }

        public void Dispose() => _session.Dispose();

        private string Repositories() => _engine.Docker("images", "--format", "{{.Repository}}:{{.Tag}}");

        [Fact]
        public void The_literal_pipeline_removes_only_the_large_engine_images_and_refuses_one_in_use()
        {
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "big", 110, 61), "stories/big:1");
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "small", 1, 62), "stories/small:1");
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "busy", 105, 63), "stories/busy:1");
            _engine.Docker("create", "--network=none", "stories/busy:1", "/bin/sh");

            _session.Run("Get-Image | Where-Object Size -gt 100MB | Remove-Image -WhatIf");
            Assert.Contains("stories/big:1", Repositories());

            _session.Run("Get-Image | Where-Object Size -gt 100MB | Remove-Image");

            var left = Repositories();
            Assert.DoesNotContain("stories/big:1", left);
            Assert.Contains("stories/small:1", left);
            Assert.Contains("stories/busy:1", left);
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ImageInUse,ImageModule.Commands.RemoveImageCommand", error.FullyQualifiedErrorId);

            _session.Errors.Clear();
            _session.Run("Get-Image stories/busy:1 | Remove-Image -Force");
            Assert.Empty(_session.Errors);
            Assert.DoesNotContain("stories/busy:1", Repositories());
        }

        [Fact]
        public void An_engine_image_moves_to_the_store_and_back_keeping_its_id()
        {
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "mv", 2, 64), "stories/move:1");
            var id = _engine.Docker("inspect", "--format", "{{.Id}}", "stories/move:1").Trim();

            var output = _session.Objects("Get-Image stories/move:1 | Copy-EngineImage");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            var copied = Assert.Single(output);
            Assert.Equal(id, (string)copied.Id);
            Assert.Equal("Store", (string)copied.StoreKind);

            _engine.Docker("rmi", "stories/move:1");
            var back = Assert.Single(_session.Objects("Get-Image -Engine Store stories/move:1 | Copy-EngineImage -Engine $engine"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal(id, (string)back.Id);
            Assert.Equal("Docker", (string)back.StoreKind);
        }

        [Fact]
        public void Stopping_Copy_EngineImage_midway_stops_promptly_and_names_nothing_on_either_side()
        {
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "stopcopy", 200, 65), "stories/stopcopy:1");
            var temp = Path.Combine(_session.StorePath, ".imagemodule", "tmp");

            // Engine → store: docker save streams into the store's staging; stopped once a layer is on its way.
            var elapsed = _session.RunAndStop("Get-Image stories/stopcopy:1 | Copy-EngineImage",
                () => Directory.Exists(temp) && Directory.EnumerateFiles(temp, "*", SearchOption.AllDirectories).Any(f => { try { return new FileInfo(f).Length > 1_000_000; } catch (IOException) { return false; } }),
                TimeSpan.FromSeconds(120));
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"stopping took {elapsed}");
            Assert.Empty(_session.Objects("Get-Image -Engine Store"));
            Assert.Empty(Directory.GetFiles(temp, "*", SearchOption.AllDirectories));

            // Store → engine: docker load is fed from the store; stopped once the load reports progress, the engine
            // gets no image (a load cut short is refused whole).
            _session.Run("Get-Image stories/stopcopy:1 | Copy-EngineImage | Out-Null");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            _engine.Docker("rmi", "stories/stopcopy:1");
            elapsed = _session.RunAndStop("Get-Image -Engine Store stories/stopcopy:1 | Copy-EngineImage -Engine $engine",
                () => _session.Progress.Count > 3, TimeSpan.FromSeconds(120));
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"stopping took {elapsed}");
            Assert.Equal("", _engine.Docker("images", "-q", "stories/stopcopy:1").Trim());
            Assert.Single(_session.Objects("Get-Image -Engine Store stories/stopcopy:1"));
        }

        [Fact]
        public void An_engine_that_is_not_running_is_one_clear_error()
        {
            _session.Run("Get-Image -Engine unix:///nonexistent/docker.sock");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("EngineUnreachable,ImageModule.Commands.GetImageCommand", error.FullyQualifiedErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.ConnectionError, error.CategoryInfo.Category);
            Assert.Contains("unix:///nonexistent/docker.sock", error.Exception.Message);
        }

        [Fact]
        public void Pulls_and_pushes_go_through_the_engine_and_an_image_the_store_pulled_runs_in_docker()
        {
            using var registry = new RegistryFixture();
            _session.SetVariable("tar", Busybox.Rootfs(_session.TempDir, "run"));
            _session.SetVariable("remote", $"{registry.Host}/stories/run:1");
            _session.Run("Import-Image -Engine Store $tar -Name stories/run:1 -Change 'CMD [\"/bin/sh\"]' | Out-Null; Publish-Image -Engine Store stories/run:1 -Destination $remote | Out-Null");
            _session.Run("Remove-Image -Engine Store stories/run:1");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));

            // docker pull, done by the engine.
            var pulled = Assert.Single(_session.Objects("Install-Image $remote"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal("Docker", (string)pulled.StoreKind);
            Assert.Equal("pulled by the engine", _engine.Docker("run", "--rm", "--network=none", $"{registry.Host}/stories/run:1", "sh", "-c", "echo pulled by the engine").Trim());

            // docker push, done by the engine, under a new name.
            var pushed = Assert.Single(_session.Objects($"Publish-Image $remote -Destination {registry.Host}/stories/pushed:1"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.StartsWith("sha256:", (string)pushed.Digest);
            Assert.Contains((string)pushed.Digest, ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{registry.Host}/stories/pushed:1"));

            // The store pulls it from the registry, moves it into docker, and docker runs it.
            _engine.Docker("rmi", "-f", $"{registry.Host}/stories/pushed:1");
            var stored = Assert.Single(_session.Objects($"Install-Image -Engine Store {registry.Host}/stories/pushed:1"));
            var moved = Assert.Single(_session.Objects($"Get-Image -Engine Store {registry.Host}/stories/pushed:1 | Copy-EngineImage -Engine $engine"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal((string)stored.Id, (string)moved.Id);
            Assert.Equal("from the store", _engine.Docker("run", "--rm", "--network=none", $"{registry.Host}/stories/pushed:1", "sh", "-c", "echo from the store").Trim());

            // Layers and files of an engine image read like the store's: docker save streamed into a temporary copy.
            Assert.Contains("/bin/busybox", _session.Objects($"Get-ImageFile {registry.Host}/stories/pushed:1 -Path 'bin/*'").Select(f => (string)f.Path));
            var archive = System.IO.Path.Combine(_session.TempDir, "saved-from-docker.tar");
            _session.SetVariable("archive", archive);
            _session.Run($"Save-Image {registry.Host}/stories/pushed:1 -Path $archive | Out-Null");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal((string)stored.Id, (string)Assert.Single(_session.Objects("Import-Image -Engine Store $archive -Name stories/reloaded:1")).Id);
            Assert.False(System.IO.Directory.EnumerateDirectories(System.IO.Path.Combine(_session.StorePath, ".imagemodule", "tmp"), "engine-*", System.IO.SearchOption.AllDirectories).Any(), "the temporary copy is gone");
        }

        [Fact]
        public void Copy_Image_docker_daemon_transport_moves_between_the_engine_a_registry_and_the_store()
        {
            using var registry = new RegistryFixture();
            _engine.Docker("import", Rootfs.Create(_session.TempDir, "daemon", 1, 67), "stories/daemon:1");
            var id = _engine.Docker("inspect", "--format", "{{.Id}}", "stories/daemon:1").Trim();

            // docker-daemon: → registry, without the store; then registry → docker-daemon: under another name.
            var copied = Assert.Single(_session.Objects($"Copy-Image docker-daemon:stories/daemon:1 {registry.Host}/stories/daemon:1"));
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Contains((string)copied.Digest, ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{registry.Host}/stories/daemon:1"));
            Assert.False(System.IO.Directory.Exists(System.IO.Path.Combine(_session.StorePath, "blobs")) && System.IO.Directory.EnumerateFiles(System.IO.Path.Combine(_session.StorePath, "blobs"), "*", System.IO.SearchOption.AllDirectories).Any());
            _session.Run($"Copy-Image {registry.Host}/stories/daemon:1 docker-daemon:stories/daemon-back:1 | Out-Null");
            Assert.Empty(_session.Errors.Select(e => e.ToString()));
            Assert.Equal(id, _engine.Docker("inspect", "--format", "{{.Id}}", "stories/daemon-back:1").Trim());

            // docker-daemon: → store keeps the ID.
            _session.Run("Copy-Image docker-daemon:stories/daemon:1 store:stories/daemon:2 | Out-Null");
            Assert.Equal(id, (string)Assert.Single(_session.Objects("Get-Image -Engine Store stories/daemon:2")).Id);
        }
    }
}
