using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Archive;
using ImageModule.Oci;
using Xunit;

namespace ImageModule.Tests.Archive
{
    public class ArchiveRoundTripTests
    {
        private static (string ConfigDigest, string[] DiffIds) Inspect(string transport)
        {
            var json = Tool.Run("skopeo", "inspect", "--config", transport);
            using var doc = JsonDocument.Parse(json);
            var diffs = doc.RootElement.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(e => e.GetString()!).ToArray();
            var raw = Tool.Run("skopeo", "inspect", "--raw", transport);
            using var m = JsonDocument.Parse(raw);
            return (m.RootElement.GetProperty("config").GetProperty("digest").GetString()!, diffs);
        }

        [Theory]
        [InlineData("docker-archive")]
        [InlineData("oci-archive")]
        public async Task Skopeo_written_archives_load_with_the_same_config_and_diff_ids(string transport)
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var expected = Inspect($"oci:{layout}:t");
            var archive = Path.Combine(work, "x.tar");
            Tool.Run("skopeo", "copy", $"oci:{layout}:t", transport == "docker-archive" ? $"docker-archive:{archive}:example.com/app:1" : $"oci-archive:{archive}:1");

            var format = await ArchiveFormat.DetectAsync(archive);
            Assert.True(format.IsImageArchive);
            var target = new TestLayoutTarget(Path.Combine(work, "store"));
            var loaded = await ArchiveLoader.LoadAsync(archive, target, new LoadOptions { Name = "example.com/app:loaded" });
            var image = Assert.Single(loaded);
            Assert.Equal("example.com/app:loaded", image.Reference);
            var got = Inspect($"oci:{target.Root}:example.com/app:loaded");
            Assert.Equal(expected.ConfigDigest, got.ConfigDigest);
            Assert.Equal(expected.DiffIds, got.DiffIds);

            // Loading again writes no blob twice.
            var pushes = target.Pushes;
            await ArchiveLoader.LoadAsync(archive, target, new LoadOptions { Name = "example.com/app:again" });
            Assert.Equal(pushes, target.Pushes);
        }

        [Theory]
        [InlineData(SaveFormat.DockerAndOci, false)]
        [InlineData(SaveFormat.DockerAndOci, true)]
        [InlineData(SaveFormat.Oci, false)]
        [InlineData(SaveFormat.DockerLegacy, false)]
        [InlineData(SaveFormat.OciDirectory, false)]
        public async Task Our_saves_are_read_by_skopeo_and_loaded_back(SaveFormat format, bool compress)
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var expected = Inspect($"oci:{layout}:t");
            var source = new TestLayoutTarget(layout);
            var manifest = await source.ResolveAsync("t", default);
            var output = Path.Combine(work, format == SaveFormat.OciDirectory ? "outdir" : "out.tar");
            await ArchiveWriter.SaveAsync(source, new[] { new SaveItem(new[] { "example.com/app:1", "example.com/app:2" }, manifest) }, output,
                new SaveOptions { Format = format, Compress = compress });
            Assert.Empty(Directory.GetFiles(work, ".out.tar.tmp-*"));

            if (format != SaveFormat.OciDirectory && !compress)
            {
                var transport = format == SaveFormat.Oci ? $"oci-archive:{output}:1" : $"docker-archive:{output}:example.com/app:1";
                var viaSkopeo = Path.Combine(work, "copied");
                Tool.Run("skopeo", "copy", transport, $"oci:{viaSkopeo}:c");
                Assert.Equal(expected.DiffIds, Inspect($"oci:{viaSkopeo}:c").DiffIds);
                // skopeo rewrites configs on docker→OCI conversion, so the archive itself is inspected for the config digest.
                var got = Inspect(transport);
                Assert.Equal(expected.DiffIds, got.DiffIds);
                if (format != SaveFormat.DockerLegacy) Assert.Equal(expected.ConfigDigest, got.ConfigDigest);
                if (format == SaveFormat.DockerAndOci)
                {
                    var asOci = Inspect($"oci-archive:{output}:1");
                    Assert.Equal(expected.ConfigDigest, asOci.ConfigDigest);
                }
            }
            if (format == SaveFormat.OciDirectory)
            {
                Assert.Contains("1", Tool.Run("umoci", "ls", "--layout", output));
            }

            var target = new TestLayoutTarget(Path.Combine(work, "store"));
            var loaded = await ArchiveLoader.LoadAsync(output, target);
            Assert.Contains(loaded, l => l.Reference == "example.com/app:1");
            Assert.Contains(loaded, l => l.Reference == "example.com/app:2");
            var back = Inspect($"oci:{target.Root}:example.com/app:1");
            Assert.Equal(expected.ConfigDigest, back.ConfigDigest);
        }

        [Fact]
        public async Task A_docker_archive_whose_layer_lies_about_its_diff_id_tags_nothing()
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var good = Path.Combine(work, "good.tar");
            Tool.Run("skopeo", "copy", $"oci:{layout}:t", $"docker-archive:{good}:example.com/app:1");
            // Rewrite the archive with one layer's bytes changed (same size, new content).
            var evil = Path.Combine(work, "evil.tar");
            await ArchiveTestData.RewriteAsync(good, evil, (name, bytes) =>
            {
                if (!name.EndsWith(".tar", StringComparison.Ordinal) || bytes.Length < 1024) return bytes;
                var copy = (byte[])bytes.Clone();
                copy[copy.Length - 2000] ^= 0x55;
                return copy;
            });
            var target = new TestLayoutTarget(Path.Combine(work, "store"));
            var e = await Assert.ThrowsAnyAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(evil, target));
            Assert.Equal("ArchiveLayerMismatch", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidData, e.Kind);
            Assert.Empty(target.Tags);
            Assert.Empty(target.IndexEntries());
        }

        [Fact]
        public async Task Docker_archive_layers_are_moved_into_the_store_not_copied_and_a_lie_leaves_nothing()
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var expected = Inspect($"oci:{layout}:t");
            var good = Path.Combine(work, "good.tar");
            Tool.Run("skopeo", "copy", $"oci:{layout}:t", $"docker-archive:{good}:example.com/app:1");
            var store = new ImageModule.Store.OciStore(Path.Combine(work, "store"));
            var image = Assert.Single(await ArchiveLoader.LoadAsync(good, store));
            var listed = Assert.Single(await store.ListAsync(default));
            Assert.Equal(expected.DiffIds, listed.LayerDiffIds);
            foreach (var blob in Directory.GetFiles(Path.Combine(store.Location, "blobs", "sha256")))
            {
                using var file = File.OpenRead(blob);
                Assert.Equal(Path.GetFileName(blob), Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(file)).ToLowerInvariant());
            }
            Assert.Empty(Directory.EnumerateFiles(store.Layout.TempDirectory, "*", SearchOption.AllDirectories));

            var evil = Path.Combine(work, "evil.tar");
            await ArchiveTestData.RewriteAsync(good, evil, (name, bytes) =>
            {
                if (!name.EndsWith(".tar", StringComparison.Ordinal) || bytes.Length < 1024) return bytes;
                var copy = (byte[])bytes.Clone();
                copy[copy.Length - 2000] ^= 0x55;
                return copy;
            });
            var other = new ImageModule.Store.OciStore(Path.Combine(work, "other"));
            await Assert.ThrowsAnyAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(evil, other));
            Assert.Empty(await other.ListAsync(default));
            Assert.Empty(Directory.EnumerateFiles(other.Layout.TempDirectory, "*", SearchOption.AllDirectories));
        }

        [Fact]
        public async Task An_oci_archive_blob_that_does_not_match_its_name_is_rejected()
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var good = Path.Combine(work, "good.tar");
            Tool.Run("skopeo", "copy", $"oci:{layout}:t", $"oci-archive:{good}:1");
            var evil = Path.Combine(work, "evil.tar");
            await ArchiveTestData.RewriteAsync(good, evil, (name, bytes) =>
            {
                if (!name.StartsWith("blobs/", StringComparison.Ordinal) || bytes.Length < 100) return bytes;
                var copy = (byte[])bytes.Clone();
                copy[copy.Length / 2] ^= 0x55;
                return copy;
            });
            var target = new TestLayoutTarget(Path.Combine(work, "store"));
            var e = await Assert.ThrowsAnyAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(evil, target));
            Assert.Equal("DigestMismatch", e.ErrorId);
            Assert.Empty(target.Tags);
        }

        [Fact]
        public async Task A_rootfs_tarball_becomes_a_one_layer_image_with_changes()
        {
            var work = Tool.TempDir();
            var rootfs = Path.Combine(work, "rootfs.tar.gz");
            await ArchiveTestData.WriteTarAsync(rootfs, gzip: true, ("etc/", null), ("etc/os-release", "ID=test\n"), ("bin/sh", "#!/bin/true\n"));
            Assert.Equal(new ArchiveFormat(ArchiveKind.RootfsTarball, ArchiveCompression.Gzip), await ArchiveFormat.DetectAsync(rootfs));
            var target = new TestLayoutTarget(Path.Combine(work, "store"));
            var image = await RootfsImporter.ImportAsync(rootfs, target, new RootfsImportOptions
            {
                Name = "example.com/rootfs:1",
                Platform = Platform.Parse("linux/arm64"),
                Changes = new[] { "ENV A=1 B=\"two words\"", "CMD [\"/bin/sh\"]", "ENTRYPOINT echo hi", "WORKDIR /app", "USER 1000", "EXPOSE 80 53/udp", "LABEL a=b", "VOLUME /data", "STOPSIGNAL SIGTERM" },
            });
            Assert.Equal("example.com/rootfs:1", image.Reference);
            var config = JsonDocument.Parse(Tool.Run("skopeo", "inspect", "--config", $"oci:{target.Root}:example.com/rootfs:1")).RootElement;
            Assert.Equal("arm64", config.GetProperty("architecture").GetString());
            var c = config.GetProperty("config");
            Assert.Equal(new[] { "A=1", "B=two words" }, c.GetProperty("Env").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal(new[] { "/bin/sh" }, c.GetProperty("Cmd").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal(new[] { "/bin/sh", "-c", "echo hi" }, c.GetProperty("Entrypoint").EnumerateArray().Select(x => x.GetString()));
            Assert.Equal("/app", c.GetProperty("WorkingDir").GetString());
            Assert.True(c.GetProperty("ExposedPorts").TryGetProperty("53/udp", out _));
            Assert.Contains("ImageModule Import-Image rootfs.tar.gz", config.GetProperty("history")[0].GetProperty("created_by").GetString());
            // The diff ID is the digest of the uncompressed tar.
            string diffId;
            using (var f = File.OpenRead(rootfs))
            using (var gz = new System.IO.Compression.GZipStream(f, System.IO.Compression.CompressionMode.Decompress))
                diffId = Digest.Compute(gz).ToString();
            Assert.Equal(diffId, config.GetProperty("rootfs").GetProperty("diff_ids")[0].GetString());
            var e = Assert.Throws<ImageModuleException>(() => ConfigChanges.Apply(new ContainerConfig(), "RUN rm -rf /"));
            Assert.Equal("InvalidConfigChange", e.ErrorId);
        }

        [Fact]
        public async Task Compressed_archives_are_detected_by_magic_bytes()
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var tar = Path.Combine(work, "x.tar");
            Tool.Run("skopeo", "copy", $"oci:{layout}:t", $"docker-archive:{tar}:example.com/app:1");
            foreach (var (tool, kind) in new[] { ("gzip", ArchiveCompression.Gzip), ("xz", ArchiveCompression.Xz), ("bzip2", ArchiveCompression.Bzip2), ("zstd", ArchiveCompression.Zstd) })
            {
                var packed = Path.Combine(work, "packed-" + tool);
                try { Tool.Run("sh", "-c", $"{tool} -c < {tar} > {packed}"); }
                catch (Exception) when (tool == "zstd") { continue; } // zstd CLI may be absent
                var format = await ArchiveFormat.DetectAsync(packed);
                Assert.Equal(kind, format.Compression);
                Assert.Equal(ArchiveKind.DockerArchiveLegacy, format.Kind);
                var target = new TestLayoutTarget(Path.Combine(work, "store-" + tool));
                var loaded = await ArchiveLoader.LoadAsync(packed, target);
                Assert.Equal("docker.io/example.com/app:1".Replace("docker.io/", ""), loaded.Single().Reference);
            }
        }
    }
}
