using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Filesystem;
using ImageModule.Oci;
using ImageModule.Store;
using Xunit;

namespace ImageModule.Tests.Archive
{
    /// <summary>
    /// Archives as other tools write them (Docker 25, BuildKit, Helm, podman's refusals, cut-off downloads): each is
    /// either loaded as those tools load it or refused with a stable id, and a refused archive names nothing.
    /// </summary>
    public sealed class ImportConformanceTests : IDisposable
    {
        private readonly string _work = Path.Combine(Path.GetTempPath(), "imconf-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (Directory.Exists(_work)) Directory.Delete(_work, recursive: true);
        }

        private OciStore NewStore(string name = "store") => new(Path.Combine(_work, name));

        private static async Task<IReadOnlyList<Image>> Images(OciStore store) => await store.ListAsync(CancellationToken.None);

        private static ForeignArchive Docker25(JsonObject? config = null, string? fullName = "docker.io/library/web:1", string? refName = "1",
            Func<JsonObject, JsonObject>? editManifest = null, Func<JsonObject, JsonObject>? editIndex = null, bool gzip = true, bool dockerManifest = true)
        {
            var (tar, gz) = ForeignArchive.Layer();
            var layer = gzip ? gz : tar;
            config ??= ForeignArchive.Config(tar);
            return ForeignArchive.Docker25(config,
                c =>
                {
                    var m = ForeignArchive.Manifest(c, layer);
                    if (!gzip) m["layers"]![0]!["mediaType"] = MediaTypes.OciLayer;
                    return editManifest?.Invoke(m) ?? m;
                },
                m => editIndex?.Invoke(ForeignArchive.Index(m, fullName, refName)) ?? ForeignArchive.Index(m, fullName, refName),
                new[] { layer }, dockerManifest ? new[] { "web:1" } : Array.Empty<string>());
        }

        [Fact]
        public async Task Docker25_save_by_id_with_null_manifests_loads_through_manifest_json()
        {
            // `docker save <id>` on Docker 25 writes "manifests": null (no tag, no index entry) and lists the image in
            // manifest.json with "RepoTags": null; the layers under blobs/ are uncompressed tars.
            var (tar, _) = ForeignArchive.Layer();
            var config = ForeignArchive.Json(ForeignArchive.Config(tar));
            var archive = new ForeignArchive().Blob(tar).Blob(config)
                .Add("index.json", Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":null}"))
                .Add("manifest.json", Encoding.UTF8.GetBytes($"[{{\"Config\":\"{ForeignArchive.BlobPath(config)}\",\"RepoTags\":null,\"Layers\":[\"{ForeignArchive.BlobPath(tar)}\"]}}]"))
                .Add("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
            var store = NewStore();

            var loaded = await ArchiveLoader.LoadAsync(archive.WriteTo(_work), store);

            var image = Assert.Single(loaded);
            Assert.Null(image.Reference);
            await store.KeepUnnamedAsync(image.Manifest, CancellationToken.None);
            var listed = Assert.Single(await Images(store));
            Assert.Equal(ForeignArchive.DigestOf(config), listed.Id);
            Assert.Equal(tar.Length, listed.Size);
        }

        [Fact]
        public async Task BuildKit_zero_layer_image_with_null_layers_and_diff_ids_loads_as_an_empty_image()
        {
            var config = ForeignArchive.Config();
            config["rootfs"]!["diff_ids"] = null;
            config["history"] = null;
            var archive = Docker25(config, editManifest: m => { m["layers"] = null; return m; });
            var store = NewStore();

            var loaded = await ArchiveLoader.LoadAsync(archive.WriteTo(_work), store);

            Assert.Equal("docker.io/library/web:1", Assert.Single(loaded).Reference);
            var image = Assert.Single(await Images(store));
            Assert.Equal(0, image.Size);
            Assert.Empty(await store.GetLayersAsync(image, CancellationToken.None));
            var saved = Path.Combine(_work, "saved.tar");
            await ArchiveWriter.SaveAsync(store, new[] { new SaveItem(new[] { "web:1" }, loaded[0].Manifest) }, saved, new SaveOptions());
            Assert.True(File.Exists(saved));
        }

        /// <summary>Every property and array element of a document, by path, as JsonNode navigation steps.</summary>
        private static IEnumerable<List<object>> Paths(JsonNode node, List<object> prefix)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var kv in o.ToList())
                    {
                        var p = new List<object>(prefix) { kv.Key };
                        yield return p;
                        if (kv.Value != null) foreach (var inner in Paths(kv.Value, p)) yield return inner;
                    }
                    break;
                case JsonArray a:
                    for (var i = 0; i < a.Count; i++)
                    {
                        var p = new List<object>(prefix) { i };
                        yield return p;
                        if (a[i] != null) foreach (var inner in Paths(a[i]!, p)) yield return inner;
                    }
                    break;
            }
        }

        private static T WithNull<T>(T document, List<object> path) where T : JsonNode
        {
            var copy = (T)document.DeepClone();
            JsonNode parent = copy;
            for (var i = 0; i < path.Count - 1; i++) parent = path[i] is string k ? parent[k]! : parent[(int)path[i]]!;
            if (path[^1] is string key) parent[key] = null;
            else parent[(int)path[^1]] = null;
            return copy;
        }

        public static IEnumerable<object[]> Documents() =>
            new[] { "config", "manifest", "index", "manifest.json", "legacy config", "legacy manifest.json" }.Select(d => new object[] { d });

        [Theory]
        [MemberData(nameof(Documents))]
        public async Task Every_field_set_to_null_in_turn_gives_an_image_or_a_clean_error(string document)
        {
            var (tar, gz) = ForeignArchive.Layer();
            var config = ForeignArchive.Config(tar);
            var manifestOf = (Func<byte[], JsonObject>)(c => ForeignArchive.Manifest(c, gz));
            JsonNode template = document switch
            {
                "config" or "legacy config" => config,
                "manifest" => manifestOf(ForeignArchive.Json(config)),
                "index" => ForeignArchive.Index(ForeignArchive.Json(manifestOf(ForeignArchive.Json(config))), "docker.io/library/web:1", "1"),
                "manifest.json" => ForeignArchive.DockerManifest(ForeignArchive.BlobPath(ForeignArchive.Json(config)), new[] { ForeignArchive.BlobPath(gz) }, "web:1"),
                _ => ForeignArchive.DockerManifest("c.json", new[] { "l/layer.tar" }, "web:1"),
            };
            var paths = Paths(template, new List<object>()).ToList();
            Assert.True(paths.Count > 5);
            var outcomes = new List<string>();
            var n = 0;
            foreach (var path in paths)
            {
                ForeignArchive archive;
                if (document.StartsWith("legacy"))
                {
                    var configBytes = ForeignArchive.Json(document == "legacy config" ? WithNull(config, path) : config);
                    var manifestJson = document == "legacy manifest.json" ? WithNull((JsonArray)template, path) : ForeignArchive.DockerManifest("c.json", new[] { "l/layer.tar" }, "web:1");
                    archive = new ForeignArchive().Add("c.json", configBytes).Add("l/layer.tar", tar).Add("manifest.json", ForeignArchive.Json(manifestJson));
                }
                else
                {
                    archive = ForeignArchive.Docker25(
                        document == "config" ? WithNull(config, path) : config,
                        c => document == "manifest" ? WithNull(manifestOf(c), path) : manifestOf(c),
                        m => document == "index" ? WithNull(ForeignArchive.Index(m, "docker.io/library/web:1", "1"), path) : ForeignArchive.Index(m, "docker.io/library/web:1", "1"),
                        new[] { gz }, new[] { "web:1" });
                    if (document == "manifest.json")
                    {
                        archive = ForeignArchive.Docker25(config, manifestOf, m => ForeignArchive.Index(m, null, null), new[] { gz }, new[] { "web:1" });
                        var tarBytes = archive.ToTar();
                        // Replace manifest.json by the nulled one (index without names: tags come from manifest.json).
                        archive = Rebuild(tarBytes, "manifest.json", ForeignArchive.Json(WithNull((JsonArray)template, path)));
                    }
                }
                var store = NewStore("s" + n++);
                outcomes.Add(string.Join(".", path) + ": " + await Exercise(archive.WriteTo(_work, $"a{n}.tar"), store));
            }
            // Every case either loaded or failed with a stable id; where the spec allows null it loaded.
            Assert.All(outcomes, o => Assert.DoesNotContain("UNEXPECTED", o));
            var expected = new Dictionary<string, string>
            {
                ["index"] = "manifests: ok",                    // Docker 25: the image comes from manifest.json
                ["manifest"] = "layers: ArchiveLayerMismatch",   // no layers, but the config names one
                ["config"] = "rootfs.diff_ids: ArchiveLayerMismatch",
                ["manifest.json"] = "0.RepoTags: ok",
                ["legacy config"] = "history: ok",
                ["legacy manifest.json"] = "0.RepoTags: ok",
            };
            Assert.Contains(expected[document], outcomes);
            if (document == "manifest")
            {
                Assert.Contains("config: InvalidJson", outcomes);
                Assert.Contains("config.mediaType: NotAnImage", outcomes);
            }
        }

        private static ForeignArchive Rebuild(byte[] tar, string replace, byte[] content)
        {
            var archive = new ForeignArchive();
            var reader = new TarReader(new MemoryStream(tar));
            TarHeader? h;
            while ((h = reader.NextAsync().GetAwaiter().GetResult()) != null)
            {
                var ms = new MemoryStream();
                reader.OpenContent().CopyTo(ms);
                archive.Add(h.Name, h.Name == replace ? content : ms.ToArray());
            }
            return archive;
        }

        /// <summary>Loads, lists, reads layers and files, saves: "ok", "&lt;ErrorId&gt;", or "UNEXPECTED &lt;type&gt;".</summary>
        private async Task<string> Exercise(string archivePath, OciStore store)
        {
            try
            {
                var loaded = await ArchiveLoader.LoadAsync(archivePath, store);
                foreach (var l in loaded.Where(l => l.Reference is null)) await store.KeepUnnamedAsync(l.Manifest, CancellationToken.None);
                foreach (var image in await Images(store))
                {
                    _ = image.ToString();
                    await store.GetLayersAsync(image, CancellationToken.None);
                }
                foreach (var l in loaded)
                {
                    await ImageFilesystem.ListFilesAsync(store, l.Manifest);
                    var output = Path.Combine(_work, "out-" + Guid.NewGuid().ToString("N") + ".tar");
                    await ArchiveWriter.SaveAsync(store, new[] { new SaveItem(l.Reference is null ? Array.Empty<string>() : new[] { l.Reference }, l.Manifest) }, output, new SaveOptions());
                }
                return "ok";
            }
            catch (ImageModuleException e)
            {
                return e.ErrorId;
            }
            catch (Exception e)
            {
                return $"UNEXPECTED {e.GetType().Name}: {e.Message}\n{e.StackTrace}";
            }
        }

        [Fact]
        public async Task A_helm_chart_is_refused_as_not_an_image_and_nothing_is_named()
        {
            // What `helm push` stores: a Helm config and one tar+gzip chart layer, in an OCI layout as oras writes it.
            var chart = TestImages.Gzip(ArchiveTestData.Tar((new TarHeader { Name = "mychart/Chart.yaml", Mode = 0x1A4 }, Encoding.UTF8.GetBytes("apiVersion: v2\nname: mychart\nversion: 0.1.0\n"))));
            var config = Encoding.UTF8.GetBytes("{\"name\":\"mychart\",\"version\":\"0.1.0\",\"apiVersion\":\"v2\"}");
            var manifest = ForeignArchive.Json(new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = MediaTypes.OciManifest,
                ["config"] = ForeignArchive.Descriptor("application/vnd.cncf.helm.config.v1+json", config),
                ["layers"] = new JsonArray(ForeignArchive.Descriptor("application/vnd.cncf.helm.chart.content.v1.tar+gzip", chart)),
            });
            var archive = new ForeignArchive().Add("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"))
                .Blob(chart).Blob(config).Blob(manifest)
                .Add("index.json", ForeignArchive.Json(ForeignArchive.Index(manifest, null, "0.1.0")));
            var store = NewStore();

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(archive.WriteTo(_work), store));

            Assert.Equal("NotAnImage", e.ErrorId);
            Assert.Contains("application/vnd.cncf.helm.config.v1+json", e.Message);
            Assert.Empty(await Images(store));
        }

        [Theory]
        [InlineData("no diff IDs")]
        [InlineData("wrong diff ID")]
        [InlineData("wrong diff ID, layer already stored")]
        [InlineData("wrong diff ID, uncompressed layer")]
        public async Task Oci_archive_layers_are_checked_against_the_config_diff_ids(string lie)
        {
            var store = NewStore();
            var (tar, _) = ForeignArchive.Layer();
            if (lie.Contains("already stored")) await ArchiveLoader.LoadAsync(Docker25(fullName: "docker.io/library/good:1").WriteTo(_work, "good.tar"), store);
            var config = ForeignArchive.Config(tar);
            config["rootfs"]!["diff_ids"] = lie == "no diff IDs" ? new JsonArray() : new JsonArray(ForeignArchive.DigestOf(Encoding.UTF8.GetBytes("not the layer")));
            var archive = Docker25(config, gzip: !lie.Contains("uncompressed"));

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(archive.WriteTo(_work), store));

            Assert.Equal("ArchiveLayerMismatch", e.ErrorId);
            Assert.DoesNotContain(await Images(store), i => i.Name == "docker.io/library/web:1");
        }

        [Fact]
        public async Task An_oci_archive_whose_diff_ids_match_loads_and_a_second_load_reads_no_layer_twice()
        {
            var store = NewStore();
            var archive = Docker25().WriteTo(_work);
            await ArchiveLoader.LoadAsync(archive, store);
            var loaded = await ArchiveLoader.LoadAsync(archive, store, new LoadOptions { Name = "web:2" });
            Assert.Equal("docker.io/library/web:2", Assert.Single(loaded).Reference);
            Assert.Equal(2, (await Images(store)).Count);
        }

        [Theory]
        [InlineData(null, "Web:V1")]
        [InlineData("docker.io/library/Web:V1", "V1")]
        public async Task An_invalid_name_in_the_archive_is_refused_and_minus_Name_imports_it(string? fullName, string refName)
        {
            var store = NewStore();
            var path = Docker25(fullName: fullName, refName: refName, dockerManifest: false).WriteTo(_work);

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(path, store));

            Assert.Equal("ArchiveInvalidName", e.ErrorId);
            Assert.Contains(fullName ?? refName, e.Message);
            Assert.Contains("-Name", e.Message);
            Assert.Empty(await Images(store));
            var loaded = await ArchiveLoader.LoadAsync(path, store, new LoadOptions { Name = "web:v1" });
            Assert.Equal("docker.io/library/web:v1", Assert.Single(loaded).Reference);
        }

        public static IEnumerable<object[]> Cuts() =>
            from last in new[] { "layer", "layer already stored", "index.json" }
            from gzip in new[] { false, true }
            select new object[] { last, gzip };

        [Theory]
        [MemberData(nameof(Cuts))]
        public async Task An_archive_cut_off_inside_its_last_entry_fails_as_truncated_and_names_nothing(string last, bool gzip)
        {
            var store = NewStore();
            var (tar, gz) = ForeignArchive.Layer("big.bin", new string('x', 1) + Convert.ToBase64String(TestImages.RandomBytes(30_000, 5)));
            var configBytes = ForeignArchive.Json(ForeignArchive.Config(tar));
            var manifest = ForeignArchive.Json(ForeignArchive.Manifest(configBytes, gz));
            var index = ForeignArchive.Json(ForeignArchive.Index(manifest, "docker.io/library/web:1", "1"));
            var archive = new ForeignArchive().Add("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}")).Blob(configBytes).Blob(manifest);
            if (last == "index.json") archive.Blob(gz).Add("index.json", index);
            else archive.Add("index.json", index).Blob(gz);
            var whole = archive.ToTar();
            if (last == "layer already stored")
            {
                Directory.CreateDirectory(_work);
                File.WriteAllBytes(Path.Combine(_work, "whole.tar"), whole);
                await ArchiveLoader.LoadAsync(Path.Combine(_work, "whole.tar"), store, new LoadOptions { Name = "other:1" });
            }
            // Cut inside the last entry's content: its header promises more bytes than the file holds.
            var lastSize = last == "index.json" ? index.Length : gz.Length;
            var end = whole.Length - 1024; // the two zero blocks that end a tar
            var contentEnd = end - ((512 - lastSize % 512) % 512);
            var cut = whole.AsSpan(0, contentEnd - lastSize / 2).ToArray();
            var path = Path.Combine(_work, "cut.tar" + (gzip ? ".gz" : ""));
            Directory.CreateDirectory(_work);
            File.WriteAllBytes(path, gzip ? TestImages.Gzip(cut) : cut);

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => ArchiveLoader.LoadAsync(path, store));

            Assert.Equal("ArchiveTruncated", e.ErrorId);
            Assert.DoesNotContain(await Images(store), i => i.Name == "docker.io/library/web:1");
        }

        [Fact]
        public async Task A_filesystem_tarball_cut_off_inside_a_file_is_not_imported()
        {
            var store = NewStore();
            var tar = TestImages.Tar(new[] { ("etc/a.txt", Encoding.UTF8.GetBytes("a")), ("bin/big", TestImages.RandomBytes(20_000, 7)) });
            var path = Path.Combine(_work, "rootfs.tar");
            Directory.CreateDirectory(_work);
            File.WriteAllBytes(path, tar.AsSpan(0, tar.Length - 1024 - 10_000).ToArray());

            var e = await Assert.ThrowsAsync<ImageModuleException>(async () =>
            {
                Assert.Equal(ArchiveKind.RootfsTarball, (await ArchiveFormat.DetectAsync(path)).Kind);
                await RootfsImporter.ImportAsync(path, store, new RootfsImportOptions { Name = "rootfs:1" });
            });

            Assert.Equal("ArchiveTruncated", e.ErrorId);
            Assert.Empty(await Images(store));
        }

        /// <summary>A stored layer whose bytes match its digest but are not valid gzip (damaged before it was stored).</summary>
        private static async Task<Descriptor> StoreImageWithCorruptGzipLayer(OciStore store)
        {
            var (tar, gz) = ForeignArchive.Layer("big.bin", Convert.ToBase64String(TestImages.RandomBytes(50_000, 9)));
            var bad = (byte[])gz.Clone();
            for (var i = 20; i < 60; i++) bad[i] ^= 0x5a;
            var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(bad), bad.Length);
            await store.PushAsync(layer, new MemoryStream(bad), null, CancellationToken.None);
            var configBytes = ForeignArchive.Json(ForeignArchive.Config(tar));
            var config = new Descriptor(MediaTypes.OciConfig, Digest.Compute(configBytes), configBytes.Length);
            await store.PushAsync(config, new MemoryStream(configBytes), null, CancellationToken.None);
            var manifestBytes = OciJson.Serialize(new Manifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = new[] { layer } });
            var manifest = new Descriptor(MediaTypes.OciManifest, Digest.Compute(manifestBytes), manifestBytes.Length);
            await store.PushAsync(manifest, new MemoryStream(manifestBytes), null, CancellationToken.None);
            await store.TagAsync(manifest, "broken:1", CancellationToken.None);
            return manifest;
        }

        [Fact]
        public async Task A_layer_that_does_not_decompress_is_CorruptLayer_naming_it_and_expand_leaves_nothing()
        {
            var store = NewStore();
            var manifest = await StoreImageWithCorruptGzipLayer(store);
            var layerDigest = (await ImageContent.ResolveAsync(store, manifest, null, CancellationToken.None)).Manifest.Layers[0].Digest.ToString();

            var list = await Assert.ThrowsAsync<ImageModuleException>(() => ImageFilesystem.ListFilesAsync(store, manifest));
            var export = await Assert.ThrowsAsync<ImageModuleException>(() => ImageFilesystem.ExportAsync(store, manifest, new MemoryStream()));
            var destination = Path.Combine(_work, "rootfs");
            var expand = await Assert.ThrowsAsync<ImageModuleException>(() => ImageFilesystem.ExpandAsync(store, manifest, destination));

            foreach (var e in new[] { list, export, expand })
            {
                Assert.Equal("CorruptLayer", e.ErrorId);
                Assert.Equal(layerDigest, e.Target);
                Assert.Contains(layerDigest, e.Message);
            }
            Assert.False(Directory.Exists(destination));
            Assert.DoesNotContain(Directory.GetFileSystemEntries(_work), p => Path.GetFileName(p).StartsWith(".rootfs"));
        }

        [Fact]
        public async Task Expanding_into_a_directory_that_held_files_says_what_it_left_there()
        {
            var store = NewStore();
            var manifest = await StoreImageWithCorruptGzipLayer(store);
            var destination = Path.Combine(_work, "full");
            Directory.CreateDirectory(destination);
            File.WriteAllText(Path.Combine(destination, "mine.txt"), "keep");

            var e = await Assert.ThrowsAsync<ImageModuleException>(() => ImageFilesystem.ExpandAsync(store, manifest, destination));

            Assert.Equal("CorruptLayer", e.ErrorId);
            Assert.Contains("expanded in place", e.Message);
            Assert.Contains("layer 1", e.Message);
            Assert.Equal("keep", File.ReadAllText(Path.Combine(destination, "mine.txt")));
        }

        [Fact]
        public async Task Expanding_into_an_empty_directory_fills_it_through_staging()
        {
            var store = NewStore();
            var archive = Docker25().WriteTo(_work);
            var loaded = Assert.Single(await ArchiveLoader.LoadAsync(archive, store));
            var destination = Path.Combine(_work, "empty");
            Directory.CreateDirectory(destination);

            await ImageFilesystem.ExpandAsync(store, loaded.Manifest, destination + Path.DirectorySeparatorChar);

            Assert.Equal("hello", File.ReadAllText(Path.Combine(destination, "hello.txt")));
            Assert.DoesNotContain(Directory.GetFileSystemEntries(_work), p => Path.GetFileName(p).StartsWith(".empty"));
        }
    }
}
