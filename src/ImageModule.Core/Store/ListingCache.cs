using System.Collections.Generic;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// The listing cache file (.imagemodule/cache.json, see <see cref="StoreCache"/>): loaded per listing, written back
    /// when it learned something. Only ever a hint: everything in it can be derived again from the blobs.
    /// </summary>
    internal sealed class ListingCache
    {
        private static readonly object WriteGate = new();
        private readonly string _path;

        public ListingCache(string path) => _path = path;

        public StoreCache Load() => StoreCache.Load(_path);

        public void SaveIfDirty(StoreCache cache) => cache.SaveIfDirty(_path);

        /// <summary>Records a layer's uncompressed size when the writer already knows it, so listing need not decompress.</summary>
        public void RecordUncompressedSize(Digest layer, long size)
        {
            // One writer at a time in this process (parallel pulls of several layers); another process writing at the
            // same moment can lose an entry, which listing then measures again.
            lock (WriteGate)
            {
                var cache = Load();
                cache.UncompressedSizes[layer.ToString()] = size;
                cache.Dirty = true;
                SaveIfDirty(cache);
            }
        }

        /// <summary>Drops what the cache knows about deleted blobs.</summary>
        public void Forget(IReadOnlyCollection<Digest> deleted)
        {
            if (deleted.Count == 0) return;
            var cache = Load();
            foreach (var digest in deleted)
            {
                if (cache.UncompressedSizes.Remove(digest.ToString()) | cache.Images.Remove(digest.ToString())) cache.Dirty = true;
            }
            SaveIfDirty(cache);
        }
    }
}
