using System;
using System.IO;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// A read-only stream that hashes what passes through it and, at end of stream, throws if the size or digest
    /// differ from the descriptor (oras-go's verifying reader). Reading past the expected size fails at once,
    /// so a hostile peer cannot make us buffer or write without bound.
    /// </summary>
    public sealed class VerifyingStream : Stream
    {
        private readonly Stream _inner;
        private readonly Descriptor _expected;
        private readonly IncrementalHash _hash;
        private readonly bool _leaveOpen;
        private long _read;
        private bool _verified;

        public VerifyingStream(Stream inner, Descriptor expected, bool leaveOpen = false)
        {
            _inner = inner;
            _expected = expected;
            _hash = expected.Digest.CreateHash();
            _leaveOpen = leaveOpen;
        }

        public long BytesRead => _read;

        /// <summary>The descriptor this stream checks its content against.</summary>
        public Descriptor Expected => _expected;

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = _inner.Read(buffer, offset, count);
            return Account(buffer, offset, n);
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            return Account(buffer, offset, n);
        }

        private int Account(byte[] buffer, int offset, int n)
        {
            if (n > 0)
            {
                _read += n;
                if (_expected.Size >= 0 && _read > _expected.Size) throw new SizeMismatchException(_expected.Digest.ToString(), _expected.Size, _read);
                _hash.AppendData(buffer, offset, n);
            }
            else if (!_verified)
            {
                _verified = true;
                if (_expected.Size >= 0 && _read != _expected.Size) throw new SizeMismatchException(_expected.Digest.ToString(), _expected.Size, _read);
                var actual = Digest.FromHash(_expected.Digest.Algorithm, _hash.GetHashAndReset());
                if (actual != _expected.Digest) throw new DigestMismatchException(_expected.Digest.ToString(), actual.ToString());
            }
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => _expected.Size;
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
                if (!_leaveOpen) _inner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
