using System;
using System.Buffers;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>
    /// Computes a compressed layer's diff ID (the digest of its uncompressed tar) from the bytes an archive load is
    /// already pushing, on another thread (<see cref="BackgroundConsumer{T}"/>), so that checking an OCI archive's
    /// layers against its config's diff IDs costs no second read of the layer. Fed through a <see cref="Tee"/>.
    /// </summary>
    internal sealed class DiffIdDigester : IDisposable
    {
        private readonly BackgroundConsumer<Digest?> _consumer;
        private long _fed;

        private DiffIdDigester(ArchiveCompression compression) => _consumer = new BackgroundConsumer<Digest?>(input => Digest(input, compression));

        /// <summary>A digester for the compression the first bytes show, or null when they show none layers carry.</summary>
        public static DiffIdDigester? ForHead(byte[] head, int count)
        {
            var compression = Decompression.Detect(head, count);
            return compression == ArchiveCompression.Gzip || compression == ArchiveCompression.Zstd ? new DiffIdDigester(compression) : null;
        }

        public long BytesFed => Interlocked.Read(ref _fed);

        public void Add(byte[] buffer, int offset, int count)
        {
            Interlocked.Add(ref _fed, count);
            _consumer.Add(buffer, offset, count);
        }

        /// <summary>Ends the input; the diff ID, or null if the content did not decompress.</summary>
        public Task<Digest?> CompleteAsync() => _consumer.CompleteAsync();

        private static Digest? Digest(Stream input, ArchiveCompression compression)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
            try
            {
                using var decompressed = Decompression.Wrap(input, compression);
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                int n;
                while ((n = decompressed.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
                return Oci.Digest.FromHash(Oci.Digest.Sha256, hash.GetHashAndReset());
            }
            catch (Exception e) when (CorruptContent.IsDecoderFailure(e))
            {
                return null;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public void Dispose() => _consumer.Dispose();

        /// <summary>Passes a blob's bytes through and, when its first bytes show a compressed layer, feeds a digester.</summary>
        public sealed class Tee : ReadOnlyStream
        {
            private readonly Stream _inner;
            private bool _first = true;

            public Tee(Stream inner) { _inner = inner; }

            /// <summary>The digester started by the first bytes, or null (not compressed, or nothing was read).</summary>
            public DiffIdDigester? Digester { get; private set; }

            public override int Read(byte[] buffer, int offset, int count) => Seen(buffer, offset, _inner.Read(buffer, offset, count));

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                Seen(buffer, offset, await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

            private int Seen(byte[] buffer, int offset, int n)
            {
                if (n <= 0) return n;
                if (_first)
                {
                    _first = false;
                    var head = new byte[Math.Min(n, 6)];
                    Buffer.BlockCopy(buffer, offset, head, 0, head.Length);
                    Digester = ForHead(head, head.Length);
                }
                Digester?.Add(buffer, offset, n);
                return n;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing) _inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
