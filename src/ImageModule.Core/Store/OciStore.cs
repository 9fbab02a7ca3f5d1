using System;
using System.Collections.Generic;
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
    /// A façade over small parts: <see cref="ContentStore"/> (blob ingest and verification), <see cref="NameIndex"/>
    /// (index.json under the store lock), <see cref="Leases"/>, <see cref="GarbageCollector"/> and
    /// <see cref="ImageListing"/> with its <see cref="ListingCache"/>.
    /// </summary>
    public sealed class OciStore : IImageStore, ITarget, IUncheckedFetch, IAdoptsBlobFiles, IResumesBlobs
    {
        private readonly Leases _leases;
        private readonly Staging _staging;
        private readonly ListingCache _cache;
        private readonly ContentStore _content;
        private readonly GarbageCollector _collector;
        private NameIndex? _names;
        private ImageListing? _listing;
        private BlobOrigins? _origins;

        public OciStore(string root)
        {
            Layout = new OciLayout(root);
            _leases = new Leases(Path.Combine(Layout.SideDirectory, "leases"));
            _cache = new ListingCache(Path.Combine(Layout.SideDirectory, "cache.json"));
            _staging = new Staging(Layout, _leases);
            _content = new ContentStore(Layout, _leases, _staging, _cache.RecordUncompressedSize);
            _collector = new GarbageCollector(Layout, _leases, _staging, _cache);
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
        public BlobOrigins BlobOrigins => _origins ??= new BlobOrigins(Path.Combine(Layout.SideDirectory, "blob-origins"));

        private NameIndex Names => _names ??= new NameIndex(Layout, NamesVerbatim);
        private ImageListing Listing => _listing ??= new ImageListing(Layout, Names, _cache, BlobOrigins);

        internal static ImageReference? NameOf(Descriptor entry) => NameIndex.NameOf(entry);

        // ---- IImageStore --------------------------------------------------------------------------------------

        public Task<IReadOnlyList<Image>> ListAsync(CancellationToken cancellationToken) => Task.FromResult(Listing.List(cancellationToken));

        public Task<IReadOnlyList<ImageLayer>> GetLayersAsync(Image image, CancellationToken cancellationToken) => Task.FromResult(Listing.Layers(image, cancellationToken));

        /// <summary>Records a layer's uncompressed size when the writer already knows it, so listing need not decompress.</summary>
        public void RecordUncompressedSize(Digest layer, long size) => _cache.RecordUncompressedSize(layer, size);

        /// <summary>
        /// Finding the source and naming it happen under one hold of the exclusive lock, so a removal in another process
        /// either comes first (the source is not found, or its blobs are gone and naming refuses) or after.
        /// </summary>
        public async Task<Image> TagAsync(Image source, ImageReference name, CancellationToken cancellationToken)
        {
            var full = Names.FullName(name.ToString());
            using (await Names.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                var entry = Names.Find(source) ?? throw new ImageNotFoundException(source.ToString());
                Guard("tag", full, () => Names.TagLocked(entry, full));
            }
            var images = await ListAsync(cancellationToken).ConfigureAwait(false);
            return images.FirstOrDefault(i => i.Name == full)
                ?? throw new ImageNotFoundException(full, $"{full} was removed by another process right after it was tagged");
        }

        /// <summary>What the last removal or collection did, or why it deleted nothing (cmdlets warn with it).</summary>
        public CollectionResult? LastCollection { get; private set; }

        public async Task RemoveAsync(Image image, bool force, CancellationToken cancellationToken)
        {
            using (await Names.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                var kept = Guard("remove", image.ToString(), () => Names.RemoveLocked(image));
                LastCollection = _collector.CollectLocked(kept);
            }
            if (!NamesVerbatim) Layout.EnsureReserve();
        }

        /// <summary>Deletes blobs no index entry reaches (and no ingest in progress holds).</summary>
        public async Task<CollectionResult> CollectGarbageAsync(CancellationToken cancellationToken)
        {
            using (await Names.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                LastCollection = _collector.CollectLocked(Names.Entries);
            }
            if (!NamesVerbatim) Layout.EnsureReserve();
            return LastCollection;
        }

        /// <summary>
        /// Protects blobs from garbage collection (in this and other processes) until disposed: every digest this
        /// process asks about or writes from now on is recorded in the lease first — an import or pull writes blobs
        /// before the index names them. Dispose after naming. Opening one also cleans staging no live process owns.
        /// </summary>
        public IDisposable BeginIngest()
        {
            Layout.EnsureCreated();
            _staging.Clean(exclusive: false);
            if (StoreLock.TryAcquire(Layout.LockPath, StoreLockMode.Exclusive) is { } exclusive)
            {
                using (exclusive) _staging.Clean(exclusive: true);
            }
            if (!NamesVerbatim) Layout.EnsureReserve();
            return _leases.Begin();
        }

        /// <summary>A temp file name beside a file about to be written (Save-Image), owned by this process; stale ones are removed.</summary>
        public string StagingBeside(string target)
        {
            _staging.CleanBesideTarget(target);
            _staging.Clean(exclusive: false);
            return _staging.BesideTarget(target);
        }

        private T Guard<T>(string operation, string what, Func<T> action)
        {
            try { return action(); }
            catch (IOException e) when (DiskFull.Is(e)) { throw DiskFull.Error(operation, what, Location, e); }
        }

        private void Guard(string operation, string what, Action action) => Guard(operation, what, () => { action(); return 0; });

        // ---- ITarget ------------------------------------------------------------------------------------------

        public Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken) => _content.ExistsAsync(target, cancellationToken);

        public Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken) => Task.FromResult(_content.Open(target, verify: true));

        public ResumableBlob? TakeResumable(Descriptor blob) => _content.TakeResumable(blob);

        public Task PushResumableAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            _content.WriteResumableAsync(expected, content, bytesWritten, cancellationToken);

        public Task PushResumingAsync(Descriptor expected, ResumableBlob head, Stream rest, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            _content.WriteResumingAsync(expected, head, rest, bytesWritten, cancellationToken);

        public Task<Stream> FetchUncheckedAsync(Descriptor target, CancellationToken cancellationToken) => Task.FromResult(_content.Open(target, verify: false));

        public Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            _content.WriteAsync(expected, content, bytesWritten, cancellationToken);

        public string StagingDirectory => _content.StagingDirectory;

        public Task AdoptAsync(Descriptor descriptor, string path, CancellationToken cancellationToken) => _content.AdoptAsync(descriptor, path, cancellationToken);

        /// <summary>
        /// Resolves a full reference (as written by <see cref="TagAsync(Descriptor,string,CancellationToken)"/>), a bare
        /// ref.name annotation as other tools write it, a manifest digest, or an image ID (config digest, full or short).
        /// </summary>
        public Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken) => Task.FromResult(Names.Resolve(reference));

        /// <summary>Keeps a manifest in the store without a name (a dangling image, as `docker load` of an untagged image gives).</summary>
        public async Task KeepUnnamedAsync(Descriptor manifest, CancellationToken cancellationToken)
        {
            using (await Names.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                Guard("keep", manifest.Digest.ToString(), () => Names.KeepUnnamedLocked(manifest));
            }
        }

        /// <summary>Names a manifest already in the store. A name that pointed elsewhere moves; the old image stays, unnamed, if nothing else names it.</summary>
        public async Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken)
        {
            var full = Names.FullName(reference);
            using (await Names.LockAsync(cancellationToken).ConfigureAwait(false))
            {
                Guard("name", full, () => Names.TagLocked(manifest, full));
            }
        }
    }
}
