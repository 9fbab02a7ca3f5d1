using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Blob ingest and verification (containerd's content store): whether a blob is present, opening it checked or
    /// unchecked, writing it through a temp file that is hashed before it is renamed into place, and adopting a file
    /// the caller already hashed.
    /// The ingest rule: before it asks whether a blob exists or starts writing it, a process records the digest in its
    /// lease, under the shared store lock. The collector runs under the exclusive lock, so it runs either before that
    /// (the blob is gone, and is seen as absent and written again) or after (it sees the lease and spares the blob).
    /// </summary>
    internal sealed class ContentStore
    {
        /// <summary>Blobs smaller than this are not counted while written (configs, tiny layers): listing measures them cheaply.</summary>
        private const long MinCountedBlob = 1 << 16;

        private readonly OciLayout _layout;
        private readonly Leases _leases;
        private readonly Staging _staging;
        private readonly Action<Digest, long> _uncompressedSize;

        public ContentStore(OciLayout layout, Leases leases, Staging staging, Action<Digest, long> uncompressedSize)
        {
            _layout = layout;
            _leases = leases;
            _staging = staging;
            _uncompressedSize = uncompressedSize;
        }

        public string StagingDirectory => _staging.Directory;

        /// <summary>Records the digest in this process's leases and answers whether the blob is present, atomically with respect to the collector.</summary>
        public async Task<bool> LeaseAndCheckAsync(Descriptor target, CancellationToken cancellationToken)
        {
            using (await StoreLock.AcquireAsync(_layout, StoreLockMode.Shared, cancellationToken).ConfigureAwait(false))
            {
                Guard("record", target, () => _leases.Record(target.Digest));
                if (!_layout.HasBlob(target))
                {
                    // A file of the wrong size would stop the write from renaming the right bytes into place: set aside
                    // unless it hashes right after all (then the descriptor is what is wrong, and the write will say so).
                    if (File.Exists(_layout.BlobPath(target.Digest)) && !_layout.Intact(new Descriptor(target.MediaType, target.Digest, -1)))
                        _layout.Quarantine(target.Digest);
                    return false;
                }
                // A blob is checked, not only found: a corrupt one is set aside, so importing or pulling it again replaces
                // it. Small blobs (manifests, configs) are always hashed; a larger one only when it lost the stamp the
                // store gave it (OciLayout.VerifiedStamp): it was written in place since, or by another tool. Bit rot
                // that leaves the time alone is for Test-ImageStore to find.
                var small = target.Size >= 0 && target.Size <= VerifiedOnCheck;
                var intact = small ? _layout.Intact(target) : _layout.Stamped(target.Digest) || _layout.VerifyAndStamp(target);
                if (!intact)
                {
                    _layout.Quarantine(target.Digest);
                    return false;
                }
                return true;
            }
        }

        /// <summary>Blobs up to this size are hashed whenever an ingest asks whether the store has them (cheap: manifests, configs).</summary>
        private const long VerifiedOnCheck = 1 << 20;

        public Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken) => LeaseAndCheckAsync(target, cancellationToken);

        public Stream Open(Descriptor target, bool verify) => _layout.OpenBlob(target, verify);

        public async Task WriteAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken, bool resumable = false)
        {
            if (await LeaseAndCheckAsync(expected, cancellationToken).ConfigureAwait(false)) return;
            try
            {
                await WriteLeasedAsync(expected, content, bytesWritten, resumable, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e) when (DiskFull.Is(e))
            {
                throw DiskFull.Error("store", $"blob {expected.Digest}", _layout.Root, e);
            }
        }

        private async Task WriteLeasedAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, bool resumable, CancellationToken cancellationToken)
        {
            var staging = _staging.Directory;
            if (MediaTypes.IsManifest(expected.MediaType) || MediaTypes.IsIndex(expected.MediaType) || expected.Size < MinCountedBlob)
            {
                await _layout.WriteBlobAsync(expected, content, bytesWritten, null, staging, cancellationToken, resumable).ConfigureAwait(false);
                return;
            }
            // A compressed layer (by media type or, from archives, by its first bytes): its uncompressed size is counted
            // in the same pass, concurrently, so listing never has to read it back and decompress it.
            UncompressedSizeCounter? counter = null;
            var first = true;
            try
            {
                await _layout.WriteBlobAsync(expected, content, bytesWritten, (buffer, offset, count) =>
                {
                    if (first)
                    {
                        first = false;
                        counter = UncompressedSizeCounter.ForHead(buffer.Skip(offset).Take(Math.Min(count, 6)).ToArray(), Math.Min(count, 6));
                    }
                    counter?.Add(buffer, offset, count);
                }, staging, cancellationToken, resumable).ConfigureAwait(false);
                if (counter != null && await counter.CompleteAsync().ConfigureAwait(false) is long size) _uncompressedSize(expected.Digest, size);
            }
            finally
            {
                counter?.Dispose();
            }
        }

        public async Task AdoptAsync(Descriptor descriptor, string path, CancellationToken cancellationToken)
        {
            if (await LeaseAndCheckAsync(descriptor, cancellationToken).ConfigureAwait(false))
            {
                OciLayout.TryDelete(path);
                return;
            }
            try
            {
                _layout.AdoptBlob(descriptor, path);
            }
            catch (IOException e) when (DiskFull.Is(e))
            {
                throw DiskFull.Error("store", $"blob {descriptor.Digest}", _layout.Root, e);
            }
        }

        /// <summary>
        /// The first bytes of <paramref name="blob"/> that a killed process downloaded (see <see cref="Staging"/>), moved into
        /// this process's staging so no other process takes them too; null when there are none worth resuming.
        /// Call after <see cref="LeaseAndCheckAsync"/> found the blob absent.
        /// </summary>
        public ResumableBlob? TakeResumable(Descriptor blob)
        {
            var kept = Path.Combine(_staging.ResumeDirectory, $"{blob.Digest.Algorithm}-{blob.Digest.Hex}.partial");
            if (!File.Exists(kept)) return null;
            var mine = Path.Combine(_staging.Directory, $"{blob.Digest.Algorithm}-{blob.Digest.Hex}.{Guid.NewGuid():N}.resume");
            try { File.Move(kept, mine); }
            catch (IOException) { return null; }  // another process took it first
            var length = new FileInfo(mine).Length;
            if (length > 0 && (blob.Size < 0 || length < blob.Size)) return new ResumableBlob(mine, length);
            OciLayout.TryDelete(mine);
            return null;
        }

        /// <summary>Writes a download whose partial file, should this process die, the next pull may resume.</summary>
        public Task WriteResumableAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            WriteAsync(expected, content, bytesWritten, cancellationToken, resumable: true);

        /// <summary>Writes a blob from the bytes a killed process left plus the rest; the digest is checked over the whole.</summary>
        public async Task WriteResumingAsync(Descriptor expected, ResumableBlob head, Stream rest, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            try
            {
                using var first = new FileStream(head.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                using var joined = new ConcatenatedStream(first, rest);
                await WriteAsync(expected, joined, bytesWritten, cancellationToken, resumable: true).ConfigureAwait(false);
            }
            finally
            {
                OciLayout.TryDelete(head.Path);
            }
        }

        private void Guard(string operation, Descriptor target, Action action)
        {
            try { action(); }
            catch (IOException e) when (DiskFull.Is(e)) { throw DiskFull.Error(operation, $"blob {target.Digest}", _layout.Root, e); }
        }
    }
}
