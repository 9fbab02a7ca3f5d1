using System;
using System.Collections.Generic;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// An OCI image layout of images made of many tiny layers, no blob shared between two images: a store holding one of
    /// them has many blobs that a single removal makes unreferenced at once, and a copy of it asks about each of them.
    /// </summary>
    public static class ManyLayerLayout
    {
        /// <summary>Writes the layout at <paramref name="path"/>; image i is named <c>r{i}</c>.</summary>
        public static string Create(string path, int images, int layers)
        {
            Directory.CreateDirectory(Path.Combine(path, "blobs", "sha256"));
            File.WriteAllText(Path.Combine(path, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            var entries = new List<string>();
            for (var i = 0; i < images; i++)
            {
                var descriptors = new List<string>();
                var diffIds = new List<string>();
                for (var l = 0; l < layers; l++)
                {
                    var tar = TarOfOneFile($"layer-{l}.txt", $"image {i}, layer {l}\n");
                    diffIds.Add($"\"{Sha(tar)}\"");
                    descriptors.Add(Descriptor("application/vnd.oci.image.layer.v1.tar+gzip", Write(path, Gzip(tar))));
                }
                var config = Write(path, Encoding.UTF8.GetBytes(
                    $"{{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[{string.Join(",", diffIds)}]}}}}"));
                var manifest = Write(path, Encoding.UTF8.GetBytes(
                    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
                    $"\"config\":{Descriptor("application/vnd.oci.image.config.v1+json", config)},\"layers\":[{string.Join(",", descriptors)}]}}"));
                entries.Add(Descriptor("application/vnd.oci.image.manifest.v1+json", manifest, $",\"annotations\":{{\"org.opencontainers.image.ref.name\":\"r{i}\"}}"));
            }
            File.WriteAllText(Path.Combine(path, "index.json"), $"{{\"schemaVersion\":2,\"manifests\":[{string.Join(",", entries)}]}}");
            return path;
        }

        private static string Descriptor(string mediaType, (string Digest, int Size) blob, string more = "") =>
            $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{blob.Digest}\",\"size\":{blob.Size}{more}}}";

        private static (string Digest, int Size) Write(string layout, byte[] content)
        {
            var digest = Sha(content);
            File.WriteAllBytes(Path.Combine(layout, "blobs", "sha256", digest.Substring("sha256:".Length)), content);
            return (digest, content.Length);
        }

        private static byte[] TarOfOneFile(string name, string text)
        {
            using var buffer = new MemoryStream();
            using (var tar = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
            return buffer.ToArray();
        }

        private static byte[] Gzip(byte[] content)
        {
            using var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(content, 0, content.Length);
            return buffer.ToArray();
        }

        private static string Sha(byte[] content) => "sha256:" + Convert.ToHexString(SHA256.HashData(content)).ToLowerInvariant();
    }
}
