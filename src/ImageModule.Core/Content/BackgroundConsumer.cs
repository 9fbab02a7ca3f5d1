using System;
using System.Buffers;
using System.Collections.Concurrent;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Content
{
    /// <summary>
    /// Runs a reader of a stream (a hash, a decompressing counter) on another thread, fed with copies of the chunks a
    /// copy loop already has in hand, so that work overlaps the copy's own I/O instead of adding to it. The queue holds
    /// a few chunks at most: memory stays flat whatever the content size. If the reader stops early (it failed, or it
    /// needs no more input) later chunks are dropped and <see cref="Complete"/> reports how it ended.
    /// </summary>
    public sealed class BackgroundConsumer<T> : IDisposable
    {
        private const int MaxQueuedChunks = 4;
        private readonly BlockingCollection<(byte[] Buffer, int Count)> _chunks = new(MaxQueuedChunks);
        private readonly CancellationTokenSource _stopped = new();
        private readonly Task<T> _task;

        public BackgroundConsumer(Func<Stream, T> consume)
        {
            // A thread of its own: the reader blocks while it waits for chunks, and blocking pool threads would starve
            // the async I/O continuations that produce them.
            _task = Task.Factory.StartNew(() =>
            {
                try
                {
                    using var input = new ChunkStream(this);
                    return consume(input);
                }
                finally
                {
                    // Unblock the producer and drop whatever it queued after the reader stopped.
                    _stopped.Cancel();
                    while (_chunks.TryTake(out var left)) ArrayPool<byte>.Shared.Return(left.Buffer);
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        /// <summary>Hands a copy of the chunk to the reader (waits while the queue is full).</summary>
        public void Add(byte[] buffer, int offset, int count)
        {
            if (_stopped.IsCancellationRequested || count <= 0) return;
            var copy = ArrayPool<byte>.Shared.Rent(count);
            Buffer.BlockCopy(buffer, offset, copy, 0, count);
            try
            {
                _chunks.Add((copy, count), _stopped.Token);
            }
            catch (OperationCanceledException)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        /// <summary>Ends the input and returns what the reader returned (or throws what it threw).</summary>
        public Task<T> CompleteAsync()
        {
            if (!_chunks.IsAddingCompleted) _chunks.CompleteAdding();
            return _task;
        }

        public T Complete() => CompleteAsync().GetAwaiter().GetResult();

        private bool _disposed;

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            if (!_chunks.IsAddingCompleted) _chunks.CompleteAdding();
            try { _task.Wait(); } catch (AggregateException) { }
            _chunks.Dispose();
            _stopped.Dispose();
        }

        /// <summary>The queued chunks, in order, as the reader's input.</summary>
        private sealed class ChunkStream : ReadOnlyStream
        {
            private readonly BackgroundConsumer<T> _owner;
            private byte[]? _current;
            private int _count, _offset;

            public ChunkStream(BackgroundConsumer<T> owner) => _owner = owner;

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
