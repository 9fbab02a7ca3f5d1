using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;

namespace ImageModule.Registry
{
    /// <summary>
    /// A response body that may not go silent: each read must bring a byte within the idle timeout, else it fails
    /// with <see cref="RegistryStalledException"/> (the read is cancelled, which aborts the connection). A trickle
    /// counts as silence too (a slow-loris server sending a byte a second would otherwise never time out): the body
    /// must bring <see cref="MinBytesPerWindow"/> bytes per idle timeout spent waiting in reads.
    /// </summary>
    internal sealed class IdleTimeoutStream : ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly string _host;
        private readonly TimeSpan _idle;
        public const int MinBytesPerWindow = 1024;
        private long _windowBytes;
        private TimeSpan _windowWait;

        public IdleTimeoutStream(Stream inner, string host, TimeSpan idle)
        {
            _inner = inner;
            _host = host;
            _idle = idle;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            idle.CancelAfter(_idle);
            var started = System.Diagnostics.Stopwatch.StartNew();
            int n;
            try
            {
                n = await _inner.ReadAsync(buffer, offset, count, idle.Token).ConfigureAwait(false);
            }
            // The read was cancelled by our timer, not by the caller (the inner stream may say so as an IOException).
            catch (Exception e) when (idle.IsCancellationRequested && !cancellationToken.IsCancellationRequested && (e is OperationCanceledException || e is IOException))
            {
                throw new RegistryStalledException(_host, _idle);
            }
            // Only time spent waiting here counts: a consumer that is slow to ask for more is not the server's fault.
            _windowWait += started.Elapsed;
            _windowBytes += n;
            if (_windowBytes >= MinBytesPerWindow || n == 0)
            {
                _windowBytes = 0;
                _windowWait = TimeSpan.Zero;
            }
            else if (_windowWait >= _idle)
            {
                throw new RegistryStalledException(_host, _idle);
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
