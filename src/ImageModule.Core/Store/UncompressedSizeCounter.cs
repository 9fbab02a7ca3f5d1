using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Archive;
using ImageModule.Content;

namespace ImageModule.Store
{
    /// <summary>
    /// Counts the decompressed length of a compressed blob while it is being written, on another thread, from copies
    /// of the chunks the writer already has in hand: the store learns a layer's uncompressed size in the same pass that
    /// stores it, instead of reading the blob back and decompressing it afterwards. The queue is bounded (a few chunks),
    /// so memory stays flat whatever the layer size; if decompression fails the size is simply unknown (null) and
    /// listing measures it the old way.
    /// </summary>
    internal sealed class UncompressedSizeCounter : IDisposable
    {
        private const int MaxQueuedChunks = 4;
        private readonly BlockingCollection<(byte[] Buffer, int Count)> _chunks = new(MaxQueuedChunks);
        private readonly CancellationTokenSource _failed = new();
        private readonly Task<long?> _task;

        private UncompressedSizeCounter(ArchiveCompression compression)
        {
            _task = Task.Run(() => Count(compression));
        }

        /// <summary>A counter for the compression the first bytes show, or null if they show none (or one layers cannot carry).</summary>
        public static UncompressedSizeCounter? ForHead(byte[] head, int count)
        {
            var compression = Decompression.Detect(head, count);
            return compression == ArchiveCompression.Gzip || compression == ArchiveCompression.Zstd ? new UncompressedSizeCounter(compression) : null;
        }

        /// <summary>Hands a copy of the chunk to the counting thread (waits while the queue is full).</summary>
        public void Add(byte[] buffer, int offset, int count)
        {
            if (_failed.IsCancellationRequested || count <= 0) return;
            var copy = ArrayPool<byte>.Shared.Rent(count);
            Buffer.BlockCopy(buffer, offset, copy, 0, count);
            try
            {
                _chunks.Add((copy, count), _failed.Token);
            }
            catch (OperationCanceledException)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        /// <summary>Ends the input and returns the decompressed length, or null if the content did not decompress.</summary>
        public async Task<long?> CompleteAsync()
        {
            _chunks.CompleteAdding();
            return await _task.ConfigureAwait(false);
        }

        private long? Count(ArchiveCompression compression)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(1 << 17);
            try
            {
                using var decompressed = Decompression.Wrap(new ChunkStream(this), compression);
                long total = 0;
                int n;
                while ((n = decompressed.Read(buffer, 0, buffer.Length)) > 0) total += n;
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
                // Unblock the writer and drop whatever it queued after a failure (or trailing bytes after the end).
                _failed.Cancel();
                while (_chunks.TryTake(out var left)) ArrayPool<byte>.Shared.Return(left.Buffer);
            }
        }

        public void Dispose()
        {
            _chunks.CompleteAdding();
            try { _task.Wait(); } catch (AggregateException) { }
            _chunks.Dispose();
            _failed.Dispose();
        }

        /// <summary>The queued chunks, read in order, as the decompressor's input.</summary>
        private sealed class ChunkStream : ReadOnlyStream
        {
            private readonly UncompressedSizeCounter _owner;
            private byte[]? _current;
            private int _count, _offset;

            public ChunkStream(UncompressedSizeCounter owner) => _owner = owner;

            public override int Read(byte[] buffer, int offset, int count)
            {
                while (_current is null || _offset == _count)
                {
                    if (_current != null) { ArrayPool<byte>.Shared.Return(_current); _current = null; }
                    if (!_owner._chunks.TryTake(out var next, Timeout.Infinite)) return 0;
                    (_current, _count, _offset) = (next.Buffer, next.Count, 0);
                }
                var n = Math.Min(count, _count - _offset);
                Buffer.BlockCopy(_current, _offset, buffer, offset, n);
                _offset += n;
                return n;
            }

            protected override void Dispose(bool disposing)
            {
                if (_current != null) { ArrayPool<byte>.Shared.Return(_current); _current = null; }
                base.Dispose(disposing);
            }
        }
    }
}
