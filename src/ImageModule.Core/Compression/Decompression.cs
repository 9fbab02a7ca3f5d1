using System;
using System.IO;
using System.IO.Compression;
using SharpCompress.Compressors.BZip2;
using SharpCompress.Compressors.Xz;
using ZstdDecompressionStream = SharpCompress.Compressors.ZStandard.DecompressionStream;

namespace ImageModule.Compression
{
    /// <summary>Detects compression by magic bytes (never by file extension) and opens a decompressing stream.</summary>
    public static class Decompression
    {
        public static ArchiveCompression Detect(byte[] head, int count)
        {
            bool Starts(params byte[] magic)
            {
                if (count < magic.Length) return false;
                for (var i = 0; i < magic.Length; i++) if (head[i] != magic[i]) return false;
                return true;
            }
            if (Starts(0x1f, 0x8b)) return ArchiveCompression.Gzip;
            if (Starts(0x28, 0xb5, 0x2f, 0xfd)) return ArchiveCompression.Zstd;
            if (Starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return ArchiveCompression.Xz;
            if (Starts(0x42, 0x5a, 0x68)) return ArchiveCompression.Bzip2;
            return ArchiveCompression.None;
        }

        /// <summary>
        /// Peeks at the first bytes of <paramref name="raw"/> and returns a stream of the decompressed content
        /// (or the content itself). Disposing the result disposes <paramref name="raw"/>.
        /// </summary>
        public static Stream Open(Stream raw, out ArchiveCompression compression)
        {
            var head = new byte[6];
            var got = 0;
            while (got < head.Length)
            {
                var n = raw.Read(head, got, head.Length - got);
                if (n <= 0) break;
                got += n;
            }
            compression = Detect(head, got);
            Stream replay;
            if (raw.CanSeek) { raw.Seek(-got, SeekOrigin.Current); replay = raw; }
            else replay = new PrefixedStream(head, got, raw);
            return Wrap(replay, compression);
        }

        public static Stream Wrap(Stream raw, ArchiveCompression compression) => compression switch
        {
            ArchiveCompression.None => raw,
            // System.IO.Compression uses native zlib and reads concatenated gzip members like Go's reader does.
            ArchiveCompression.Gzip => new GZipStream(raw, CompressionMode.Decompress, leaveOpen: false),
            ArchiveCompression.Zstd => new ZstdDecompressionStream(raw, 0, false, false),
            ArchiveCompression.Xz => new XZStream(raw),
            ArchiveCompression.Bzip2 => BZip2Stream.Create(raw, SharpCompress.Compressors.CompressionMode.Decompress, true, false, false),
            _ => throw new ArgumentOutOfRangeException(nameof(compression)),
        };

        /// <summary>Replays a few bytes already read from a non-seekable stream, then reads on.</summary>
        private sealed class PrefixedStream : ImageModule.Content.ReadOnlyStream
        {
            private readonly byte[] _prefix;
            private readonly int _count;
            private readonly Stream _inner;
            private int _pos;

            public PrefixedStream(byte[] prefix, int count, Stream inner) { _prefix = prefix; _count = count; _inner = inner; }

            public override int Read(byte[] buffer, int offset, int count)
            {
                if (_pos < _count)
                {
                    var n = Math.Min(count, _count - _pos);
                    Array.Copy(_prefix, _pos, buffer, offset, n);
                    _pos += n;
                    return n;
                }
                return _inner.Read(buffer, offset, count);
            }

            public override System.Threading.Tasks.Task<int> ReadAsync(byte[] buffer, int offset, int count, System.Threading.CancellationToken cancellationToken)
            {
                if (_pos < _count) return System.Threading.Tasks.Task.FromResult(Read(buffer, offset, count));
                return _inner.ReadAsync(buffer, offset, count, cancellationToken);
            }

            // Some decompressors read Position of their source; report bytes handed out so far.
            public override long Position { get => _pos + _inner.Position; set => throw new NotSupportedException(); }

            protected override void Dispose(bool disposing)
            {
                if (disposing) _inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
