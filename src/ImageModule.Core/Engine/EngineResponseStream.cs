using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;

namespace ImageModule.Engine
{
    /// <summary>
    /// A streamed engine response (GET /images/get) readable both ways. Docker.DotNet's chunked response stream
    /// implements only ReadAsync, while the archive reader reads synchronously; the cmdlet bridge already runs core
    /// work on a pool thread, so blocking on the async read there is safe.
    /// </summary>
    internal sealed class EngineResponseStream : ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly CancellationToken _cancellationToken;

        public EngineResponseStream(Stream inner, CancellationToken cancellationToken)
        {
            _inner = inner;
            _cancellationToken = cancellationToken;
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            _inner.ReadAsync(buffer, offset, count, _cancellationToken).GetAwaiter().GetResult();

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.ReadAsync(buffer, offset, count, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
