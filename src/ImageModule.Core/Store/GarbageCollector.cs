using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>What one collection did, or why it deleted nothing.</summary>
    public sealed record CollectionResult(int Blobs, long Bytes, string? SkippedBecause);

    /// <summary>
    /// The collector (containerd's gc), run under the exclusive store lock: lists the blobs, then marks every blob
    /// reachable from the roots (index.json entries, walked by reading the blobs themselves, see
    /// <see cref="Reachability"/>) and every digest a live lease names, and deletes only what is unmarked. If any root
    /// cannot be read or understood it deletes nothing: a corrupt manifest must not turn into the loss of the blobs it
    /// names. Abandoned staging is cleaned on the way.
    /// </summary>
    internal sealed class GarbageCollector
    {
        private readonly OciLayout _layout;
        private readonly Leases _leases;
        private readonly Staging _staging;
        private readonly ListingCache _cache;

        public GarbageCollector(OciLayout layout, Leases leases, Staging staging, ListingCache cache)
        {
            _layout = layout;
            _leases = leases;
            _staging = staging;
            _cache = cache;
        }

        /// <summary>Caller holds the exclusive lock.</summary>
        public CollectionResult CollectLocked(IReadOnlyList<Descriptor> roots)
        {
            _staging.Clean(exclusive: true);
            // Listing first: under the exclusive lock nobody records a lease meanwhile, and a blob written after the
            // listing (by an ingest that leased it earlier) is not in the list, so it cannot be deleted by mistake.
            var present = _layout.EnumerateBlobs().ToList();
            var reachable = new HashSet<Digest>();
            foreach (var root in roots)
            {
                try
                {
                    Reachability.Walk(_layout, root, reachable, requireComplete: false);
                }
                catch (ImageModuleException e)
                {
                    var name = NameIndex.NameOf(root)?.ToString() ?? root.Annotation(AnnotationKeys.RefName) ?? "an unnamed image";
                    return new CollectionResult(0, 0, $"{name} cannot be read ({e.Message}), so no unused blobs were deleted");
                }
            }
            try
            {
                foreach (var digest in _leases.LiveDigests())
                {
                    if (!reachable.Add(digest)) continue;
                    // A leased manifest protects what it names too (containerd's gc follows references from leased
                    // content): a copy that found the manifest already present relies on its config and layers.
                    WalkLeased(digest, reachable);
                }
            }
            catch (ImageModuleException e)
            {
                return new CollectionResult(0, 0, e.Message);
            }

            var count = 0;
            long bytesFreed = 0;
            var deleted = new List<Digest>();
            foreach (var (digest, path) in present)
            {
                if (reachable.Contains(digest)) continue;
                try
                {
                    var length = new FileInfo(path).Length;
                    File.Delete(path);
                    count++;
                    bytesFreed += length;
                    deleted.Add(digest);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            _cache.Forget(deleted);
            return new CollectionResult(count, bytesFreed, null);
        }

        private void WalkLeased(Digest digest, HashSet<Digest> reachable)
        {
            var path = _layout.BlobPath(digest);
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxDocument) return;
            try
            {
                Reachability.Walk(_layout, new Descriptor("", digest, info.Length), reachable, requireComplete: false);
            }
            catch (ImageModuleException)
            {
                // A config or layer, or a document being replaced: the digest itself is kept, which is all a lease promises.
            }
        }

        /// <summary>Leased blobs larger than this are layers, not manifests: not read.</summary>
        private const long MaxDocument = 4L << 20;
    }
}
