using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Store;
using Xunit;

namespace ImageModule.Tests.Store
{
    public sealed class OciStoreTests : IDisposable
    {
        private readonly string _root = Path.Combine(Path.GetTempPath(), "imstore-" + Guid.NewGuid().ToString("N"));
        private readonly OciStore _store;

        public OciStoreTests() => _store = new OciStore(_root);

        public void Dispose()
        {
            if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
        }

        private static byte[] Layer(string name, int size, int seed) => TestImages.Tar(new[] { (name, TestImages.RandomBytes(size, seed)) });

        [Fact]
        public async Task Tagged_images_are_listed_with_uncompressed_size_and_full_names()
        {
            var layer = Layer("data.bin", 300_000, 1);
            var built = await TestImages.AddAsync(_store, "alpine:3", layer);
            var images = await _store.ListAsync(CancellationToken.None);
            var image = Assert.Single(images);
            Assert.Equal("docker.io/library/alpine:3", image.Name);
            Assert.Equal("alpine", image.Repository);
            Assert.Equal("3", image.Tag);
            Assert.Equal(built.Config.Digest.ToString(), image.Id);
            Assert.Equal(built.Manifest.Digest.ToString(), image.Digest);
            Assert.Equal(layer.Length, image.Size);
            Assert.Equal(built.Layers[0].Size, image.CompressedSize);
            Assert.Equal(Platform.Current.ToString(), image.Platform);
            var index = File.ReadAllText(Path.Combine(_root, "index.json"));
            Assert.Contains("\"org.opencontainers.image.ref.name\":\"docker.io/library/alpine:3\"", index);
        }

        [Fact]
        public async Task Removing_the_last_name_deletes_unshared_blobs_but_keeps_shared_ones()
        {
            var shared = Layer("base.bin", 50_000, 2);
            var a = await TestImages.AddAsync(_store, "a:1", shared, Layer("a.bin", 10_000, 3));
            var b = await TestImages.AddAsync(_store, "b:1", shared, Layer("b.bin", 10_000, 4));
            var images = await _store.ListAsync(CancellationToken.None);
            Assert.All(images, i => Assert.Equal(shared.Length, i.SharedSize));

            await _store.RemoveAsync(images.Single(i => i.Name == "docker.io/library/a:1"), false, CancellationToken.None);

            Assert.False(File.Exists(_store.Layout.BlobPath(a.Layers[1].Digest)));
            Assert.False(File.Exists(_store.Layout.BlobPath(a.Manifest.Digest)));
            Assert.False(File.Exists(_store.Layout.BlobPath(a.Config.Digest)));
            Assert.True(File.Exists(_store.Layout.BlobPath(a.Layers[0].Digest)));
            Assert.True(File.Exists(_store.Layout.BlobPath(b.Layers[1].Digest)));
            var left = Assert.Single(await _store.ListAsync(CancellationToken.None));
            Assert.Equal(0, left.SharedSize);
        }

        [Fact]
        public async Task Two_names_on_one_image_untag_one_at_a_time()
        {
            var built = await TestImages.AddAsync(_store, "app:1", Layer("x", 1000, 5));
            await _store.TagAsync(built.Manifest, "registry.example:5000/app:prod", CancellationToken.None);
            var images = await _store.ListAsync(CancellationToken.None);
            Assert.Equal(2, images.Count);
            Assert.All(images, i => Assert.Equal(2, i.RepoTags.Count));

            await _store.RemoveAsync(images[0], false, CancellationToken.None);
            Assert.True(File.Exists(_store.Layout.BlobPath(built.Layers[0].Digest)));
            Assert.Single(await _store.ListAsync(CancellationToken.None));
        }

        [Fact]
        public async Task Moving_a_tag_leaves_the_old_image_dangling()
        {
            var old = await TestImages.AddAsync(_store, "app:1", Layer("x", 1000, 6));
            var @new = await TestImages.AddAsync(_store, "app:1", Layer("x", 1000, 7));
            var images = await _store.ListAsync(CancellationToken.None);
            Assert.Equal(2, images.Count);
            var dangling = Assert.Single(images, i => i.Dangling);
            Assert.Equal(old.Config.Digest.ToString(), dangling.Id);
            Assert.Equal("<none>", dangling.Repository);
            Assert.Equal(@new.Config.Digest.ToString(), images.Single(i => !i.Dangling).Id);
        }

        [Fact]
        public async Task Resolve_finds_by_full_name_short_name_digest()
        {
            var built = await TestImages.AddAsync(_store, "localhost:5000/team/app:v1", Layer("x", 100, 8));
            Assert.Equal(built.Manifest.Digest, (await _store.ResolveAsync("localhost:5000/team/app:v1", CancellationToken.None)).Digest);
            Assert.Equal(built.Manifest.Digest, (await _store.ResolveAsync(built.Manifest.Digest.ToString(), CancellationToken.None)).Digest);
            await Assert.ThrowsAsync<ImageNotFoundException>(() => _store.ResolveAsync("localhost:5000/team/app:v2", CancellationToken.None));
        }

        [Fact]
        public async Task A_blob_with_wrong_content_is_rejected_and_nothing_is_left()
        {
            var content = TestImages.RandomBytes(1000, 9);
            var claimed = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(TestImages.RandomBytes(1000, 10)), 1000);
            await Assert.ThrowsAsync<DigestMismatchException>(() => _store.PushAsync(claimed, new MemoryStream(content), null, CancellationToken.None));
            Assert.False(File.Exists(_store.Layout.BlobPath(claimed.Digest)));
            Assert.Empty(Directory.GetFiles(_store.Layout.TempDirectory, "*", SearchOption.AllDirectories));
            var tooLong = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(content), 999);
            await Assert.ThrowsAsync<SizeMismatchException>(() => _store.PushAsync(tooLong, new MemoryStream(content), null, CancellationToken.None));
            Assert.False(File.Exists(_store.Layout.BlobPath(tooLong.Digest)));
        }

        private long? CachedUncompressedSize(Digest digest)
        {
            var path = Path.Combine(_root, ".imagemodule", "cache.json");
            if (!File.Exists(path)) return null;
            using var doc = System.Text.Json.JsonDocument.Parse(StoreCache.Payload(File.ReadAllBytes(path), out _));
            return doc.RootElement.GetProperty("uncompressedSizes").TryGetProperty(digest.ToString(), out var size) ? size.GetInt64() : null;
        }

        [Fact]
        public async Task A_compressed_layer_has_its_uncompressed_size_counted_while_it_is_written()
        {
            // Several MB of half-compressible content, in two gzip members (as concatenated gzip layers are written).
            var tar = TestImages.Tar(Enumerable.Range(0, 8).Select(i => ($"f{i}", TestImages.RandomBytes(400_000, i).Select((b, j) => j % 2 == 0 ? b : (byte)0).ToArray())));
            var half = tar.Length / 2;
            var gz = TestImages.Gzip(tar.Take(half).ToArray()).Concat(TestImages.Gzip(tar.Skip(half).ToArray())).ToArray();
            var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(gz), gz.Length);
            await _store.PushAsync(layer, new NonSeekable(gz, 7_001), null, CancellationToken.None);
            Assert.Equal(tar.Length, CachedUncompressedSize(layer.Digest));

            // Content that says gzip but is not: stored all the same (its digest is right), its size left to listing.
            var bogus = new byte[] { 0x1f, 0x8b, 8, 0 }.Concat(TestImages.RandomBytes(200_000, 3)).ToArray();
            var bogusLayer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(bogus), bogus.Length);
            await _store.PushAsync(bogusLayer, new MemoryStream(bogus), null, CancellationToken.None);
            Assert.True(File.Exists(_store.Layout.BlobPath(bogusLayer.Digest)));
            Assert.Null(CachedUncompressedSize(bogusLayer.Digest));
        }

        [Fact]
        public async Task A_large_blob_read_back_is_checked_while_read_and_a_corrupted_one_throws_at_the_end()
        {
            var content = TestImages.RandomBytes(6 << 20, 21);
            var blob = new Descriptor(MediaTypes.OciLayer, Digest.Compute(content), content.Length);
            await _store.PushAsync(blob, new MemoryStream(content), null, CancellationToken.None);
            using (var read = _store.Layout.OpenBlob(blob))
            {
                var copy = new MemoryStream();
                await read.CopyToAsync(copy);
                Assert.Equal(content, copy.ToArray());
            }
            using (var read = _store.Layout.OpenBlob(blob))
            {
                // Small odd-sized reads, as a decompressor makes, ending inside a chunk; then reads larger than a chunk.
                var copy = new MemoryStream();
                var small = new byte[7919];
                int n;
                while (copy.Length < (3 << 20) + 1 && (n = read.Read(small, 0, small.Length)) > 0) copy.Write(small, 0, n);
                read.CopyTo(copy, 2 << 20);
                Assert.Equal(content, copy.ToArray());
            }
            var path = _store.Layout.BlobPath(blob.Digest);
            var bytes = File.ReadAllBytes(path);
            bytes[5_000_000] ^= 1;
            File.WriteAllBytes(path, bytes);
            using (var read = _store.Layout.OpenBlob(blob))
            {
                await Assert.ThrowsAsync<DigestMismatchException>(() => read.CopyToAsync(Stream.Null));
            }
            // Abandoned halfway: disposing does not hang or throw.
            using (var read = _store.Layout.OpenBlob(blob)) read.ReadExactly(new byte[1 << 20], 0, 1 << 20);
        }

        /// <summary>Hands out content in small, odd-sized reads, as a network stream does.</summary>
        private sealed class NonSeekable : ImageModule.Content.ReadOnlyStream
        {
            private readonly MemoryStream _inner;
            private readonly int _chunk;
            public NonSeekable(byte[] data, int chunk) { _inner = new MemoryStream(data); _chunk = chunk; }
            public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, _chunk));
        }

        [Fact]
        public async Task Garbage_collection_spares_blobs_of_an_ingest_in_progress()
        {
            using (_store.BeginIngest())
            {
                var pending = await TestImages.PushAsync(_store, new[] { Layer("p", 100, 11) });
                await _store.CollectGarbageAsync(CancellationToken.None);
                Assert.True(File.Exists(_store.Layout.BlobPath(pending.Layers[0].Digest)));
            }
            var (blobs, _, _) = await _store.CollectGarbageAsync(CancellationToken.None);
            Assert.Equal(3, blobs);
        }

        [Fact]
        public async Task The_cache_can_be_deleted_and_is_rebuilt()
        {
            var layer = Layer("x", 5000, 12);
            await TestImages.AddAsync(_store, "c:1", layer);
            var first = Assert.Single(await _store.ListAsync(CancellationToken.None));
            File.Delete(Path.Combine(_root, ".imagemodule", "cache.json"));
            var second = Assert.Single(await _store.ListAsync(CancellationToken.None));
            Assert.Equal(first.Size, second.Size);
            File.WriteAllText(Path.Combine(_root, ".imagemodule", "cache.json"), "{ not json");
            Assert.Equal(first.Size, Assert.Single(await _store.ListAsync(CancellationToken.None)).Size);
        }

        [Fact]
        public async Task Concurrent_tagging_from_many_tasks_loses_no_name()
        {
            var built = await TestImages.PushAsync(_store, new[] { Layer("x", 100, 13) });
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => _store.TagAsync(built.Manifest, $"many:{i}", CancellationToken.None))));
            Assert.Equal(20, (await _store.ListAsync(CancellationToken.None)).Count);
        }

        [Fact]
        public async Task Skopeo_and_umoci_read_the_store_as_it_is()
        {
            var built = await TestImages.AddAsync(_store, "docker.io/library/interop:1", Layer("hello.txt", 2000, 14));
            var inspect = Run("skopeo", $"inspect --raw oci:{_root}:docker.io/library/interop:1");
            Assert.Contains(built.Config.Digest.ToString(), inspect);
            var config = Run("skopeo", $"inspect --config oci:{_root}:docker.io/library/interop:1");
            Assert.Contains(built.DiffIds[0].ToString(), config);
            var ls = Run("umoci", $"ls --layout {_root}");
            Assert.Contains("docker.io/library/interop:1", ls);
        }

        internal static string Run(string file, string arguments)
        {
            var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException($"{file} {arguments}"); }
            if (p.ExitCode != 0) throw new Exception($"{file} {arguments} exited {p.ExitCode}: {stderr.Result}");
            return stdout.Result;
        }
    }
}
