using System;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Store;
using Xunit;

namespace ImageModule.Tests.Store
{
    /// <summary>The collector's and naming's rules (issue 14: GC never turns one bad root into a loss; tagging races removal).</summary>
    public sealed class StoreProtocolTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "imstore-protocol-" + Guid.NewGuid().ToString("N"));
        private readonly OciStore _store;

        public StoreProtocolTests() => _store = new OciStore(_root);

        public void Dispose()
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }

        private static byte[] Layer(string name, int size, int seed) => TestImages.Tar(new[] { (name, TestImages.RandomBytes(size, seed)) });

        private Image Named(string name) => _store.ListAsync(CancellationToken.None).Result.Single(i => i.Name == name);

        [Fact]
        public async Task A_corrupt_manifest_makes_the_collector_delete_nothing_and_say_why()
        {
            var a = await TestImages.AddAsync(_store, "a:1", Layer("a", 20_000, 1));
            await TestImages.AddAsync(_store, "b:1", Layer("b", 20_000, 2));
            var b = Named("docker.io/library/b:1");
            var manifestPath = _store.Layout.BlobPath(a.Manifest.Digest);
            var bytes = File.ReadAllBytes(manifestPath);
            bytes[bytes.Length / 2] ^= 0x01;
            File.WriteAllBytes(manifestPath, bytes);

            await _store.RemoveAsync(b, false, CancellationToken.None);

            Assert.True(File.Exists(_store.Layout.BlobPath(a.Config.Digest)), "A's config was deleted");
            Assert.True(File.Exists(_store.Layout.BlobPath(a.Layers[0].Digest)), "A's layer was deleted");
            Assert.NotNull(_store.LastCollection!.SkippedBecause);
            Assert.Contains("docker.io/library/a:1", _store.LastCollection.SkippedBecause);
            Assert.DoesNotContain(StoreInvariantsNames(), n => n == "docker.io/library/b:1");
        }

        [Fact]
        public async Task An_entry_with_an_empty_media_type_is_walked_like_any_other()
        {
            var a = await TestImages.AddAsync(_store, "a:1", Layer("a", 20_000, 3));
            await TestImages.AddAsync(_store, "b:1", Layer("b", 20_000, 4));
            // As Copy-Image from a layout whose index entry lacks mediaType wrote it.
            var index = File.ReadAllText(Path.Combine(_root, "index.json"));
            var rewritten = index.Replace($"\"mediaType\":\"{a.Manifest.MediaType}\",\"digest\":\"{a.Manifest.Digest}\"", $"\"mediaType\":\"\",\"digest\":\"{a.Manifest.Digest}\"");
            Assert.NotEqual(index, rewritten);
            File.WriteAllText(Path.Combine(_root, "index.json"), rewritten);

            await _store.RemoveAsync(Named("docker.io/library/b:1"), false, CancellationToken.None);

            Assert.Null(_store.LastCollection!.SkippedBecause);
            Assert.True(File.Exists(_store.Layout.BlobPath(a.Config.Digest)), "A's config was deleted");
            Assert.True(File.Exists(_store.Layout.BlobPath(a.Layers[0].Digest)), "A's layer was deleted");
        }

        [Fact]
        public async Task Tagging_racing_the_removal_of_its_source_never_leaves_a_broken_name()
        {
            for (var round = 0; round < 30; round++)
            {
                await TestImages.AddAsync(_store, $"src:{round}", Layer("s", 5_000, 100 + round));
                var source = Named($"docker.io/library/src:{round}");
                var tag = Task.Run(async () =>
                {
                    try { await _store.TagAsync(source, ImageReference.Parse($"dst:{round}"), CancellationToken.None); }
                    catch (ImageModuleException) { }
                });
                var remove = Task.Run(() => _store.RemoveAsync(source, false, CancellationToken.None));
                await Task.WhenAll(tag, remove);
                var names = StoreInvariantsNames();
                if (names.Contains($"docker.io/library/dst:{round}"))
                {
                    var entry = await _store.ResolveAsync($"dst:{round}", CancellationToken.None);
                    Assert.True(_store.Layout.HasBlob(entry), $"round {round}: dst:{round} names a deleted manifest");
                    var image = Named($"docker.io/library/dst:{round}");
                    await _store.RemoveAsync(image, false, CancellationToken.None);
                }
            }
        }

        [Fact]
        public async Task Naming_refuses_a_manifest_whose_layer_is_missing()
        {
            var built = await TestImages.PushAsync(_store, new[] { Layer("x", 5_000, 7) });
            File.Delete(_store.Layout.BlobPath(built.Layers[0].Digest));
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => _store.TagAsync(built.Manifest, "x:1", CancellationToken.None));
            Assert.Equal("ImageIncomplete", e.ErrorId);
            Assert.Empty(StoreInvariantsNames());
        }

        [Fact]
        public async Task A_lease_on_a_manifest_keeps_what_it_names_until_it_is_named()
        {
            var built = await TestImages.AddAsync(_store, "a:1", Layer("a", 20_000, 9));
            using (_store.BeginIngest())
            {
                // A copy of the same image finds the manifest already there, and leases it.
                Assert.True(await _store.ExistsAsync(built.Manifest, CancellationToken.None));
                await _store.RemoveAsync(Named("docker.io/library/a:1"), false, CancellationToken.None);
                Assert.True(File.Exists(_store.Layout.BlobPath(built.Layers[0].Digest)), "the leased manifest's layer was deleted");
                await _store.TagAsync(built.Manifest, "b:1", CancellationToken.None);
            }
            await _store.CollectGarbageAsync(CancellationToken.None);
            Assert.Single(await _store.ListAsync(CancellationToken.None));
        }

        [Fact]
        public async Task A_lease_being_created_is_not_cleaned_away_before_its_owner_locks_it()
        {
            await TestImages.AddAsync(_store, "a:1", Layer("a", 20_000, 10));
            // Another process has created its lease file but not yet locked it (open, then flock, then rename): deleting
            // it there failed that process's Copy-Image with "Could not find file …lease.new" in the stress story.
            var leases = Path.Combine(_store.Layout.SideDirectory, "leases");
            Directory.CreateDirectory(leases);
            var creating = Path.Combine(leases, $"{int.MaxValue}-{Guid.NewGuid():N}.lease.new");
            File.WriteAllText(creating, "");

            await _store.CollectGarbageAsync(CancellationToken.None);
            Assert.True(File.Exists(creating), "a lease still being created was deleted");

            // One left by a process that died while creating it, long ago, goes.
            File.SetLastWriteTimeUtc(creating, DateTime.UtcNow.AddHours(-1));
            await _store.CollectGarbageAsync(CancellationToken.None);
            Assert.False(File.Exists(creating), "an abandoned lease file was kept");
        }

        private string[] StoreInvariantsNames() =>
            (_store.Layout.ReadIndex().Manifests).Select(m => m.Annotation(AnnotationKeys.RefName)).Where(n => n != null).Select(n => n!).ToArray();
    }
}
