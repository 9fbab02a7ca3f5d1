using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Store
{
    /// <summary>
    /// The embedded, daemon-free image store: an OCI image layout whose index.json has one entry per name
    /// (org.opencontainers.image.ref.name = the full normalised reference) plus unnamed entries for dangling images.
    /// </summary>
    public sealed class OciStore : IImageStore, ITarget, IUncheckedFetch, IAdoptsBlobFiles
    {
        private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(60);
        private readonly object _leaseGate = new();
        private readonly List<IngestLease> _leases = new();

        public OciStore(string root)
        {
            Layout = new OciLayout(root);
        }

        public static OciStore Open(string? storePath) => new(StoreLocation.Resolve(storePath));

        public OciLayout Layout { get; }
        public string Location => Layout.Root;
        public ITarget Content => this;

        /// <summary>
        /// Name images with the reference exactly as given (a plain OCI layout as skopeo's oci:dir:ref writes it),
        /// rather than the store's normalised full names.
        /// </summary>
        public bool NamesVerbatim { get; init; }

        /// <summary>Registry repositories this store's blobs came from or went to, so pushes can mount them.</summary>
        public Registry.BlobOrigins BlobOrigins => _origins ??= new Registry.BlobOrigins(Path.Combine(Layout.SideDirectory, "blob-origins"));
        private Registry.BlobOrigins? _origins;
        private string CachePath => Path.Combine(Layout.SideDirectory, "cache.json");
        private string LeaseDirectory => Path.Combine(Layout.SideDirectory, "leases");

        // ---- listing -------------------------------------------------------------------------------------------

        public Task<IReadOnlyList<Image>> ListAsync(CancellationToken cancellationToken)
        {
            var index = Layout.ReadIndex();
            var cache = StoreCache.Load(CachePath);
            var rows = new List<(Descriptor Entry, ImageReference? Name, ImageSummary Summary)>();
            foreach (var entry in index.Manifests)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var summary = Summarize(entry, cache);
                if (summary is null) continue;
                rows.Add((entry, NameOf(entry), summary));
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
            cache.SaveIfDirty(CachePath);
            return Task.FromResult<IReadOnlyList<Image>>(images);
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
                RepoTags = names.Where(n => n.Tag != null).Select(n => n.ToString()).Distinct().ToList(),
                RepoDigests = names.Select(n => n.WithoutTagOrDigest().Name + "@" + entry.Digest).Distinct().ToList(),
                LayerDiffIds = summary.DiffIds.Select(d => d.ToString()).ToList(),
                MediaType = entry.MediaType,
                Location = Location,
                StoreKind = "Store",
            };
        }

        internal static ImageReference? NameOf(Descriptor entry)
        {
            var refName = entry.Annotation(AnnotationKeys.RefName);
            if (string.IsNullOrEmpty(refName)) return null;
            return ImageReference.TryParse(refName!, out var reference, out _, defaultTag: false) ? reference : null;
        }

        /// <summary>Summary of a manifest, or of the child of an index that fits this machine; null if its blobs are missing.</summary>
        private ImageSummary? Summarize(Descriptor entry, StoreCache cache)
        {
            var key = entry.Digest.ToString();
            if (cache.Images.TryGetValue(key, out var cached)) return cached;
            try
            {
                var manifestDescriptor = entry;
                var bytes = Layout.ReadBlob(entry);
                if (MediaTypes.IsIndex(OciJson.PeekMediaType(bytes) ?? entry.MediaType))
                {
                    var index = OciJson.Deserialize<ImageIndex>(bytes, $"index {entry.Digest}");
                    var present = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && Layout.HasBlob(m)).ToList();
                    manifestDescriptor = present.FirstOrDefault(m => Platform.Current.Matches(m.Platform)) ?? present.FirstOrDefault();
                    if (manifestDescriptor is null) return null;
                    bytes = Layout.ReadBlob(manifestDescriptor);
                }
                var manifest = OciJson.Deserialize<Manifest>(bytes, $"manifest {manifestDescriptor.Digest}");
                var config = OciJson.Deserialize<ImageConfig>(Layout.ReadBlob(manifest.Config), $"config {manifest.Config.Digest}");
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
                return summary;
            }
            catch (ImageModuleException e) when (e.Kind == ErrorKind.ObjectNotFound || e.Kind == ErrorKind.InvalidData)
            {
                return null;
            }
        }

        private long UncompressedSize(Descriptor layer, StoreCache cache)
        {
            var key = layer.Digest.ToString();
            if (cache.UncompressedSizes.TryGetValue(key, out var size)) return size;
            if (!Layout.HasBlob(layer)) return 0;
            size = MeasureUncompressed(layer);
            cache.UncompressedSizes[key] = size;
            cache.Dirty = true;
            return size;
        }

        private long MeasureUncompressed(Descriptor layer)
        {
            if (layer.MediaType == MediaTypes.OciLayer || layer.MediaType == MediaTypes.DockerLayer) return layer.Size;
            using var blob = Layout.OpenBlob(layer, verify: false);
            using var tar = Archive.Decompression.Open(blob, out _);
            var buffer = new byte[1 << 17];
            long total = 0;
            int n;
            while ((n = tar.Read(buffer, 0, buffer.Length)) > 0) total += n;
            return total;
        }

        /// <summary>Records a layer's uncompressed size when the writer already knows it, so listing need not decompress.</summary>
        public void RecordUncompressedSize(Digest layer, long size)
        {
            // One writer at a time in this process (parallel pulls of several layers); another process writing at the
            // same moment can lose an entry, which listing then measures again.
            lock (CacheWriteGate)
            {
                var cache = StoreCache.Load(CachePath);
                cache.UncompressedSizes[layer.ToString()] = size;
                cache.Dirty = true;
                cache.SaveIfDirty(CachePath);
            }
        }

        private static readonly object CacheWriteGate = new();

        // ---- layers -------------------------------------------------------------------------------------------

        public async Task<IReadOnlyList<ImageLayer>> GetLayersAsync(Image image, CancellationToken cancellationToken)
        {
            var all = await ListAsync(cancellationToken).ConfigureAwait(false);
            var cache = StoreCache.Load(CachePath);
            var entry = FindEntry(image) ?? throw new ImageNotFoundException(image.ToString());
            var summary = Summarize(entry, cache) ?? throw new ImageNotFoundException(image.ToString(), $"Image {image} has missing blobs in {Location}");
            var config = OciJson.Deserialize<ImageConfig>(Layout.ReadBlob(summary.Config), $"config {summary.Config.Digest}");

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
            cache.SaveIfDirty(CachePath);
            // Newest first, like docker history.
            layers.Reverse();
            return layers;
        }

        private Descriptor? FindEntry(Image image)
        {
            var index = Layout.ReadIndex();
            if (image.Name != null)
            {
                var byName = index.Manifests.FirstOrDefault(e => NameOf(e)?.ToString() == image.Name);
                if (byName != null) return byName;
            }
            return index.Manifests.FirstOrDefault(e => e.Digest.ToString() == image.Digest);
        }

        // ---- tag / remove -------------------------------------------------------------------------------------

        public async Task<Image> TagAsync(Image source, ImageReference name, CancellationToken cancellationToken)
        {
            var entry = FindEntry(source) ?? throw new ImageNotFoundException(source.ToString());
            await TagAsync(entry, name.ToString(), cancellationToken).ConfigureAwait(false);
            var images = await ListAsync(cancellationToken).ConfigureAwait(false);
            return images.First(i => i.Name == name.ToString());
        }

        public async Task RemoveAsync(Image image, bool force, CancellationToken cancellationToken)
        {
            using (await LockAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = Layout.ReadIndex();
                var kept = new List<Descriptor>(index.Manifests.Count);
                var removed = false;
                foreach (var entry in index.Manifests)
                {
                    var matches = image.Name != null
                        ? NameOf(entry)?.ToString() == image.Name
                        : entry.Digest.ToString() == image.Digest;
                    if (matches) removed = true;
                    else kept.Add(entry);
                }
                if (!removed) throw new ImageNotFoundException(image.ToString());
                Layout.WriteIndex(index with { Manifests = kept });
                CollectGarbageLocked(kept);
            }
        }

        /// <summary>Deletes blobs no index entry reaches (and no ingest in progress holds). Returns count and bytes freed.</summary>
        public async Task<(int Blobs, long Bytes)> CollectGarbageAsync(CancellationToken cancellationToken)
        {
            using (await LockAsync(cancellationToken).ConfigureAwait(false))
            {
                return CollectGarbageLocked(Layout.ReadIndex().Manifests);
            }
        }

        private (int Blobs, long Bytes) CollectGarbageLocked(IReadOnlyList<Descriptor> roots)
        {
            var reachable = new HashSet<Digest>();
            var pending = new Stack<Descriptor>(roots);
            while (pending.Count > 0)
            {
                var d = pending.Pop();
                if (!reachable.Add(d.Digest)) continue;
                if (!MediaTypes.IsIndex(d.MediaType) && !MediaTypes.IsManifest(d.MediaType)) continue;
                if (!Layout.HasBlob(d)) continue;
                byte[] bytes;
                try { bytes = Layout.ReadBlob(d); }
                catch (ImageModuleException) { continue; }
                var kind = OciJson.PeekMediaType(bytes) ?? d.MediaType;
                try
                {
                    if (MediaTypes.IsIndex(kind))
                    {
                        foreach (var child in OciJson.Deserialize<ImageIndex>(bytes, "index").Manifests) pending.Push(child);
                    }
                    else
                    {
                        var manifest = OciJson.Deserialize<Manifest>(bytes, "manifest");
                        pending.Push(manifest.Config);
                        foreach (var layer in manifest.Layers) pending.Push(layer);
                        if (manifest.Subject != null) reachable.Add(manifest.Subject.Digest);
                    }
                }
                catch (ImageModuleException)
                {
                    // A foreign or corrupt document: keep what it names unknown, delete nothing on its behalf.
                }
            }
            foreach (var digest in LeasedDigests()) reachable.Add(digest);

            var count = 0;
            long bytesFreed = 0;
            var cache = StoreCache.Load(CachePath);
            foreach (var (digest, path) in Layout.EnumerateBlobs().ToList())
            {
                if (reachable.Contains(digest)) continue;
                try
                {
                    var length = new FileInfo(path).Length;
                    File.Delete(path);
                    count++;
                    bytesFreed += length;
                    if (cache.UncompressedSizes.Remove(digest.ToString()) | cache.Images.Remove(digest.ToString())) cache.Dirty = true;
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            cache.SaveIfDirty(CachePath);
            return (count, bytesFreed);
        }

        private Task<StoreLock> LockAsync(CancellationToken cancellationToken)
        {
            Layout.EnsureCreated();
            return StoreLock.AcquireAsync(Layout.LockPath, LockTimeout, cancellationToken);
        }

        // ---- ingest leases ----------------------------------------------------------------------------------

        /// <summary>
        /// Protects blobs written from now on from garbage collection (in this and other processes) until disposed —
        /// an import or pull writes blobs before the index names them. Dispose after tagging.
        /// </summary>
        public IDisposable BeginIngest()
        {
            Directory.CreateDirectory(LeaseDirectory);
            var lease = new IngestLease(this, Path.Combine(LeaseDirectory, $"{Process.GetCurrentProcess().Id}-{Guid.NewGuid():N}.lease"));
            lock (_leaseGate) _leases.Add(lease);
            return lease;
        }

        private void Record(Digest digest)
        {
            lock (_leaseGate)
            {
                foreach (var lease in _leases) lease.Add(digest);
            }
        }

        private IEnumerable<Digest> LeasedDigests()
        {
            if (!Directory.Exists(LeaseDirectory)) yield break;
            foreach (var file in Directory.GetFiles(LeaseDirectory, "*.lease"))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                var dash = name.IndexOf('-');
                if (dash <= 0 || !int.TryParse(name.Substring(0, dash), out var pid) || !IsAlive(pid))
                {
                    OciLayout.TryDelete(file);
                    continue;
                }
                string[] lines;
                try { lines = File.ReadAllLines(file); }
                catch (IOException) { continue; }
                foreach (var line in lines)
                {
                    if (Digest.TryParse(line.Trim(), out var digest)) yield return digest;
                }
            }
        }

        private static bool IsAlive(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException) { return false; }
            catch (InvalidOperationException) { return false; }
        }

        private sealed class IngestLease : IDisposable
        {
            private readonly OciStore _store;
            private readonly string _path;

            public IngestLease(OciStore store, string path)
            {
                _store = store;
                _path = path;
                File.WriteAllText(path, "");
            }

            public void Add(Digest digest)
            {
                try { File.AppendAllText(_path, digest + "\n"); }
                catch (IOException) { }
            }

            public void Dispose()
            {
                lock (_store._leaseGate) _store._leases.Remove(this);
                OciLayout.TryDelete(_path);
            }
        }

        // ---- ITarget ------------------------------------------------------------------------------------------

        public Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken)
        {
            var exists = Layout.HasBlob(target);
            if (exists) Record(target.Digest);
            return Task.FromResult(exists);
        }

        public Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken) => Task.FromResult(Layout.OpenBlob(target));

        public Task<Stream> FetchUncheckedAsync(Descriptor target, CancellationToken cancellationToken) => Task.FromResult(Layout.OpenBlob(target, verify: false));

        public async Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            Layout.EnsureCreated();
            Record(expected.Digest);
            if (MediaTypes.IsManifest(expected.MediaType) || MediaTypes.IsIndex(expected.MediaType) || expected.Size < MinCountedBlob || Layout.HasBlob(expected))
            {
                await Layout.WriteBlobAsync(expected, content, bytesWritten, cancellationToken).ConfigureAwait(false);
                return;
            }
            // A compressed layer (by media type or, from archives, by its first bytes): its uncompressed size is counted
            // in the same pass, concurrently, so listing never has to read it back and decompress it.
            UncompressedSizeCounter? counter = null;
            var first = true;
            try
            {
                await Layout.WriteBlobAsync(expected, content, bytesWritten, (buffer, offset, count) =>
                {
                    if (first)
                    {
                        first = false;
                        counter = UncompressedSizeCounter.ForHead(buffer.Skip(offset).Take(Math.Min(count, 6)).ToArray(), Math.Min(count, 6));
                    }
                    counter?.Add(buffer, offset, count);
                }, cancellationToken).ConfigureAwait(false);
                if (counter != null && await counter.CompleteAsync().ConfigureAwait(false) is long size) RecordUncompressedSize(expected.Digest, size);
            }
            finally
            {
                counter?.Dispose();
            }
        }

        public string StagingDirectory => Layout.TempDirectory;

        public Task AdoptAsync(Descriptor descriptor, string path, CancellationToken cancellationToken)
        {
            Layout.EnsureCreated();
            Record(descriptor.Digest);
            Layout.AdoptBlob(descriptor, path);
            return Task.CompletedTask;
        }

        /// <summary>Blobs smaller than this are not counted while written (configs, tiny layers): listing measures them cheaply.</summary>
        private const long MinCountedBlob = 1 << 16;

        /// <summary>
        /// Resolves a full reference (as written by <see cref="TagAsync(Descriptor,string,CancellationToken)"/>), a bare
        /// ref.name annotation as other tools write it, a manifest digest, or an image ID (config digest, full or short).
        /// </summary>
        public Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken)
        {
            var index = Layout.ReadIndex();
            var exact = index.Manifests.FirstOrDefault(e => e.Annotation(AnnotationKeys.RefName) == reference);
            if (exact != null) return Task.FromResult(exact);
            if (ImageReference.TryParse(reference, out var parsed, out _))
            {
                var full = parsed!.ToString();
                var byName = index.Manifests.FirstOrDefault(e => NameOf(e)?.ToString() == full);
                if (byName != null) return Task.FromResult(byName);
                if (parsed.Digest is { } pinned)
                {
                    var byDigest = index.Manifests.FirstOrDefault(e => e.Digest == pinned);
                    if (byDigest != null) return Task.FromResult(byDigest);
                }
            }
            if (Digest.TryParse(reference, out var digest))
            {
                var byDigest = index.Manifests.FirstOrDefault(e => e.Digest == digest);
                if (byDigest != null) return Task.FromResult(byDigest);
            }
            throw new ImageNotFoundException(reference);
        }

        /// <summary>Keeps a manifest in the store without a name (a dangling image, as `docker load` of an untagged image gives).</summary>
        public async Task KeepUnnamedAsync(Descriptor manifest, CancellationToken cancellationToken)
        {
            if (!Layout.HasBlob(manifest)) throw new ImageNotFoundException(manifest.Digest.ToString(), $"Manifest {manifest.Digest} is not in {Location}");
            using (await LockAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = Layout.ReadIndex();
                if (index.Manifests.Any(e => e.Digest == manifest.Digest)) return;
                var entries = index.Manifests.ToList();
                entries.Add(new Descriptor(manifest.MediaType, manifest.Digest, manifest.Size) { Platform = manifest.Platform });
                Layout.WriteIndex(index with { Manifests = entries, MediaType = index.MediaType ?? MediaTypes.OciIndex });
            }
        }

        /// <summary>Names a manifest already in the store. A name that pointed elsewhere moves; the old image stays, unnamed, if nothing else names it.</summary>
        public async Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken)
        {
            var full = NamesVerbatim ? reference : ImageReference.Parse(reference).ToString();
            if (!Layout.HasBlob(manifest)) throw new ImageNotFoundException(manifest.Digest.ToString(), $"Manifest {manifest.Digest} is not in {Location}");
            using (await LockAsync(cancellationToken).ConfigureAwait(false))
            {
                var index = Layout.ReadIndex();
                var entries = index.Manifests.ToList();
                var previous = NamesVerbatim
                    ? entries.FindIndex(e => e.Annotation(AnnotationKeys.RefName) == full)
                    : entries.FindIndex(e => NameOf(e)?.ToString() == full);
                var annotations = new Dictionary<string, string> { [AnnotationKeys.RefName] = full };
                if (!NamesVerbatim) annotations[AnnotationKeys.ContainerdImageName] = full;
                var named = new Descriptor(manifest.MediaType, manifest.Digest, manifest.Size) { Annotations = annotations, Platform = manifest.Platform };
                if (previous >= 0)
                {
                    var old = entries[previous];
                    entries[previous] = named;
                    // docker leaves the image a moved tag used to name as <none>:<none>; so do we.
                    if (old.Digest != manifest.Digest && !entries.Any(e => e.Digest == old.Digest))
                        entries.Add(new Descriptor(old.MediaType, old.Digest, old.Size) { Platform = old.Platform });
                }
                else
                {
                    entries.Add(named);
                }
                // Once named, an unnamed entry for the same manifest is redundant.
                entries.RemoveAll(e => e.Digest == manifest.Digest && NameOf(e) is null && e.Annotation(AnnotationKeys.RefName) is null);
                Layout.WriteIndex(index with { Manifests = entries, MediaType = index.MediaType ?? MediaTypes.OciIndex });
            }
        }
    }
}
