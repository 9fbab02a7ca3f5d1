using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// Copies one image between any two content stores: pull (registry → store), push (store → registry),
    /// registry → registry. Blobs the destination has are skipped; the rest go in parallel, streamed and verified;
    /// the manifest goes last and is named at the end, so a failed copy names nothing.
    /// </summary>
    public static class ImageCopier
    {
        public const int DefaultParallelism = 4;

        /// <param name="platform">The platform to take from a multi-platform image (default: this machine's).</param>
        /// <param name="allPlatforms">Copy every image of an index and the index itself, digests unchanged.</param>
        /// <returns>The descriptor of what was named at the destination: a manifest, or the index.</returns>
        public static async Task<Descriptor> CopyAsync(ITarget source, string sourceReference, ITarget destination, string destinationReference,
            Platform? platform, IProgress<OperationProgress>? progress, CancellationToken cancellationToken, bool allPlatforms = false)
        {
            var root = await source.ResolveAsync(sourceReference, cancellationToken).ConfigureAwait(false);
            var rootBytes = await ReadAllAsync(source, root, cancellationToken).ConfigureAwait(false);
            var top = (Descriptor: root, Bytes: rootBytes);
            var images = new List<(Descriptor Descriptor, byte[] Bytes)>();
            if (MediaTypes.IsIndex(OciJson.PeekMediaType(rootBytes) ?? root.MediaType))
            {
                var index = OciJson.Deserialize<ImageIndex>(rootBytes, $"index {root.Digest}");
                var chosen = allPlatforms
                    ? index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)).ToList()
                    : index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && (platform ?? Platform.Current).Matches(m.Platform)).Take(1).ToList();
                if (chosen.Count == 0)
                    throw new ImageModuleException("PlatformNotFound", ErrorKind.ObjectNotFound,
                        $"{sourceReference} has no image for {platform ?? Platform.Current}; it has {string.Join(", ", index.Manifests.Select(m => m.Platform?.ToString()).Where(p => p != null))}.", sourceReference);
                foreach (var child in chosen) images.Add((child, await ReadAllAsync(source, child, cancellationToken).ConfigureAwait(false)));
                if (!allPlatforms) top = images[0];
            }
            else
            {
                images.Add(top);
            }
            var blobs = images.Select(m => OciJson.Deserialize<Manifest>(m.Bytes, $"manifest {m.Descriptor.Digest}"))
                .SelectMany(m => new[] { m.Config }.Concat(m.Layers)).GroupBy(b => b.Digest).Select(g => g.First()).ToList();
            var total = blobs.Sum(b => b.Size);
            long done = 0;
            var overall = 1;
            // Each blob's bar says which part of the image it is: "layer 2/4", "config".
            var configs = new HashSet<Digest>(images.Select(m => OciJson.Deserialize<Manifest>(m.Bytes, $"manifest {m.Descriptor.Digest}").Config.Digest));
            var layerCount = blobs.Count(b => !configs.Contains(b.Digest));
            var labels = new Dictionary<Digest, string>();
            var layerNumber = 0;
            foreach (var blob in blobs) labels[blob.Digest] = configs.Contains(blob.Digest) ? "config" : $"layer {++layerNumber}/{layerCount}";
            void Report(string status) => progress?.Report(new OperationProgress { Id = overall, Activity = $"Copying {sourceReference}", Status = status, BytesDone = Interlocked.Read(ref done), BytesTotal = total });

            using var gate = new SemaphoreSlim(DefaultParallelism);
            var tasks = blobs.Select(async (blob, i) =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (await destination.ExistsAsync(blob, cancellationToken).ConfigureAwait(false))
                    {
                        Interlocked.Add(ref done, blob.Size);
                        Report($"{blob.Digest.Short}: already exists");
                        return;
                    }
                    var id = i + 2;
                    long mine = 0;
                    var bytes = new Progress(n =>
                    {
                        mine += n;
                        Interlocked.Add(ref done, n);
                        progress?.Report(new OperationProgress { Id = id, ParentId = overall, Activity = labels[blob.Digest], Status = blob.Digest.Short, BytesDone = mine, BytesTotal = blob.Size });
                        Report("Copying");
                    });
                    // A registry checks the digest of what it receives: reading our store for it need not hash too.
                    using var stream = source is IUncheckedFetch raw && destination is IChecksPushedContent
                        ? await raw.FetchUncheckedAsync(blob, cancellationToken).ConfigureAwait(false)
                        : await source.FetchAsync(blob, cancellationToken).ConfigureAwait(false);
                    await destination.PushAsync(blob, stream, bytes, cancellationToken).ConfigureAwait(false);
                    progress?.Report(new OperationProgress { Id = id, ParentId = overall, Activity = labels[blob.Digest], Status = "Done", Completed = true });
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(tasks).ConfigureAwait(false);

            // Manifests after their blobs, the index after its manifests, the name last: a failed copy names nothing.
            var manifests = images.Any(i => i.Descriptor.Digest == top.Descriptor.Digest) ? images : images.Append(top);
            foreach (var (descriptor, bytes) in manifests)
            {
                if (await destination.ExistsAsync(descriptor, cancellationToken).ConfigureAwait(false)) continue;
                using var body = new MemoryStream(bytes, writable: false);
                await destination.PushAsync(descriptor, body, null, cancellationToken).ConfigureAwait(false);
            }
            await destination.TagAsync(top.Descriptor, destinationReference, cancellationToken).ConfigureAwait(false);
            progress?.Report(new OperationProgress { Id = overall, Activity = $"Copying {sourceReference}", Status = "Done", Completed = true });
            return top.Descriptor;
        }

        private static async Task<byte[]> ReadAllAsync(IContentStore store, Descriptor descriptor, CancellationToken cancellationToken)
        {
            using var stream = await store.FetchAsync(descriptor, cancellationToken).ConfigureAwait(false);
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, 81920, cancellationToken).ConfigureAwait(false);
            return buffer.ToArray();
        }

        /// <summary>Synchronous IProgress (System.Progress posts to a context; byte counts must be in order).</summary>
        private sealed class Progress : IProgress<long>
        {
            private readonly Action<long> _report;
            public Progress(Action<long> report) => _report = report;
            public void Report(long value) => _report(value);
        }
    }
}
