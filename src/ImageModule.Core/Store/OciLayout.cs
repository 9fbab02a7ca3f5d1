using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// The on-disk OCI image layout (image-layout.md): oci-layout, index.json, blobs/&lt;alg&gt;/&lt;hex&gt;.
    /// Our own side files live under .imagemodule/ (lock, cache, temp), which layout readers ignore.
    /// </summary>
    public sealed class OciLayout
    {
        private const int BufferSize = 1 << 20;
        private const long ConcurrentVerifyThreshold = 4L << 20;
        private const string LayoutFileContent = "{\"imageLayoutVersion\":\"1.0.0\"}";

        public OciLayout(string root)
        {
            Root = Path.GetFullPath(root);
        }

        public string Root { get; }
        public string IndexPath => Path.Combine(Root, "index.json");
        public string SideDirectory => Path.Combine(Root, ".imagemodule");
        public string TempDirectory => Path.Combine(SideDirectory, "tmp");
        public string LockPath => Path.Combine(SideDirectory, "lock");

        public bool Exists => File.Exists(Path.Combine(Root, "oci-layout"));

        public string BlobPath(Digest digest) => Path.Combine(Root, "blobs", digest.Algorithm, digest.Hex);

        /// <summary>Creates the layout files if missing; an existing layout is left as it is.</summary>
        public void EnsureCreated()
        {
            Directory.CreateDirectory(Path.Combine(Root, "blobs", Digest.Sha256));
            Directory.CreateDirectory(TempDirectory);
            var layoutFile = Path.Combine(Root, "oci-layout");
            if (!File.Exists(layoutFile)) WriteAllBytesAtomic(layoutFile, System.Text.Encoding.UTF8.GetBytes(LayoutFileContent));
            if (!File.Exists(IndexPath)) WriteIndex(new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex });
        }

        public ImageIndex ReadIndex()
        {
            if (!File.Exists(IndexPath)) return new ImageIndex { MediaType = MediaTypes.OciIndex };
            return OciJson.Deserialize<ImageIndex>(File.ReadAllBytes(IndexPath), $"index.json in {Root}");
        }

        /// <summary>A copy of the names, written with every index.json change (under the store lock), from which a damaged index.json is rebuilt.</summary>
        public string NamesRecordPath => Path.Combine(SideDirectory, "names.json");

        /// <summary>Where blobs that do not match their digest are moved, so the store never again says it has them.</summary>
        public string QuarantineDirectory => Path.Combine(SideDirectory, "quarantine");

        /// <summary>
        /// Space set aside so that index.json can still be rewritten (and so images removed) on a full disk: when writing
        /// the index runs out of space, the reserve is deleted and the write tried once more.
        /// </summary>
        public string ReservePath => Path.Combine(SideDirectory, "reserve");

        private const int ReserveSize = 4 << 20;

        /// <summary>Writes index.json through a temp file and a rename; on a full disk, spends the reserve and retries.</summary>
        public void WriteIndex(ImageIndex index)
        {
            var bytes = OciJson.Serialize(index);
            try
            {
                WriteAllBytesAtomic(IndexPath, bytes);
            }
            catch (IOException e) when (Store.DiskFull.Is(e) && File.Exists(ReservePath))
            {
                TryDelete(ReservePath);
                WriteAllBytesAtomic(IndexPath, bytes);
            }
            // The record of names lives beside index.json so that a damaged index.json can be rebuilt (Repair-ImageStore).
            try
            {
                Directory.CreateDirectory(SideDirectory);
                WriteAllBytesAtomic(NamesRecordPath, bytes);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>Puts the reserve back if it is missing and there is room (best effort).</summary>
        public void EnsureReserve()
        {
            if (File.Exists(ReservePath) || !Directory.Exists(SideDirectory)) return;
            var temp = ReservePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    var zeros = new byte[1 << 16];
                    for (var written = 0; written < ReserveSize; written += zeros.Length) file.Write(zeros, 0, zeros.Length);
                    file.Flush(true);
                }
                File.Move(temp, ReservePath);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
            finally
            {
                TryDelete(temp);
            }
        }

        /// <summary>
        /// Moves a blob that does not match its digest out of blobs/ (kept under .imagemodule/quarantine for inspection):
        /// from then on the store does not have it, so the next import or pull writes it again, verified.
        /// </summary>
        public bool Quarantine(Digest digest)
        {
            var path = BlobPath(digest);
            if (!File.Exists(path)) return false;
            try
            {
                Directory.CreateDirectory(QuarantineDirectory);
                File.Move(path, Path.Combine(QuarantineDirectory, $"{digest.Algorithm}-{digest.Hex}-{Guid.NewGuid():N}"));
                return true;
            }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>Whether the blob's bytes hash to its digest (reads it whole).</summary>
        public bool Intact(Descriptor descriptor) => Hashes(descriptor) != false;

        /// <summary>
        /// The last-write time of every blob this store names, set on the temp file before the rename, so a blob is
        /// never in blobs/ unstamped. Blobs are content-addressed and never rewritten, so their time says nothing else;
        /// any write in place (a flipped byte, an editor, another tool) moves it to "now", which is what the stamp detects.
        /// Whole seconds, even ones, so filesystems with a coarse clock (FAT: 2 s) keep it exactly.
        /// </summary>
        public static readonly DateTime VerifiedStamp = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

        /// <summary>Whether the blob still carries <see cref="VerifiedStamp"/>: nothing wrote to it since the store checked it.</summary>
        public bool Stamped(Digest digest)
        {
            try { return File.GetLastWriteTimeUtc(BlobPath(digest)) == VerifiedStamp; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        /// <summary>
        /// Hashes a blob that is not stamped (written by another tool, or changed in place): false when it is corrupt;
        /// when it is intact, stamps it, so later checks trust it without reading it again. A blob that changed while
        /// it was hashed, or cannot be read just now, is not stamped (it is hashed again next time).
        /// </summary>
        public bool VerifyAndStamp(Descriptor descriptor)
        {
            var path = BlobPath(descriptor.Digest);
            DateTime before;
            try { before = File.GetLastWriteTimeUtc(path); }
            catch (IOException) { return true; }
            catch (UnauthorizedAccessException) { return true; }
            var intact = Hashes(descriptor);
            if (intact != true) return intact == null;
            try
            {
                if (File.GetLastWriteTimeUtc(path) == before) File.SetLastWriteTimeUtc(path, VerifiedStamp);
            }
            catch (IOException) { }                  // read-only store, or open elsewhere on Windows: hashed again next time
            catch (UnauthorizedAccessException) { }
            return true;
        }

        /// <summary>Whether the blob's bytes hash to its digest; null when it cannot be read just now (locked on Windows): not proven corrupt.</summary>
        private bool? Hashes(Descriptor descriptor)
        {
            try
            {
                using var file = new FileStream(BlobPath(descriptor.Digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                using var hash = descriptor.Digest.CreateHash();
                var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
                try
                {
                    int n;
                    while ((n = file.Read(buffer, 0, BufferSize)) > 0) hash.AppendData(buffer, 0, n);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                return Digest.FromHash(descriptor.Digest.Algorithm, hash.GetHashAndReset()) == descriptor.Digest;
            }
            catch (FileNotFoundException) { return false; }
            catch (DirectoryNotFoundException) { return false; }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }

        /// <summary>Stamps a file about to become a blob (see <see cref="VerifiedStamp"/>); without it, the blob is hashed once on its next check.</summary>
        private static void Stamp(string path)
        {
            try { File.SetLastWriteTimeUtc(path, VerifiedStamp); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        public bool HasBlob(Descriptor descriptor)
        {
            var info = new FileInfo(BlobPath(descriptor.Digest));
            return info.Exists && (descriptor.Size < 0 || info.Length == descriptor.Size);
        }

        public Stream OpenBlob(Descriptor descriptor, bool verify = true)
        {
            var path = BlobPath(descriptor.Digest);
            FileStream file;
            try
            {
                file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, FileOptions.SequentialScan);
            }
            catch (FileNotFoundException)
            {
                throw new ImageModuleException("BlobNotFound", ErrorKind.ObjectNotFound, $"Blob {descriptor.Digest} is missing from {Root}", descriptor.Digest.ToString());
            }
            catch (DirectoryNotFoundException)
            {
                throw new ImageModuleException("BlobNotFound", ErrorKind.ObjectNotFound, $"Blob {descriptor.Digest} is missing from {Root}", descriptor.Digest.ToString());
            }
            if (!verify) return file;
            // Large blobs are hashed on another thread while the reader copies or unpacks them.
            return descriptor.Size >= ConcurrentVerifyThreshold ? new ConcurrentVerifyingStream(file, descriptor) : new VerifyingStream(file, descriptor);
        }

        public byte[] ReadBlob(Descriptor descriptor, long maxSize = 64L << 20)
        {
            if (descriptor.Size > maxSize)
                throw new ImageModuleException("BlobTooLarge", ErrorKind.InvalidData, $"{descriptor.Digest} is {descriptor.Size} bytes, more than a manifest or config may be", descriptor.Digest.ToString());
            using var stream = OpenBlob(descriptor);
            var buffer = new MemoryStream(descriptor.Size > 0 ? (int)descriptor.Size : 256);
            stream.CopyTo(buffer);
            return buffer.ToArray();
        }

        /// <summary>
        /// Streams content into a temp file while hashing, checks size and digest, fsyncs, then renames it into
        /// blobs/ — so a blob is either absent or complete and correct, whatever happens (crash, Ctrl+C, bad peer).
        /// </summary>
        public Task WriteBlobAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) =>
            WriteBlobAsync(expected, content, bytesWritten, null, TempDirectory, cancellationToken);

        /// <summary>
        /// Writes a blob: to a temp file while its digest is checked, fsynced, renamed into place. <paramref name="observe"/>
        /// sees every chunk as it is written (the store counts uncompressed sizes with it). Content that is a
        /// <see cref="VerifyingStream"/> for the same digest is not hashed a second time: it checks size and digest
        /// itself when it reaches its end, which happens before the rename.
        /// </summary>
        public async Task WriteBlobAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, Action<byte[], int, int>? observe, string stagingDirectory, CancellationToken cancellationToken, bool resumable = false)
        {
            if (HasBlob(expected)) return;
            var preverified = content is VerifyingStream v && v.Expected.Digest == expected.Digest && v.BytesRead == 0 && expected.Size >= 0;
            Directory.CreateDirectory(stagingDirectory);
            Directory.CreateDirectory(Path.GetDirectoryName(BlobPath(expected.Digest))!);
            // A download is named by its digest: what a killed process left of it is resumed by the next pull of that blob.
            var temp = Path.Combine(stagingDirectory, resumable ? Staging.PartialName(expected.Digest) : Guid.NewGuid().ToString("N") + ".partial");
            var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
            try
            {
                using (var hash = preverified ? null : expected.Digest.CreateHash())
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
                {
                    long total = 0;
                    int read;
                    while ((read = await content.ReadAsync(buffer, 0, BufferSize, cancellationToken).ConfigureAwait(false)) > 0)
                    {
                        total += read;
                        if (expected.Size >= 0 && total > expected.Size) throw new SizeMismatchException(expected.Digest.ToString(), expected.Size, total);
                        hash?.AppendData(buffer, 0, read);
                        file.Write(buffer, 0, read);
                        observe?.Invoke(buffer, 0, read);
                        bytesWritten?.Report(read);
                    }
                    if (expected.Size >= 0 && total != expected.Size) throw new SizeMismatchException(expected.Digest.ToString(), expected.Size, total);
                    if (hash != null)
                    {
                        var actual = Digest.FromHash(expected.Digest.Algorithm, hash.GetHashAndReset());
                        if (actual != expected.Digest) throw new DigestMismatchException(expected.Digest.ToString(), actual.ToString());
                    }
                    file.Flush(true);
                }
                Stamp(temp);
                MoveIntoPlace(temp, BlobPath(expected.Digest));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
                TryDelete(temp);
            }
        }

        /// <summary>
        /// Moves a file the caller wrote and hashed (in <see cref="TempDirectory"/>) into place as a blob, after an fsync:
        /// the single-pass path for archive layers whose digest is only known once they were read.
        /// </summary>
        public void AdoptBlob(Descriptor expected, string path)
        {
            var length = new FileInfo(path).Length;
            if (expected.Size >= 0 && length != expected.Size) throw new SizeMismatchException(expected.Digest.ToString(), expected.Size, length);
            if (HasBlob(expected))
            {
                TryDelete(path);
                return;
            }
            using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1))
            {
                file.Flush(true);
            }
            Stamp(path);
            Directory.CreateDirectory(Path.GetDirectoryName(BlobPath(expected.Digest))!);
            MoveIntoPlace(path, BlobPath(expected.Digest));
            TryDelete(path);
        }

        public async Task WriteBlobAsync(Descriptor expected, byte[] content, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(content, writable: false);
            await WriteBlobAsync(expected, stream, null, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Every blob file present, by digest (for garbage collection and cache checks).</summary>
        public IEnumerable<(Digest Digest, string Path)> EnumerateBlobs()
        {
            var blobs = Path.Combine(Root, "blobs");
            if (!Directory.Exists(blobs)) yield break;
            foreach (var algorithmDir in Directory.EnumerateDirectories(blobs))
            {
                var algorithm = Path.GetFileName(algorithmDir);
                foreach (var file in Directory.EnumerateFiles(algorithmDir))
                {
                    if (Digest.TryParse(algorithm + ":" + Path.GetFileName(file), out var digest)) yield return (digest, file);
                }
            }
        }

        internal static void WriteAllBytesAtomic(string path, byte[] bytes)
        {
            var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
            try
            {
                using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    file.Write(bytes, 0, bytes.Length);
                    file.Flush(true);
                }
                MoveIntoPlace(temp, path, replace: true);
            }
            finally
            {
                TryDelete(temp);
            }
        }

        private static void MoveIntoPlace(string temp, string final, bool replace = false)
        {
            if (replace && File.Exists(final))
            {
                File.Replace(temp, final, null);
                return;
            }
            try
            {
                File.Move(temp, final);
            }
            catch (IOException) when (File.Exists(final))
            {
                // Another writer stored the same content first; content addressing makes theirs as good as ours.
            }
        }

        internal static void TryDelete(string path)
        {
            try
            {
                if (File.Exists(path)) File.Delete(path);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
