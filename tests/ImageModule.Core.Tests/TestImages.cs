using System;
using System.Collections.Generic;
using System.Formats.Tar;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Tests
{
    /// <summary>Builds real images (gzip tar layers of random or given files, config, manifest) straight into a target.</summary>
    public static class TestImages
    {
        public sealed record Built(Descriptor Manifest, Descriptor Config, IReadOnlyList<Descriptor> Layers, IReadOnlyList<Digest> DiffIds);

        public static byte[] Tar(IEnumerable<(string Path, byte[] Content)> files)
        {
            using var buffer = new MemoryStream();
            using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
            {
                foreach (var (path, content) in files)
                {
                    var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
                    writer.WriteEntry(entry);
                }
            }
            return buffer.ToArray();
        }

        public static byte[] Gzip(byte[] data)
        {
            using var output = new MemoryStream();
            using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(data, 0, data.Length);
            return output.ToArray();
        }

        public static byte[] RandomBytes(int count, int seed)
        {
            var bytes = new byte[count];
            new Random(seed).NextBytes(bytes);
            return bytes;
        }

        /// <summary>An image whose layers are the given uncompressed tars, pushed (not tagged) into the target.</summary>
        public static async Task<Built> PushAsync(IContentStore target, IReadOnlyList<byte[]> layerTars, DateTimeOffset? created = null, string createdBy = "test", Platform? platform = null)
        {
            var layers = new List<Descriptor>();
            var diffIds = new List<Digest>();
            foreach (var tar in layerTars)
            {
                var gz = Gzip(tar);
                var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(gz), gz.Length);
                await target.PushAsync(layer, new MemoryStream(gz), null, CancellationToken.None);
                layers.Add(layer);
                diffIds.Add(Digest.Compute(tar));
            }
            var config = new ImageConfig
            {
                Created = created ?? DateTimeOffset.UtcNow,
                Architecture = (platform ?? Platform.Current).Architecture,
                Os = (platform ?? Platform.Current).Os,
                Variant = platform?.Variant,
                Config = new ContainerConfig { Env = new[] { "PATH=/bin" }, Cmd = new[] { "/bin/sh" } },
                RootFs = new RootFs { DiffIds = diffIds },
                History = layerTars.Select((_, i) => new HistoryEntry { Created = created, CreatedBy = $"{createdBy} layer {i}" }).ToList(),
            };
            var configBytes = OciJson.Serialize(config);
            var configDescriptor = new Descriptor(MediaTypes.OciConfig, Digest.Compute(configBytes), configBytes.Length);
            await target.PushAsync(configDescriptor, new MemoryStream(configBytes), null, CancellationToken.None);
            var manifest = new Manifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = layers };
            var manifestBytes = OciJson.Serialize(manifest);
            var manifestDescriptor = new Descriptor(MediaTypes.OciManifest, Digest.Compute(manifestBytes), manifestBytes.Length);
            await target.PushAsync(manifestDescriptor, new MemoryStream(manifestBytes), null, CancellationToken.None);
            return new Built(manifestDescriptor, configDescriptor, layers, diffIds);
        }

        public static async Task<Built> AddAsync(ITarget target, string reference, params byte[][] layerTars)
        {
            var built = await PushAsync(target, layerTars);
            await target.TagAsync(built.Manifest, reference, CancellationToken.None);
            return built;
        }
    }
}
