using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// An image's flattened filesystem: export as one tar (`crane export`), expand into a directory (`umoci unpack`),
    /// or list (`dive`). Layers are streamed, never held in memory; only per-file metadata is.
    /// </summary>
    public static class ImageFilesystem
    {
        /// <summary>The layers of an image in a content store, in order (base first).</summary>
        public static async Task<IReadOnlyList<LayerSource>> GetLayersAsync(IContentStore store, Descriptor manifest, Platform? platform, CancellationToken cancellationToken)
        {
            var image = await ImageContent.ResolveAsync(store, manifest, platform, cancellationToken).ConfigureAwait(false);
            return image.Manifest.Layers.Select(l => new LayerSource(l, ct => store.FetchAsync(l, ct))).ToList();
        }

        public static async Task<IReadOnlyList<ImageFile>> ListFilesAsync(IContentStore store, Descriptor manifest, Platform? platform = null, CancellationToken cancellationToken = default) =>
            await ListFilesAsync(await GetLayersAsync(store, manifest, platform, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

        public static async Task<IReadOnlyList<ImageFile>> ListFilesAsync(IReadOnlyList<LayerSource> layers, CancellationToken cancellationToken = default)
        {
            var tree = await BuildTreeAsync(layers, cancellationToken).ConfigureAwait(false);
            return tree.Nodes.OrderBy(n => n.Key, StringComparer.Ordinal).Select(n =>
            {
                var h = n.Value.Header;
                return new ImageFile
                {
                    Path = "/" + n.Key,
                    Type = h.Type,
                    Size = h.Type == TarEntryType.File ? h.Size : 0,
                    Permissions = h.Mode,
                    Mode = ImageFile.FormatMode(h.Type, h.Mode),
                    LinkTarget = h.Type == TarEntryType.Symlink || h.Type == TarEntryType.HardLink ? h.LinkName : null,
                    Uid = h.Uid,
                    Gid = h.Gid,
                    ModTime = h.ModTime,
                    LayerIndex = n.Value.Layer,
                    LayerDigest = layers[n.Value.Layer].Descriptor.Digest.ToString(),
                };
            }).ToList();
        }

        public static async Task ExportAsync(IContentStore store, Descriptor manifest, Stream output, Platform? platform = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default) =>
            await ExportAsync(await GetLayersAsync(store, manifest, platform, cancellationToken).ConfigureAwait(false), output, progress, cancellationToken).ConfigureAwait(false);

        /// <summary>
        /// Writes the flattened filesystem as one tar. Two passes: headers of every layer give the final file set, then
        /// each layer is streamed again and only the entries that survive are copied, so every file is written once.
        /// </summary>
        public static async Task ExportAsync(IReadOnlyList<LayerSource> layers, Stream output, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            var tree = await BuildTreeAsync(layers, cancellationToken).ConfigureAwait(false);
            var writer = new TarWriter(output);
            var total = layers.Sum(l => l.Descriptor.Size);
            long done = 0;
            for (var i = 0; i < layers.Count; i++)
            {
                using (var raw = await layers[i].Open(cancellationToken).ConfigureAwait(false))
                using (var tar = Decompression.Open(raw, out _))
                {
                    var reader = new TarReader(tar);
                    TarHeader? h;
                    var ordinal = 0;
                    while ((h = await reader.NextAsync(cancellationToken).ConfigureAwait(false)) != null)
                    {
                        var path = EntryPath.Normalize(h.Name);
                        var me = ordinal++;
                        if (path.Length == 0 || !tree.Nodes.TryGetValue(path, out var node) || node.Layer != i || node.Ordinal != me) continue;
                        var header = h with { Name = path };
                        if (h.Type == TarEntryType.HardLink)
                        {
                            var linkPath = EntryPath.Normalize(h.LinkName);
                            if (!tree.Nodes.ContainsKey(linkPath)) continue; // its target was deleted by a later layer
                            header = header with { LinkName = linkPath, Size = 0 };
                        }
                        await writer.WriteEntryAsync(header, h.Type == TarEntryType.File ? reader.OpenContent() : null, null, cancellationToken).ConfigureAwait(false);
                    }
                }
                done += layers[i].Descriptor.Size;
                progress?.Report(new OperationProgress { Activity = "Exporting filesystem", Status = $"Layer {i + 1} of {layers.Count}", BytesDone = done, BytesTotal = total });
            }
            await writer.FinishAsync(cancellationToken).ConfigureAwait(false);
        }

        public static async Task ExpandAsync(IContentStore store, Descriptor manifest, string destination, ExpandOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new ExpandOptions();
            var layers = await GetLayersAsync(store, manifest, options.Platform, cancellationToken).ConfigureAwait(false);
            await ExpandAsync(layers, destination, options, progress, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Applies the layers in order to <paramref name="destination"/> (created if missing). Throws UnsafeArchiveEntry for hostile entries.</summary>
        public static async Task ExpandAsync(IReadOnlyList<LayerSource> layers, string destination, ExpandOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            var extractor = new SafeExtractor(destination, options ?? new ExpandOptions());
            var total = layers.Sum(l => l.Descriptor.Size);
            long done = 0;
            for (var i = 0; i < layers.Count; i++)
            {
                using (var raw = await layers[i].Open(cancellationToken).ConfigureAwait(false))
                using (var tar = Decompression.Open(raw, out _))
                {
                    await extractor.ApplyLayerAsync(tar, cancellationToken).ConfigureAwait(false);
                    // Drain so a verifying store stream checks the layer digest.
                    var buffer = new byte[1 << 16];
                    while (await raw.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false) > 0) { }
                }
                done += layers[i].Descriptor.Size;
                progress?.Report(new OperationProgress { Activity = "Expanding filesystem", Status = $"Layer {i + 1} of {layers.Count}", BytesDone = done, BytesTotal = total });
            }
            extractor.Finish();
        }

        private static async Task<FileTree> BuildTreeAsync(IReadOnlyList<LayerSource> layers, CancellationToken ct)
        {
            var tree = new FileTree();
            for (var i = 0; i < layers.Count; i++)
            {
                var entries = new List<(string, TarHeader, int)>();
                using (var raw = await layers[i].Open(ct).ConfigureAwait(false))
                using (var tar = Decompression.Open(raw, out _))
                {
                    var reader = new TarReader(tar);
                    TarHeader? h;
                    var ordinal = 0;
                    while ((h = await reader.NextAsync(ct).ConfigureAwait(false)) != null)
                        entries.Add((EntryPath.Normalize(h.Name), h, ordinal++));
                }
                tree.ApplyLayer(i, entries);
            }
            return tree;
        }
    }
}
