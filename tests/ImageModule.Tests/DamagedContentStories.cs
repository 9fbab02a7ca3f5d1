using System;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Damaged layers and odd archives, as a user meets them: every failure is a non-terminating error with a stable id
    /// that names the blob, the pipeline goes on, and nothing half-written is left behind.
    /// </summary>
    public sealed class DamagedContentStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private string LayerBlobOf(string name) =>
            Path.Combine(_session.StorePath, "blobs", "sha256", ((string)_session.Objects($"Get-ImageLayer {name}").First(l => !l.EmptyLayer).Digest).Substring(7));

        private void ImportSmall(string name)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, name.Replace(':', '_'), 1, 3));
            _session.SetVariable("name", name);
            Assert.Single(_session.Objects("Import-Image -Path $tar -Name $name"));
            Assert.Empty(_session.Errors);
        }

        /// <summary>Sets the gzip compression-method byte to one zlib does not know: the layer no longer decompresses.</summary>
        private static void BreakGzipHeader(string blob)
        {
            var bytes = File.ReadAllBytes(blob);
            bytes[2] = 7;
            File.WriteAllBytes(blob, bytes);
        }

        [Fact]
        public void A_layer_that_does_not_decompress_is_CorruptLayer_in_expand_export_and_file_listing()
        {
            ImportSmall("damaged:1");
            var blob = LayerBlobOf("damaged:1");
            var digest = "sha256:" + Path.GetFileName(blob);
            BreakGzipHeader(blob);
            var target = Path.Combine(_session.TempDir, "rootfs");
            var tar = Path.Combine(_session.TempDir, "fs.tar");
            _session.SetVariable("target", target);
            _session.SetVariable("fstar", tar);

            foreach (var (script, cmdlet) in new[]
            {
                ("Expand-Image damaged:1 $target", "ExpandImageCommand"),
                ("Export-Image damaged:1 $fstar", "ExportImageCommand"),
                ("Get-ImageFile damaged:1", "GetImageFileCommand"),
            })
            {
                var after = _session.Run(script + "; 'went on'");
                var error = Assert.Single(_session.Errors);
                Assert.Equal($"CorruptLayer,ImageModule.Commands.{cmdlet}", error.FullyQualifiedErrorId);
                Assert.Contains(digest, error.Exception.Message); // the target is the image the pipeline was on
                Assert.Equal("docker.io/library/damaged:1", error.TargetObject.ToString());
                Assert.Equal("went on", after.Last().BaseObject);
            }
            Assert.False(Directory.Exists(target), "a failed Expand-Image left a half-expanded tree");
            Assert.False(File.Exists(tar));
            Assert.DoesNotContain(Directory.GetFileSystemEntries(_session.TempDir), p => Path.GetFileName(p).StartsWith("."));
        }

        [Fact]
        public void Save_Image_of_a_damaged_blob_is_a_non_terminating_DigestMismatch_naming_it_and_writes_nothing()
        {
            ImportSmall("damaged:1");
            var blob = LayerBlobOf("damaged:1");
            var bytes = File.ReadAllBytes(blob);
            bytes[bytes.Length / 2] ^= 0xff;
            File.WriteAllBytes(blob, bytes);
            var archive = Path.Combine(_session.TempDir, "out.tar");
            _session.SetVariable("archive", archive);

            var after = _session.Run("Save-Image damaged:1 $archive; 'went on'");

            var error = Assert.Single(_session.Errors);
            Assert.Equal("DigestMismatch,ImageModule.Commands.SaveImageCommand", error.FullyQualifiedErrorId);
            Assert.Contains(Path.GetFileName(blob), error.Exception.Message);
            Assert.Equal("went on", after.Last().BaseObject);
            Assert.False(File.Exists(archive));
            Assert.Empty(Directory.GetFiles(_session.TempDir, ".out.tar*"));
        }

        /// <summary>A Docker 25 style archive (blobs/, index.json, manifest.json) whose one layer is not valid gzip.</summary>
        private string ArchiveWithUndecodableLayer(out string layerDigest)
        {
            var layer = new byte[] { 0x1f, 0x8b, 7, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8 };
            layerDigest = Sha(layer);
            var diffId = Sha(Encoding.UTF8.GetBytes("whatever it was"));
            var config = Encoding.UTF8.GetBytes($"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"{diffId}\"]}}}}");
            var manifest = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Sha(config)}\",\"size\":{config.Length}}},\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"{layerDigest}\",\"size\":{layer.Length}}}]}}");
            var index = Encoding.UTF8.GetBytes($"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{Sha(manifest)}\",\"size\":{manifest.Length},\"annotations\":{{\"io.containerd.image.name\":\"docker.io/library/broken:1\",\"org.opencontainers.image.ref.name\":\"1\"}}}}]}}");
            var path = Path.Combine(_session.TempDir, "broken.tar");
            using (var file = File.Create(path))
            using (var tar = new TarWriter(file, TarEntryFormat.Pax))
            {
                void Add(string name, byte[] content) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(content) });
                Add("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
                foreach (var blob in new[] { layer, config, manifest }) Add("blobs/sha256/" + Sha(blob).Substring(7), blob);
                Add("index.json", index);
            }
            return path;
        }

        private static string Sha(byte[] content) => "sha256:" + Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();

        [Fact]
        public void Importing_an_archive_whose_layer_does_not_decompress_is_CorruptLayer_and_names_nothing()
        {
            _session.SetVariable("archive", ArchiveWithUndecodableLayer(out var layerDigest));

            var after = _session.Run("Import-Image $archive; 'went on'");

            var error = Assert.Single(_session.Errors);
            Assert.Equal("CorruptLayer,ImageModule.Commands.ImportImageCommand", error.FullyQualifiedErrorId);
            Assert.Contains(layerDigest, error.Exception.Message);
            Assert.Equal("went on", after.Last().BaseObject);
            Assert.Empty(_session.Objects("Get-Image"));
        }

        [Fact]
        public void An_archive_cut_off_mid_layer_is_ArchiveTruncated_and_an_uppercase_name_is_refused_until_renamed()
        {
            ImportSmall("whole:1");
            var archive = Path.Combine(_session.TempDir, "whole.tar");
            _session.SetVariable("archive", archive);
            _session.Run("Save-Image whole:1 $archive -Format Oci");
            Assert.Empty(_session.Errors);
            var bytes = File.ReadAllBytes(archive);
            var cut = Path.Combine(_session.TempDir, "cut.tar");
            File.WriteAllBytes(cut, bytes.AsSpan(0, bytes.Length * 2 / 3).ToArray());
            _session.SetVariable("cut", cut);
            _session.Run("Remove-Image whole:1");

            _session.Run("Import-Image $cut");

            Assert.Equal("ArchiveTruncated,ImageModule.Commands.ImportImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.Empty(_session.Objects("Get-Image"));

            // The same archive with its ref.name in upper case, as some tools write it: refused, then renamed with -Name.
            var upper = Path.Combine(_session.TempDir, "upper");
            _session.SetVariable("upper", upper);
            _session.Run("Import-Image $archive -Name whole:1; Save-Image whole:1 $upper -Format OciDirectory; Remove-Image whole:1");
            Assert.Empty(_session.Errors);
            var indexPath = Path.Combine(upper, "index.json");
            File.WriteAllText(indexPath, File.ReadAllText(indexPath).Replace("\"org.opencontainers.image.ref.name\":\"1\"", "\"org.opencontainers.image.ref.name\":\"Whole:V1\"")
                .Replace("\"io.containerd.image.name\":\"docker.io/library/whole:1\",", ""));
            Assert.Contains("Whole:V1", File.ReadAllText(indexPath));

            _session.Run("Import-Image $upper");
            var refused = Assert.Single(_session.Errors);
            Assert.Equal("ArchiveInvalidName,ImageModule.Commands.ImportImageCommand", refused.FullyQualifiedErrorId);
            Assert.Contains("Whole:V1", refused.Exception.Message);
            Assert.Empty(_session.Objects("Get-Image"));

            var renamed = Assert.Single(_session.Objects("Import-Image $upper -Name whole:v1"));
            Assert.Equal("docker.io/library/whole:v1", (string)renamed.Name);
        }
    

        [Fact]
        public void An_image_with_a_corrupt_config_stays_listed_as_Corrupt_is_refused_by_Save_Image_and_removed_by_name()
        {
            ImportSmall("damaged:1");
            ImportSmall("fine:1");
            var id = (string)_session.Objects("Get-Image damaged:1").Single().Id;
            var config = Path.Combine(_session.StorePath, "blobs", "sha256", id.Substring(7));
            var bytes = File.ReadAllBytes(config);
            bytes[bytes.Length / 2] ^= 0x20;
            File.WriteAllBytes(config, bytes);
            File.Delete(Path.Combine(_session.StorePath, ".imagemodule", "cache.json"));

            var images = _session.Objects("Get-Image");
            Assert.Equal(2, images.Count);
            var damaged = images.Single(i => (string)i.Name == "docker.io/library/damaged:1");
            Assert.Equal("Corrupt", damaged.Status.ToString());
            Assert.Contains(id, (string)damaged.Problem);
            var shown = _session.RunAndRender("Get-Image");
            Assert.Contains("damaged", shown);
            Assert.Contains("docker.io/library/damaged:1 (Corrupt)", shown); // the warning under the table

            var archive = Path.Combine(_session.TempDir, "out.tar");
            _session.SetVariable("archive", archive);
            var after = _session.Run("Save-Image damaged:1 $archive; 'went on'");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ImageDamaged,ImageModule.Commands.SaveImageCommand", error.FullyQualifiedErrorId);
            Assert.Contains("Corrupt", error.Exception.Message);
            Assert.Equal("went on", after.Last().BaseObject);
            Assert.False(File.Exists(archive));

            _session.Run("Remove-Image damaged:1");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "docker.io/library/fine:1" }, _session.Objects("Get-Image").Select(i => (string)i.Name));
        }
    }
}
