using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// The repairs Repair-ImageStore applies to what <see cref="StoreChecker"/> found. Each is one small step the cmdlet
    /// asks ShouldProcess for: set a corrupt blob aside, fetch a blob again from a source that has it (verified, so only
    /// the right bytes can land), rebuild the cache or index.json, delete staging leftovers, remove a name.
    /// </summary>
    public static class StoreRepair
    {
        /// <summary>Moves a corrupt blob to .imagemodule/quarantine: the store no longer has it and will take it again.</summary>
        public static bool Quarantine(OciStore store, Digest blob) => store.Layout.Quarantine(blob);

        /// <summary>
        /// What fetching a blob again came to: the source that gave it; or, when none did, why a source that may have it
        /// could not be asked or gave bad bytes (null when every source answered that it does not have it).
        /// </summary>
        public sealed record Refetch(string? From, ImageModuleException? Failure);

        /// <summary>
        /// Writes <paramref name="blob"/> from the first source that has it; the write checks size and digest, so a
        /// source with other bytes is passed over. A source that fails (unreachable, refusing, wrong bytes, full disk)
        /// is passed over too, and the first such failure is returned when no source gave the blob: then nobody knows
        /// the blob is gone for good, and the caller keeps the names that need it.
        /// </summary>
        public static async Task<Refetch> FetchAgainAsync(OciStore store, Descriptor blob, IEnumerable<(string Name, IContentStore Source)> sources,
            Action<string>? verbose, CancellationToken cancellationToken)
        {
            ImageModuleException? failure = null;
            foreach (var (name, source) in sources)
            {
                try
                {
                    if (!await source.ExistsAsync(blob, cancellationToken).ConfigureAwait(false)) continue;
                    using var content = await source.FetchAsync(blob, cancellationToken).ConfigureAwait(false);
                    using (store.BeginIngest())
                    {
                        await store.PushAsync(blob, content, null, cancellationToken).ConfigureAwait(false);
                    }
                    if (store.Layout.HasBlob(blob)) return new Refetch(name, null);
                }
                catch (ImageModuleException e)
                {
                    verbose?.Invoke($"{name} could not give {blob.Digest}: {e.Message}");
                    failure ??= new ImageModuleException(e.ErrorId, e.Kind, $"{name} could not give {blob.Digest}: {e.Message}", blob.Digest.ToString(), e);
                }
                catch (IOException e)
                {
                    verbose?.Invoke($"{name} could not give {blob.Digest}: {e.Message}");
                    failure ??= new ImageModuleException("BlobNotFetched", ErrorKind.ReadError, $"{name} could not give {blob.Digest}: {e.Message}", blob.Digest.ToString(), e);
                }
            }
            return new Refetch(null, failure);
        }

        /// <summary>Deletes cache.json; the next listing rebuilds it from the blobs.</summary>
        public static void RebuildCache(OciStore store)
        {
            var path = Path.Combine(store.Layout.SideDirectory, "cache.json");
            if (File.Exists(path)) File.Delete(path);
        }

        public static void DeleteStaging(string path)
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            else if (File.Exists(path)) File.Delete(path);
        }

        /// <summary>
        /// Writes a new index.json from the names recorded beside it (.imagemodule/names.json, rewritten with every
        /// index change), keeping the entries whose manifest is present; without a readable record, every manifest or
        /// index blob no other index names becomes an unnamed entry. Returns how many entries it wrote.
        /// </summary>
        public static async Task<int> RebuildIndexAsync(OciStore store, CancellationToken cancellationToken)
        {
            var layout = store.Layout;
            using (await StoreLock.AcquireAsync(layout, StoreLockMode.Exclusive, cancellationToken).ConfigureAwait(false))
            {
                List<Descriptor> entries;
                try
                {
                    var recorded = OciJson.Deserialize<ImageIndex>(File.ReadAllBytes(layout.NamesRecordPath), "names.json");
                    entries = recorded.Manifests.Where(e => layout.HasBlob(e)).ToList();
                }
                catch (Exception e) when (e is ImageModuleException || e is IOException)
                {
                    entries = ManifestsNoIndexNames(layout);
                }
                layout.WriteIndex(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = entries });
                return entries.Count;
            }
        }

        private static List<Descriptor> ManifestsNoIndexNames(OciLayout layout)
        {
            var documents = new List<(Descriptor Descriptor, IReadOnlyList<Descriptor> Children)>();
            foreach (var (digest, path) in layout.EnumerateBlobs())
            {
                var info = new FileInfo(path);
                if (info.Length > 4 << 20) continue;
                byte[] bytes;
                try { bytes = layout.ReadBlob(new Descriptor("", digest, info.Length)); }
                catch (ImageModuleException) { continue; }
                var mediaType = OciJson.PeekMediaType(bytes);
                try
                {
                    if (MediaTypes.IsIndex(mediaType))
                        documents.Add((new Descriptor(mediaType!, digest, info.Length), OciJson.Deserialize<ImageIndex>(bytes, "index").Manifests));
                    else if (MediaTypes.IsManifest(mediaType) && MediaTypes.IsImageConfig(OciJson.Deserialize<Manifest>(bytes, "manifest").Config.MediaType))
                        documents.Add((new Descriptor(mediaType!, digest, info.Length), Array.Empty<Descriptor>()));
                }
                catch (ImageModuleException) { }
            }
            var children = new HashSet<Digest>(documents.SelectMany(d => d.Children).Select(c => c.Digest));
            return documents.Where(d => !children.Contains(d.Descriptor.Digest)).Select(d => d.Descriptor).OrderBy(d => d.Digest).ToList();
        }
    }
}
