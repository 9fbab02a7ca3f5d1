using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Blob ingest and verification (containerd's content store): whether a blob is present, opening it checked or
    /// unchecked, writing it through a temp file that is hashed before it is renamed into place, and adopting a file
    /// the caller already hashed. Every digest it is asked about or writes is recorded in the open leases first.
    /// </summary>
    internal sealed class ContentStore
    {
        /// <summary>Blobs smaller than this are not counted while written (configs, tiny layers): listing measures them cheaply.</summary>
        private const long MinCountedBlob = 1 << 16;

        private readonly OciLayout _layout;
        private readonly Leases _leases;
        private readonly Action<Digest, long> _uncompressedSize;

        public ContentStore(OciLayout layout, Leases leases, Action<Digest, long> uncompressedSize)
        {
            _layout = layout;
            _leases = leases;
            _uncompressedSize = uncompressedSize;
        }

        public string StagingDirectory => _layout.TempDirectory;

        public bool Exists(Descriptor target)
        {
            var exists = _layout.HasBlob(target);
            if (exists) _leases.Record(target.Digest);
            return exists;
        }

        public Stream Open(Descriptor target, bool verify) => _layout.OpenBlob(target, verify);

        public async Task WriteAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            _layout.EnsureCreated();
            _leases.Record(expected.Digest);
            if (MediaTypes.IsManifest(expected.MediaType) || MediaTypes.IsIndex(expected.MediaType) || expected.Size < MinCountedBlob || _layout.HasBlob(expected))
            {
                await _layout.WriteBlobAsync(expected, content, bytesWritten, cancellationToken).ConfigureAwait(false);
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
                }, cancellationToken).ConfigureAwait(false);
                if (counter != null && await counter.CompleteAsync().ConfigureAwait(false) is long size) _uncompressedSize(expected.Digest, size);
            }
            finally
            {
                counter?.Dispose();
            }
        }

        public void Adopt(Descriptor descriptor, string path)
        {
            _layout.EnsureCreated();
            _leases.Record(descriptor.Digest);
            _layout.AdoptBlob(descriptor, path);
        }
    }
}
