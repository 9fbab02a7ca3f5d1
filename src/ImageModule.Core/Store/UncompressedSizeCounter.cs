using System;
using System.Buffers;
using System.IO;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Content;

namespace ImageModule.Store
{
    /// <summary>
    /// Counts the decompressed length of a compressed blob while it is being written, on another thread
    /// (<see cref="BackgroundConsumer{T}"/>): the store learns a layer's uncompressed size in the same pass that stores it,
    /// instead of reading the blob back and decompressing it afterwards. If decompression fails the size is unknown
    /// (null) and listing measures it the old way; a layer that expands past <see cref="ExpansionLimit"/> is recorded as
    /// <see cref="ExpansionLimit.Unknown"/> (the count stops there).
    /// </summary>
    internal sealed class UncompressedSizeCounter : IDisposable
    {
        private readonly BackgroundConsumer<long?> _consumer;

        private UncompressedSizeCounter(ArchiveCompression compression) => _consumer = new BackgroundConsumer<long?>(input => Count(input, compression));

        /// <summary>A counter for the compression the first bytes show, or null if they show none (or one layers cannot carry).</summary>
        public static UncompressedSizeCounter? ForHead(byte[] head, int count)
        {
            var compression = Decompression.Detect(head, count);
            return compression == ArchiveCompression.Gzip || compression == ArchiveCompression.Zstd ? new UncompressedSizeCounter(compression) : null;
        }

        public void Add(byte[] buffer, int offset, int count) => _consumer.Add(buffer, offset, count);

        /// <summary>Ends the input and returns the decompressed length, or null if the content did not decompress.</summary>
        public Task<long?> CompleteAsync() => _consumer.CompleteAsync();

        private static long? Count(Stream input, ArchiveCompression compression)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
            try
            {
                var compressed = new Archive.CountingReadStream(input, _ => { });
                using var decompressed = Decompression.Wrap(compressed, compression);
                long total = 0;
                int n;
                while ((n = decompressed.Read(buffer, 0, buffer.Length)) > 0)
                {
                    total += n;
                    if (ExpansionLimit.Exceeded(compressed.Position, total)) return ExpansionLimit.Unknown;
                }
                return total;
            }
            catch (Exception e) when (e is InvalidDataException || e is IOException || e is ArgumentException || e is InvalidOperationException
                                      || e is NotSupportedException || e is IndexOutOfRangeException)
            {
                return null;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        public void Dispose() => _consumer.Dispose();
    }
}
