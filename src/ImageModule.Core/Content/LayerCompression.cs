using System.IO;
using System.IO.Compression;
using ImageModule.Oci;
using SharpCompress.Compressors.ZStandard;

namespace ImageModule.Content
{
    /// <summary>Opens the uncompressed tar inside a layer blob, by media type, falling back to magic bytes.</summary>
    public static class LayerCompression
    {
        public static Stream OpenDecompressed(Stream blob, string? mediaType)
        {
            if (MediaTypes.IsGzipLayer(mediaType)) return new GZipStream(blob, CompressionMode.Decompress);
            if (MediaTypes.IsZstdLayer(mediaType)) return new DecompressionStream(blob, 1 << 17, true, false);
            if (mediaType == MediaTypes.OciLayer || mediaType == MediaTypes.DockerLayer) return blob;
            // Unknown or foreign media type: sniff, because some tools label gzip layers as plain tar.
            var buffered = blob.CanSeek ? blob : new BufferedStream(blob, 1 << 16);
            var head = new byte[4];
            var n = ReadAtMost(buffered, head);
            if (buffered.CanSeek) buffered.Seek(-n, SeekOrigin.Current);
            else return OpenDecompressed(new PrefixedStream(head, n, buffered), mediaType == null ? null : Sniff(head, n));
            return Sniff(head, n) switch
            {
                MediaTypes.OciLayerGzip => new GZipStream(buffered, CompressionMode.Decompress),
                MediaTypes.OciLayerZstd => new DecompressionStream(buffered, 1 << 17, true, false),
                _ => buffered,
            };
        }

        /// <summary>The layer media type the first bytes suggest: gzip, zstd or plain tar.</summary>
        public static string Sniff(byte[] head, int count)
        {
            if (count >= 2 && head[0] == 0x1f && head[1] == 0x8b) return MediaTypes.OciLayerGzip;
            if (count >= 4 && head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd) return MediaTypes.OciLayerZstd;
            return MediaTypes.OciLayer;
        }

        private static int ReadAtMost(Stream s, byte[] buffer)
        {
            var total = 0;
            while (total < buffer.Length)
            {
                var n = s.Read(buffer, total, buffer.Length - total);
                if (n == 0) break;
                total += n;
            }
            return total;
        }
    }

    /// <summary>Puts already-read bytes back in front of a non-seekable stream.</summary>
    internal sealed class PrefixedStream : Stream
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
                var n = System.Math.Min(count, _count - _pos);
                System.Array.Copy(_prefix, _pos, buffer, offset, n);
                _pos += n;
                return n;
            }
            return _inner.Read(buffer, offset, count);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new System.NotSupportedException();
        public override long Position { get => throw new System.NotSupportedException(); set => throw new System.NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new System.NotSupportedException();
        public override void SetLength(long value) => throw new System.NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new System.NotSupportedException();
        protected override void Dispose(bool disposing) { if (disposing) _inner.Dispose(); base.Dispose(disposing); }
    }
}
