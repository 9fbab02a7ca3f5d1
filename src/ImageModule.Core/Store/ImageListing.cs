using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using ImageModule.Compression;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Store
{
    /// <summary>
    /// Turns index.json entries into <see cref="Image"/> and <see cref="ImageLayer"/> rows: summaries of manifests and
    /// configs and uncompressed layer sizes, kept in the listing cache so listing never opens a layer twice.
    /// </summary>
    internal sealed class ImageListing
    {
        private readonly OciLayout _layout;
        private readonly NameIndex _names;
        private readonly ListingCache _cache;
        private readonly Content.BlobOrigins _origins;

        public ImageListing(OciLayout layout, NameIndex names, ListingCache cache, Content.BlobOrigins origins)
        {
            _layout = layout;
            _names = names;
            _cache = cache;
            _origins = origins;
        }

        public IReadOnlyList<Image> List(CancellationToken cancellationToken)
        {
            var entries = _names.Entries;
            var cache = _cache.Load();
            var rows = new List<(Descriptor Entry, ImageReference? Name, ImageSummary Summary)>();
            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows.Add((entry, NameIndex.NameOf(entry), Summarize(entry, cache)));
            }

            // SharedSize and RepoTags need the whole picture: which distinct images use each layer, which names each Id has.
            var imagesByLayer = new Dictionary<Digest, HashSet<Digest>>();
            foreach (var row in rows)
            {
                foreach (var layer in row.Summary.Layers)
                {
                    if (!imagesByLayer.TryGetValue(layer.Digest, out var users)) imagesByLayer[layer.Digest] = users = new HashSet<Digest>();
                    users.Add(row.Summary.Config.Digest);
                }
            }
            var namesById = rows.Where(r => r.Name != null).GroupBy(r => r.Summary.Config.Digest)
                .ToDictionary(g => g.Key, g => g.Select(r => r.Name!).ToList());

            var images = new List<Image>(rows.Count);
            foreach (var row in rows)
            {
                var size = 0L;
                var shared = 0L;
                foreach (var layer in row.Summary.Layers)
                {
                    var layerSize = UncompressedSize(layer, cache);
                    size += layerSize;
                    if (imagesByLayer[layer.Digest].Count > 1) shared += layerSize;
                }
                namesById.TryGetValue(row.Summary.Config.Digest, out var names);
                images.Add(ToImage(row.Entry, row.Name, row.Summary, size, shared, names ?? new List<ImageReference>()));
            }
            _cache.SaveIfDirty(cache);
            return images;
        }

        private Image ToImage(Descriptor entry, ImageReference? name, ImageSummary summary, long size, long shared, List<ImageReference> names)
        {
            var labels = summary.ContainerConfig?.Labels ?? new Dictionary<string, string>();
            var platform = new Platform { Os = summary.Os, Architecture = summary.Architecture, Variant = summary.Variant };
            return new Image
            {
                Repository = name?.FamiliarName ?? "<none>",
                Tag = name?.Tag ?? "<none>",
                Name = name?.ToString(),
                Id = summary.Config.Digest.ToString(),
                Digest = entry.Digest.ToString(),
                Created = summary.Created,
                Size = size,
                CompressedSize = summary.Layers.Sum(l => l.Size),
                SharedSize = shared,
                Platform = platform.ToString(),
                Os = summary.Os,
                Architecture = summary.Architecture,
                Author = summary.Author,
                Labels = labels,
                Config = summary.ContainerConfig ?? new ContainerConfig(),
                Status = summary.Status,
                Problem = summary.Problem,
                RepoTags = names.Where(n => n.Tag != null).Select(n => n.ToString()).Distinct().ToList(),
                // Only what a registry gave (docker's rule): the repositories this manifest was pulled from or pushed to.
                // An image that was imported or built here and never pushed has none.
                RepoDigests = _origins.RepositoriesOf(entry.Digest).Select(r => r + "@" + entry.Digest).ToList(),
                LayerDiffIds = summary.DiffIds.Select(d => d.ToString()).ToList(),
                MediaType = entry.MediaType,
                Location = _layout.Root,
                StoreKind = "Store",
            };
        }

        /// <summary>
        /// Summary of a manifest, or of the child of an index that fits this machine. Never null and never hidden: an
        /// entry whose blobs are missing or unreadable gets a summary with <see cref="ImageSummary.Status"/> saying so,
        /// so every index.json entry is listed and can be removed by name. The manifest is read on every listing (a
        /// small file), and a cached summary is used only when it agrees with it: the cache is a hint, never the truth.
        /// </summary>
        private ImageSummary Summarize(Descriptor entry, StoreCache cache)
        {
            var key = entry.Digest.ToString();
            // Believed without reading a blob: a summary in a cache this code wrote, of a manifest and config that still
            // carry the stamp the store gave them when it checked them (OciLayout.VerifiedStamp: nothing wrote to them
            // since). One stat each, so listing a thousand images stays fast. Indexes take the long way (the child
            // that fits may have changed).
            if (cache.Signed && MediaTypes.IsManifest(entry.MediaType) && cache.Images.TryGetValue(key, out var known) && Complete(known)
                && known.Manifest.Digest == entry.Digest && _layout.Stamped(entry.Digest) && _layout.Stamped(known.Config.Digest))
                return WithLayersChecked(known);
            var manifestDescriptor = entry;
            Manifest manifest;
            try
            {
                var bytes = _layout.ReadBlob(entry);
                if (MediaTypes.IsIndex(OciJson.PeekMediaType(bytes) ?? entry.MediaType))
                {
                    var index = OciJson.Deserialize<ImageIndex>(bytes, $"index {entry.Digest}");
                    var present = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && _layout.HasBlob(m)).ToList();
                    manifestDescriptor = present.FirstOrDefault(m => Platform.Current.Matches(m.Platform)) ?? present.FirstOrDefault()!;
                    if (manifestDescriptor is null)
                        return Broken(entry, null, ImageStatus.Incomplete, $"no manifest of index {entry.Digest} is in the store");
                    bytes = _layout.ReadBlob(manifestDescriptor);
                }
                manifest = OciJson.Deserialize<Manifest>(bytes, $"manifest {manifestDescriptor.Digest}");
            }
            catch (ImageModuleException e)
            {
                return Broken(entry, null, StatusOf(e), $"{(manifestDescriptor == entry ? "manifest" : "platform manifest")} {manifestDescriptor.Digest}: {e.Message}");
            }

            // The config is read again unless it carries its stamp: a config damaged in place is Corrupt, not Ok.
            if (cache.Images.TryGetValue(key, out var cached) && Agrees(cached, manifestDescriptor, manifest) && _layout.Stamped(manifest.Config.Digest))
                return WithLayersChecked(cached);
            try
            {
                var config = OciJson.Deserialize<ImageConfig>(_layout.ReadBlob(manifest.Config), $"config {manifest.Config.Digest}");
                var summary = new ImageSummary
                {
                    Manifest = manifestDescriptor,
                    Config = manifest.Config,
                    Layers = manifest.Layers.ToList(),
                    DiffIds = config.RootFs.DiffIds.ToList(),
                    Created = config.Created,
                    Os = config.Os,
                    Architecture = config.Architecture,
                    Variant = config.Variant,
                    Author = config.Author,
                    ContainerConfig = config.Config,
                };
                cache.Images[key] = summary;
                cache.Dirty = true;
                // Written by another tool or an older version: stamped once they hash right, so the next listing
                // takes the short way above.
                foreach (var blob in new[] { manifestDescriptor, manifest.Config })
                    if (!_layout.Stamped(blob.Digest)) _layout.VerifyAndStamp(blob);
                return WithLayersChecked(summary);
            }
            catch (ImageModuleException e)
            {
                return Broken(manifestDescriptor, manifest, StatusOf(e), $"config {manifest.Config.Digest}: {e.Message}");
            }
        }

        /// <summary>A cached summary is used only if it describes this very manifest (null fields, another config, other layers: rebuilt).</summary>
        private static bool Agrees(ImageSummary? cached, Descriptor manifestDescriptor, Manifest manifest) =>
            Complete(cached)
            && cached!.Manifest.Digest == manifestDescriptor.Digest
            && cached.Config.Digest == manifest.Config.Digest
            && cached.Layers.Count == manifest.Layers.Count
            && cached.Layers.Select(l => l?.Digest).SequenceEqual(manifest.Layers.Select(l => (Digest?)l.Digest));

        private static bool Complete(ImageSummary? cached) =>
            cached?.Manifest != null && cached.Config != null && cached.Layers != null && cached.DiffIds != null;

        private ImageSummary WithLayersChecked(ImageSummary summary)
        {
            var missing = summary.Layers.FirstOrDefault(l => !_layout.HasBlob(l));
            return missing is null ? summary : summary.With(ImageStatus.Incomplete, $"layer {missing.Digest}: missing from the store");
        }

        private static ImageStatus StatusOf(ImageModuleException e) => e.Kind == ErrorKind.ObjectNotFound ? ImageStatus.Incomplete : ImageStatus.Corrupt;

        private static ImageSummary Broken(Descriptor manifestDescriptor, Manifest? manifest, ImageStatus status, string problem) => new()
        {
            Manifest = manifestDescriptor,
            Config = manifest?.Config ?? new Descriptor(manifestDescriptor.MediaType, manifestDescriptor.Digest, manifestDescriptor.Size),
            Layers = manifest?.Layers.ToList() ?? new List<Descriptor>(),
            Status = status,
            Problem = problem,
        };

        /// <summary>A layer whose size is unknown (its count stopped at <see cref="ExpansionLimit"/>) counts as its compressed size.</summary>
        private long UncompressedSize(Descriptor layer, StoreCache cache)
        {
            var size = RecordedUncompressedSize(layer, cache);
            return size == ExpansionLimit.Unknown ? layer.Size : size;
        }

        private long RecordedUncompressedSize(Descriptor layer, StoreCache cache)
        {
            var key = layer.Digest.ToString();
            // A negative size other than "unknown" is a damaged cache entry: measured again.
            if (cache.UncompressedSizes.TryGetValue(key, out var size) && (size >= 0 || size == ExpansionLimit.Unknown)) return size;
            if (!_layout.HasBlob(layer)) return 0;
            try
            {
                size = MeasureUncompressed(layer);
            }
            catch (Exception e) when (Content.CorruptContent.IsDecoderFailure(e) || e is ImageModuleException)
            {
                return 0; // a layer that does not decompress: unknown size, not cached; Test-ImageStore reports it
            }
            cache.UncompressedSizes[key] = size;
            cache.Dirty = true;
            return size;
        }

        private long MeasureUncompressed(Descriptor layer)
        {
            if (layer.MediaType == MediaTypes.OciLayer || layer.MediaType == MediaTypes.DockerLayer) return layer.Size;
            using var blob = _layout.OpenBlob(layer, verify: false);
            var compressed = new Archive.CountingReadStream(blob, _ => { });
            using var tar = Decompression.Open(compressed, out _);
            var buffer = new byte[1 << 17];
            long total = 0;
            int n;
            while ((n = tar.Read(buffer, 0, buffer.Length)) > 0)
            {
                total += n;
                if (ExpansionLimit.Exceeded(compressed.Position, total)) return ExpansionLimit.Unknown;
            }
            return total;
        }

        public IReadOnlyList<ImageLayer> Layers(Image image, CancellationToken cancellationToken)
        {
            var all = List(cancellationToken);
            var cache = _cache.Load();
            var entry = _names.Find(image) ?? throw new ImageNotFoundException(image.ToString());
            var summary = Summarize(entry, cache);
            if (summary.Status != ImageStatus.Ok) throw DamagedImage.Error(image.ToString(), summary.Status, summary.Problem);
            var config = OciJson.Deserialize<ImageConfig>(_layout.ReadBlob(summary.Config), $"config {summary.Config.Digest}");

            var usersByDiffId = all.Where(i => i.Id != image.Id)
                .SelectMany(i => i.LayerDiffIds.Select(d => (DiffId: d, Name: i.Name ?? i.ShortId)))
                .GroupBy(x => x.DiffId)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(x => x.Name).Distinct().ToList());

            var layers = new List<ImageLayer>();
            var history = config.History ?? Array.Empty<HistoryEntry>();
            var layerIndex = 0;
            ImageLayer LayerAt(int i, HistoryEntry? h)
            {
                var descriptor = summary.Layers[i];
                var diffId = i < summary.DiffIds.Count ? summary.DiffIds[i].ToString() : null;
                return new ImageLayer
                {
                    Index = i,
                    ImageName = image.Name ?? image.ShortId,
                    ImageId = image.Id,
                    DiffId = diffId,
                    Digest = descriptor.Digest.ToString(),
                    Size = UncompressedSize(descriptor, cache),
                    CompressedSize = descriptor.Size,
                    MediaType = descriptor.MediaType,
                    CreatedBy = h?.CreatedBy,
                    Created = h?.Created,
                    Comment = h?.Comment,
                    Author = h?.Author,
                    SharedBy = diffId != null && usersByDiffId.TryGetValue(diffId, out var users) ? users : Array.Empty<string>(),
                };
            }
            foreach (var h in history)
            {
                if (h.EmptyLayer)
                {
                    layers.Add(new ImageLayer
                    {
                        Index = Math.Max(0, layerIndex - 1),
                        ImageName = image.Name ?? image.ShortId,
                        ImageId = image.Id,
                        CreatedBy = h.CreatedBy,
                        Created = h.Created,
                        Comment = h.Comment,
                        Author = h.Author,
                        EmptyLayer = true,
                    });
                }
                else if (layerIndex < summary.Layers.Count)
                {
                    layers.Add(LayerAt(layerIndex++, h));
                }
            }
            while (layerIndex < summary.Layers.Count) layers.Add(LayerAt(layerIndex++, null));
            _cache.SaveIfDirty(cache);
            // Newest first, like docker history.
            layers.Reverse();
            return layers;
        }
    }
}
