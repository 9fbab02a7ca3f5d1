using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Archive;
using ImageModule.Engine;
using ImageModule.References;
using ImageModule.Store;
using Xunit;

namespace ImageModule.Tests.Engine
{
    /// <summary>EngineStore against a real dockerd: listing, layers, tag, remove, conflicts, prune and streamed moves.</summary>
    public sealed class EngineStoreTests : IClassFixture<DockerdFixture>, IDisposable
    {
        private readonly DockerdFixture _docker;
        private readonly EngineStore _engine;
        private readonly string _storeDir;
        private static readonly CancellationToken None = CancellationToken.None;

        /// <summary>What `docker build` makes here: linux and this machine's architecture in Go's names.</summary>
        private static string MachinePlatform => "linux/" + System.Runtime.InteropServices.RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            var other => other.ToString().ToLowerInvariant(),
        };

        public EngineStoreTests(DockerdFixture docker)
        {
            _docker = docker;
            _docker.EnsureRunning();
            _engine = EngineStore.Open(docker.Uri);
            _storeDir = Path.Combine(Path.GetTempPath(), "imd-engine-store-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        }

        public void Dispose()
        {
            _engine.Dispose();
            if (Directory.Exists(_storeDir)) Directory.Delete(_storeDir, true);
        }

        private async Task<Image> RowAsync(string name)
        {
            var full = ImageReference.Parse(name).ToString();
            return (await _engine.ListAsync(None)).Single(i => i.Name == full);
        }

        [Fact]
        public async Task Lists_imported_and_built_images_like_docker_images_with_inspect_details()
        {
            var baseId = _docker.ImportBusybox("list/base:1");
            var builtId = _docker.Build("list/built:1", "list/base:1");
            _docker.Docker("tag", "list/built:1", "localhost:5000/list/built:2");

            var images = await _engine.ListAsync(None);

            Assert.NotNull(_engine.ApiVersion);
            Assert.True(_engine.ApiVersion <= EngineStore.MaxApiVersion);
            var built = images.Single(i => i.Name == "docker.io/list/built:1");
            Assert.Equal(builtId, built.Id);
            Assert.Equal("list/built", built.Repository);
            Assert.Equal("1", built.Tag);
            Assert.Equal("Docker", built.StoreKind);
            Assert.Equal(_docker.Uri, built.Location);
            Assert.Equal(MachinePlatform, built.Platform);
            Assert.Equal("built", built.Labels["org.example.stage"]);
            Assert.Contains("GREETING=hello", built.Config.Env!);
            Assert.Equal(3, built.LayerDiffIds.Count);
            Assert.Equal(new[] { "docker.io/list/built:1", "localhost:5000/list/built:2" }, built.RepoTags.OrderBy(t => t));
            Assert.True(built.Size > 500_000, "busybox is in the size");
            Assert.NotNull(built.Created);
            Assert.Null(built.Digest); // built locally, never pushed: no RepoDigests

            var second = images.Single(i => i.Name == "localhost:5000/list/built:2");
            Assert.Equal(builtId, second.Id);
            Assert.Equal("localhost:5000/list/built", second.Repository);
            Assert.Equal(baseId, images.Single(i => i.Name == "docker.io/list/base:1").Id);

            var dockerIds = _docker.Docker("images", "--no-trunc", "--format", "{{.ID}}").Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct().OrderBy(x => x);
            Assert.Equal(dockerIds, images.Select(i => i.Id).Distinct().OrderBy(x => x));
        }

        [Fact]
        public async Task Layers_merge_history_with_the_root_filesystem_newest_first()
        {
            _docker.ImportBusybox("layers/base:1");
            _docker.Build("layers/built:1", "layers/base:1");
            var diffIds = _docker.Docker("inspect", "--format", "{{range .RootFS.Layers}}{{.}} {{end}}", "layers/built:1").Split(new[] { ' ', '\n' }, StringSplitOptions.RemoveEmptyEntries);

            var layers = await _engine.GetLayersAsync(await RowAsync("layers/built:1"), None);

            var real = layers.Where(l => !l.EmptyLayer).ToList();
            Assert.Equal(diffIds.Reverse(), real.Select(l => l.DiffId));
            Assert.Equal(new[] { 2, 1, 0 }, real.Select(l => l.Index));
            Assert.Contains("echo two > /app/second", real[0].CreatedBy);
            Assert.Contains(layers, l => l.EmptyLayer && (l.CreatedBy ?? "").Contains("GREETING"));
            Assert.True(real[2].Size > 500_000, "the busybox layer");
            // The base layer is shared with layers/base:1.
            Assert.Contains("docker.io/layers/base:1", real[2].SharedBy);
            Assert.Equal(_docker.Docker("history", "-q", "--no-trunc", "layers/built:1").Split('\n', StringSplitOptions.RemoveEmptyEntries).Length, layers.Count);
        }

        [Fact]
        public async Task Tagging_adds_a_name_and_removing_a_name_keeps_the_image()
        {
            var id = _docker.ImportBusybox("tag/source:1");

            var tagged = await _engine.TagAsync(await RowAsync("tag/source:1"), ImageReference.Parse("localhost:5000/tag/copy:2"), None);

            Assert.Equal(id, tagged.Id);
            Assert.Equal("localhost:5000/tag/copy:2", tagged.Name);
            Assert.Contains("localhost:5000/tag/copy:2", _docker.Docker("images", "--format", "{{.Repository}}:{{.Tag}}"));

            await _engine.RemoveAsync(tagged, force: false, None);

            Assert.DoesNotContain("tag/copy", _docker.Docker("images", "--format", "{{.Repository}}:{{.Tag}}"));
            Assert.Equal(id, (await RowAsync("tag/source:1")).Id);

            await Assert.ThrowsAsync<ImageNotFoundException>(() => _engine.RemoveAsync(tagged, force: false, None));
        }

        [Fact]
        public async Task An_image_used_by_a_container_is_refused_with_ImageInUse_and_removed_with_force()
        {
            var id = _docker.ImportBusybox("inuse/app:1");
            _docker.Docker("create", "--network=none", "inuse/app:1", "/bin/true");
            var row = await RowAsync("inuse/app:1");

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => _engine.RemoveAsync(row, force: false, None));
            Assert.Equal(EngineErrors.ImageInUse, e.ErrorId);
            Assert.Equal(ErrorKind.InvalidOperation, e.Kind);
            Assert.Contains("inuse/app", _docker.Docker("images", "--format", "{{.Repository}}"));

            await _engine.RemoveAsync(row, force: true, None);

            Assert.DoesNotContain("inuse/app", _docker.Docker("images", "--format", "{{.Repository}}"));
            Assert.DoesNotContain((await _engine.ListAsync(None)), i => i.Name == "docker.io/inuse/app:1");
            Assert.NotEmpty(id);
        }

        [Fact]
        public async Task A_moved_tag_leaves_a_dangling_row_that_prune_and_remove_clear()
        {
            var first = _docker.ImportBusybox("dangle/app:1");
            var second = _docker.ImportBusybox("dangle/app:1");
            Assert.NotEqual(first, second);

            var dangling = (await _engine.ListAsync(None)).Single(i => i.Id == first);
            Assert.Null(dangling.Name);
            Assert.True(dangling.Dangling);
            Assert.Equal("<none>", dangling.Repository);

            var (count, _) = await _engine.PruneAsync(None);

            Assert.True(count >= 1);
            Assert.DoesNotContain(await _engine.ListAsync(None), i => i.Id == first);

            // A dangling row removed one by one, as Remove-Image -Dangling does.
            _docker.ImportBusybox("dangle/app:1");
            var again = (await _engine.ListAsync(None)).Single(i => i.Id == second);
            await _engine.RemoveAsync(again, force: false, None);
            Assert.DoesNotContain(await _engine.ListAsync(None), i => i.Id == second);
        }

        [Fact]
        public async Task An_engine_built_image_moves_to_the_store_and_back_with_its_id()
        {
            _docker.ImportBusybox("move/base:1");
            var id = _docker.Build("move/built:1", "move/base:1");
            var store = new OciStore(_storeDir);

            IReadOnlyList<LoadedImage> loaded;
            using (store.BeginIngest())
            {
                loaded = await _engine.SaveToAsync(new[] { "move/built:1" }, store.Content, new LoadOptions { TempDirectory = _storeDir }, null, None);
            }

            var inStore = Assert.Single(await store.ListAsync(None));
            Assert.Equal(id, inStore.Id);
            Assert.Equal("docker.io/move/built:1", inStore.Name);
            Assert.Equal((await RowAsync("move/built:1")).LayerDiffIds, inStore.LayerDiffIds);
            Assert.Single(loaded);

            _docker.Docker("rmi", "move/built:1");
            Assert.DoesNotContain("move/built", _docker.Docker("images", "--format", "{{.Repository}}"));

            var manifest = await store.ResolveAsync("docker.io/move/built:1", None);
            var reported = await _engine.LoadFromAsync(store.Content, new[] { new SaveItem(new[] { "docker.io/move/built:1" }, manifest) }, null, None);

            Assert.Equal(id, _docker.Docker("inspect", "--format", "{{.Id}}", "move/built:1").Trim());
            Assert.Contains(reported, r => r.Contains("move/built:1"));
            Assert.Equal("hello\ntwo\n", _docker.Docker("run", "--rm", "--network=none", "move/built:1", "sh", "-c", "cat /app/greeting /app/second"));
        }

        [Fact]
        public async Task A_store_image_with_gzip_layers_loads_into_the_engine_with_its_id()
        {
            var store = new OciStore(_storeDir);
            var built = await TestImages.AddAsync(store, "docker.io/fromstore/random:1",
                TestImages.Tar(new[] { ("data/blob.bin", TestImages.RandomBytes(3 << 20, 7)) }),
                TestImages.Tar(new[] { ("data/small.txt", new byte[] { 1, 2, 3 }) }));

            await _engine.LoadFromAsync(store.Content, new[] { new SaveItem(new[] { "docker.io/fromstore/random:1" }, built.Manifest) }, null, None);

            var row = await RowAsync("fromstore/random:1");
            Assert.Equal(built.Config.Digest.ToString(), row.Id);
            Assert.Equal(built.DiffIds.Select(d => d.ToString()), row.LayerDiffIds);
        }

        [Fact]
        public async Task Missing_images_are_ImageNotFound()
        {
            await Assert.ThrowsAsync<ImageNotFoundException>(() => _engine.SaveToAsync(new[] { "nothere/at-all:1" }, new OciStore(_storeDir).Content, null, null, None));
            var ghost = new Image { Name = "docker.io/nothere/at-all:1", Id = "sha256:" + new string('0', 64), StoreKind = "Docker", Location = _docker.Uri };
            await Assert.ThrowsAsync<ImageNotFoundException>(() => _engine.GetLayersAsync(ghost, None));
            await Assert.ThrowsAsync<ImageNotFoundException>(() => _engine.RemoveAsync(ghost, false, None));
        }
    }
}
