using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// Like <see cref="VerifyingStream"/> (size and digest checked, the end of the content throws if they differ), but
    /// the hash runs on another thread while the reader goes on with its own work: for large blobs read from the store
    /// (save, expand), where hashing inline would add its full cost to the copy.
    /// </summary>
    public sealed class ConcurrentVerifyingStream : ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly Descriptor _expected;
        private readonly BackgroundConsumer<Digest> _hasher;
        private long _read;
        private bool _verified;
        private bool _disposed;
        private const int ChunkSize = 1 << 20;
        private readonly byte[] _chunk = new byte[ChunkSize];
        private int _chunkOffset, _chunkCount;

        public ConcurrentVerifyingStream(Stream inner, Descriptor expected)
        {
            _inner = inner;
            _expected = expected;
            _hasher = new BackgroundConsumer<Digest>(input =>
            {
                using var hash = expected.Digest.CreateHash();
                var buffer = new byte[1 << 16];
                int n;
                while ((n = input.Read(buffer, 0, buffer.Length)) > 0) hash.AppendData(buffer, 0, n);
                return Digest.FromHash(expected.Digest.Algorithm, hash.GetHashAndReset());
            });
        }

        public override long Length => _expected.Size;

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_chunkOffset == _chunkCount)
            {
                if (count >= ChunkSize) return Account(buffer, offset, _inner.Read(buffer, offset, count));
                Refill(_inner.Read(_chunk, 0, ChunkSize));
            }
            return Serve(buffer, offset, count);
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (_chunkOffset == _chunkCount)
            {
                if (count >= ChunkSize) return Account(buffer, offset, await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));
                Refill(await _inner.ReadAsync(_chunk, 0, ChunkSize, cancellationToken).ConfigureAwait(false));
            }
            return Serve(buffer, offset, count);
        }

        // Small reads (a decompressor's 8–64 KiB) are served from one large chunk, so the hasher is handed a few large
        // chunks instead of a stream of small ones: each hand-off between threads has a fixed cost.
        private void Refill(int n)
        {
            _chunkOffset = 0;
            _chunkCount = Account(_chunk, 0, n);
        }

        private int Serve(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(count, _chunkCount - _chunkOffset);
            Buffer.BlockCopy(_chunk, _chunkOffset, buffer, offset, n);
            _chunkOffset += n;
            return n;
        }

        private int Account(byte[] buffer, int offset, int n)
        {
            if (n > 0)
            {
                _read += n;
                if (_expected.Size >= 0 && _read > _expected.Size) throw new SizeMismatchException(_expected.Digest.ToString(), _expected.Size, _read);
                _hasher.Add(buffer, offset, n);
            }
            else if (!_verified)
            {
                _verified = true;
                if (_expected.Size >= 0 && _read != _expected.Size) throw new SizeMismatchException(_expected.Digest.ToString(), _expected.Size, _read);
                var actual = _hasher.Complete();
                if (actual != _expected.Digest) throw new DigestMismatchException(_expected.Digest.ToString(), actual.ToString());
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                _hasher.Dispose();
                _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
