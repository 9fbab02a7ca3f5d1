using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Content
{
    /// <summary>One stream, then another: a resumed download is the bytes already on disk followed by the rest.</summary>
    public sealed class ConcatenatedStream : ReadOnlyStream
    {
        private readonly Stream _first;
        private readonly Stream _second;
        private bool _firstDone;

        public ConcatenatedStream(Stream first, Stream second)
        {
            _first = first;
            _second = second;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            if (!_firstDone)
            {
                var n = await _first.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                if (n > 0) return n;
                _firstDone = true;
            }
            return await _second.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _first.Dispose();
                _second.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
