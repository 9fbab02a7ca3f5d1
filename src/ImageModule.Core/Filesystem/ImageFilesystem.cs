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
                try
                {
                    await ExportLayerAsync(layers, i, tree, writer, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (IsCorruption(e))
                {
                    throw Corrupt(layers, i, e);
                }
                done += layers[i].Descriptor.Size;
                progress?.Report(new OperationProgress { Activity = "Exporting filesystem", Status = $"Layer {i + 1} of {layers.Count}", BytesDone = done, BytesTotal = total });
            }
            await writer.FinishAsync(cancellationToken).ConfigureAwait(false);
        }

        private static async Task ExportLayerAsync(IReadOnlyList<LayerSource> layers, int i, FileTree tree, TarWriter writer, CancellationToken cancellationToken)
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
        }

        public static async Task ExpandAsync(IContentStore store, Descriptor manifest, string destination, ExpandOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new ExpandOptions();
            var layers = await GetLayersAsync(store, manifest, options.Platform, cancellationToken).ConfigureAwait(false);
            await ExpandAsync(layers, destination, options, progress, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>
        /// Applies the layers in order to <paramref name="destination"/> (created if missing). Throws UnsafeArchiveEntry for
        /// hostile entries, CorruptLayer for a layer that does not unpack. A missing or empty destination is filled through
        /// a staging directory beside it that is renamed into place when every layer applied, so a failure leaves it as
        /// it was; a destination that already held files (-Force) is expanded in place, and the error says what it holds.
        /// </summary>
        public static async Task ExpandAsync(IReadOnlyList<LayerSource> layers, string destination, ExpandOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new ExpandOptions();
            var full = Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar);
            var existed = Directory.Exists(full);
            if (existed && Directory.EnumerateFileSystemEntries(full).Any())
            {
                var applied = 0;
                try
                {
                    await ApplyLayersAsync(layers, full, options, progress, n => applied = n, cancellationToken).ConfigureAwait(false);
                }
                catch (ImageModuleException e)
                {
                    throw new ImageModuleException(e.ErrorId, e.Kind,
                        $"{e.Message} '{full}' already held files, so it was expanded in place: it now holds {(applied == 0 ? "none" : $"layers 1–{applied}")} of {layers.Count} and part of layer {applied + 1}; nothing was removed from it.",
                        e.Target, e);
                }
                return;
            }

            var parent = Path.GetDirectoryName(full)!;
            Directory.CreateDirectory(parent);
            var staging = options.StagingPath ?? Path.Combine(parent, "." + Path.GetFileName(full) + ".expand-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            try
            {
                await ApplyLayersAsync(layers, staging, options, progress, _ => { }, cancellationToken).ConfigureAwait(false);
                if (existed) Directory.Delete(full);
                Directory.Move(staging, full);
            }
            finally
            {
                if (Directory.Exists(staging)) DeleteStaging(staging);
            }
        }

        private static async Task ApplyLayersAsync(IReadOnlyList<LayerSource> layers, string root, ExpandOptions options,
            IProgress<OperationProgress>? progress, Action<int> applied, CancellationToken cancellationToken)
        {
            var extractor = new SafeExtractor(root, options);
            var total = layers.Sum(l => l.Descriptor.Size);
            long done = 0;
            for (var i = 0; i < layers.Count; i++)
            {
                try
                {
                    using var raw = await layers[i].Open(cancellationToken).ConfigureAwait(false);
                    using var tar = Decompression.Open(raw, out _);
                    await extractor.ApplyLayerAsync(tar, cancellationToken).ConfigureAwait(false);
                    // Drain so a verifying store stream checks the layer digest.
                    var buffer = new byte[1 << 16];
                    while (await raw.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false) > 0) { }
                }
                catch (Exception e) when (IsCorruption(e))
                {
                    throw Corrupt(layers, i, e);
                }
                applied(i + 1);
                done += layers[i].Descriptor.Size;
                progress?.Report(new OperationProgress { Activity = "Expanding filesystem", Status = $"Layer {i + 1} of {layers.Count}", BytesDone = done, BytesTotal = total });
            }
            extractor.Finish();
        }

        private static void DeleteStaging(string staging)
        {
            try { Directory.Delete(staging, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>A layer whose bytes do not decompress or do not form a complete tar.</summary>
        private static bool IsCorruption(Exception e) =>
            CorruptContent.IsDecoderFailure(e)
            || (e is ImageModuleException x && (x.ErrorId == TarErrors.CorruptTar || x.ErrorId == TarErrors.Truncated));

        private static ImageModuleException Corrupt(IReadOnlyList<LayerSource> layers, int i, Exception e) =>
            CorruptContent.Layer(layers[i].Descriptor.Digest, $"(layer {i + 1} of {layers.Count})", e);

        private static async Task<FileTree> BuildTreeAsync(IReadOnlyList<LayerSource> layers, CancellationToken ct)
        {
            var tree = new FileTree();
            for (var i = 0; i < layers.Count; i++)
            {
                var entries = new List<(string, TarHeader, int)>();
                try
                {
                    using var raw = await layers[i].Open(ct).ConfigureAwait(false);
                    using var tar = Decompression.Open(raw, out _);
                    var reader = new TarReader(tar);
                    TarHeader? h;
                    var ordinal = 0;
                    while ((h = await reader.NextAsync(ct).ConfigureAwait(false)) != null)
                        entries.Add((EntryPath.Normalize(h.Name), h, ordinal++));
                }
                catch (Exception e) when (IsCorruption(e))
                {
                    throw Corrupt(layers, i, e);
                }
                tree.ApplyLayer(i, entries);
            }
            return tree;
        }
    }
}
