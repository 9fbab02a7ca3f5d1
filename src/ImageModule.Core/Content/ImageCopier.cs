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
    /// the manifest goes last and is named at the end, so a failed copy names nothing. Every manifest and config is
    /// read (bounded) and validated before the first blob is written (<see cref="ImageValidation"/>).
    /// </summary>
    public static class ImageCopier
    {
        public const int DefaultParallelism = 4;

        /// <param name="platform">The platform asked for: taken from a multi-platform image, and required of a single-platform
        /// one (PlatformNotFound). Null: <see cref="Platform.Default"/> from an index, any single image.</param>
        /// <param name="allPlatforms">Copy every image of an index and the index itself, digests unchanged.</param>
        /// <returns>The descriptor of what was named at the destination: a manifest, or the index.</returns>
        public static async Task<Descriptor> CopyAsync(ITarget source, string sourceReference, ITarget destination, string destinationReference,
            Platform? platform, IProgress<OperationProgress>? progress, CancellationToken cancellationToken, bool allPlatforms = false)
        {
            var root = await source.ResolveAsync(sourceReference, cancellationToken).ConfigureAwait(false);
            var rootBytes = await ReadAllAsync(source, root, cancellationToken).ConfigureAwait(false);
            Narrator.Say($"{sourceReference} is {root.Digest} ({root.MediaType}).");
            var top = (Descriptor: root, Bytes: rootBytes);
            var images = new List<(Descriptor Descriptor, byte[] Bytes)>();
            if (MediaTypes.IsIndex(OciJson.PeekMediaType(rootBytes) ?? root.MediaType))
            {
                var index = ImageValidation.Index(rootBytes, root);
                var want = allPlatforms ? null : platform ?? Platform.Default;
                var chosen = want is null
                    ? index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)).ToList()
                    : index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && want.Matches(m.Platform)).Take(1).ToList();
                if (chosen.Count == 0) throw PlatformCheck.NotInIndex(sourceReference, want!, index);
                foreach (var child in chosen)
                {
                    Narrator.Say(want is null ? $"Taking {child.Platform} ({child.Digest})." : $"Picked {child.Platform} ({child.Digest}) for {want}.");
                    images.Add((child, await ReadAllAsync(source, child, cancellationToken).ConfigureAwait(false)));
                }
                if (!allPlatforms) top = images[0];
            }
            else
            {
                images.Add(top);
            }
            var manifestsRead = images.Select(m => ImageValidation.Manifest(m.Bytes, m.Descriptor)).ToList();
            // Configs are small: read and checked before anything is written, then written from memory.
            var configs = new Dictionary<Digest, byte[]>();
            for (var i = 0; i < manifestsRead.Count; i++)
            {
                var config = manifestsRead[i].Config;
                if (configs.ContainsKey(config.Digest)) continue;
                // A config a local store destination (one that serves what it holds: IUncheckedFetch) already has,
                // verified when it went in, is read there, so pulling an unchanged image again asks the registry for
                // its manifest and nothing else.
                var holder = destination is IUncheckedFetch && await destination.ExistsAsync(config, cancellationToken).ConfigureAwait(false)
                    ? destination : source;
                var bytes = await ReadAllAsync(holder, config, cancellationToken, ImageValidation.MaxConfigBytes).ConfigureAwait(false);
                var parsed = ImageValidation.Config(bytes, config, manifestsRead[i]);
                // An asked-for platform holds for a single-platform image too (and for what an index entry claims).
                if (platform != null && !allPlatforms) PlatformCheck.Ensure(platform, parsed, sourceReference);
                configs[config.Digest] = bytes;
            }
            var blobs = manifestsRead.SelectMany(m => new[] { m.Config }.Concat(m.Layers)).GroupBy(b => b.Digest).Select(g => g.First()).ToList();
            var total = blobs.Sum(b => b.Size);
            Narrator.Say($"{blobs.Count} blobs, {total} bytes, for {images.Count} image(s).");
            long done = 0;
            var overall = 1;
            // Each blob's bar says which part of the image it is: "layer 2/4", "config".
            var layerCount = blobs.Count(b => !configs.ContainsKey(b.Digest));
            var labels = new Dictionary<Digest, string>();
            var layerNumber = 0;
            foreach (var blob in blobs) labels[blob.Digest] = configs.ContainsKey(blob.Digest) ? "config" : $"layer {++layerNumber}/{layerCount}";
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
                        Narrator.Say($"{blob.Digest.Short}: already at the destination, skipped ({blob.Size} bytes).");
                        Report($"{blob.Digest.Short}: already exists");
                        return;
                    }
                    Narrator.Say($"{blob.Digest.Short}: copying {blob.Size} bytes ({blob.MediaType}).");
                    var id = i + 2;
                    long mine = 0;
                    var bytes = new Progress(n =>
                    {
                        mine += n;
                        Interlocked.Add(ref done, n);
                        progress?.Report(new OperationProgress { Id = id, ParentId = overall, Activity = labels[blob.Digest], Status = blob.Digest.Short, BytesDone = mine, BytesTotal = blob.Size });
                        Report("Copying");
                    });
                    // What a killed pull left of this blob is kept, and only the rest is asked for (a Range request).
                    var resumer = configs.ContainsKey(blob.Digest) || !(source is IRangeFetch) ? null : destination as IResumesBlobs;
                    if (resumer?.TakeResumable(blob) is { } head)
                    {
                        var ranged = (IRangeFetch)source;
                        Narrator.Say($"{blob.Digest.Short}: {head.Length} of {blob.Size} bytes were left by an earlier pull that did not finish; resuming.");
                        using var rest = await ranged.FetchFromAsync(blob, head.Length, cancellationToken).ConfigureAwait(false);
                        await resumer.PushResumingAsync(blob, head, rest, bytes, cancellationToken).ConfigureAwait(false);
                        progress?.Report(new OperationProgress { Id = id, ParentId = overall, Activity = labels[blob.Digest], Status = "Done", Completed = true });
                        return;
                    }
                    // A registry checks the digest of what it receives: reading our store for it need not hash too.
                    using var stream = configs.TryGetValue(blob.Digest, out var config) ? new MemoryStream(config, writable: false)
                        : source is IUncheckedFetch raw && destination is IChecksPushedContent
                        ? await raw.FetchUncheckedAsync(blob, cancellationToken).ConfigureAwait(false)
                        : await source.FetchAsync(blob, cancellationToken).ConfigureAwait(false);
                    await (resumer != null
                        ? resumer.PushResumableAsync(blob, stream, bytes, cancellationToken)
                        : destination.PushAsync(blob, stream, bytes, cancellationToken)).ConfigureAwait(false);
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
            Narrator.Say($"Named {top.Descriptor.Digest} {destinationReference}.");
            progress?.Report(new OperationProgress { Id = overall, Activity = $"Copying {sourceReference}", Status = "Done", Completed = true });
            return top.Descriptor;
        }

        /// <summary>The cap on a manifest or index read whole (distribution's own limit).</summary>
        public const long MaxManifestBytes = 4L << 20;

        /// <summary>A manifest or config read whole, capped: a declared size above the cap is refused unread, and a
        /// store that sends more than it declared is stopped at the cap.</summary>
        private static async Task<byte[]> ReadAllAsync(IContentStore store, Descriptor descriptor, CancellationToken cancellationToken, long max = MaxManifestBytes)
        {
            var what = max == MaxManifestBytes ? "manifest" : "config";
            if (descriptor.Size > max)
                throw new ImageModuleException(max == MaxManifestBytes ? "ManifestTooLarge" : "InvalidConfig", ErrorKind.InvalidData,
                    $"The {what} {descriptor.Digest} declares {descriptor.Size} bytes, more than the {max} a {what} may have; refused without reading it.", descriptor.Digest.ToString());
            using var stream = await store.FetchAsync(descriptor, cancellationToken).ConfigureAwait(false);
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > max)
                    throw new ImageModuleException(max == MaxManifestBytes ? "ManifestTooLarge" : "InvalidConfig", ErrorKind.InvalidData,
                        $"The {what} {descriptor.Digest} is larger than the {max} bytes a {what} may have; refused.", descriptor.Digest.ToString());
                buffer.Write(chunk, 0, n);
            }
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
