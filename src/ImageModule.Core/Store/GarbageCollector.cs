using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// The collector (containerd's gc): marks every blob reachable from the roots (index.json entries) and every
    /// digest a live lease names, then sweeps the rest. Runs under the store lock.
    /// </summary>
    internal sealed class GarbageCollector
    {
        private readonly OciLayout _layout;
        private readonly Leases _leases;
        private readonly ListingCache _cache;

        public GarbageCollector(OciLayout layout, Leases leases, ListingCache cache)
        {
            _layout = layout;
            _leases = leases;
            _cache = cache;
        }

        /// <summary>Deletes blobs no root reaches and no lease holds. Returns count and bytes freed. Caller holds the lock.</summary>
        public (int Blobs, long Bytes) CollectLocked(IReadOnlyList<Descriptor> roots)
        {
            var reachable = new HashSet<Digest>();
            var pending = new Stack<Descriptor>(roots);
            while (pending.Count > 0)
            {
                var d = pending.Pop();
                if (!reachable.Add(d.Digest)) continue;
                if (!MediaTypes.IsIndex(d.MediaType) && !MediaTypes.IsManifest(d.MediaType)) continue;
                if (!_layout.HasBlob(d)) continue;
                byte[] bytes;
                try { bytes = _layout.ReadBlob(d); }
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
            foreach (var digest in _leases.LiveDigests()) reachable.Add(digest);

            var count = 0;
            long bytesFreed = 0;
            var deleted = new List<Digest>();
            foreach (var (digest, path) in _layout.EnumerateBlobs().ToList())
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
            return (count, bytesFreed);
        }
    }
}
