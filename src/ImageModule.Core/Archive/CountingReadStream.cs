using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Archive
{
    /// <summary>Passes reads through and reports the running byte count (for progress on the raw, possibly compressed, file).</summary>
    internal sealed class CountingReadStream : ImageModule.Content.ReadOnlyStream
    {
        private readonly Stream _inner;
        private readonly Action<long> _report;
        private long _count;
        private long _lastReport;

        public CountingReadStream(Stream inner, Action<long> report) { _inner = inner; _report = report; }

        public override int Read(byte[] buffer, int offset, int count) => Account(_inner.Read(buffer, offset, count));

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            Account(await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false));

        private int Account(int n)
        {
            _count += n;
            if (_count - _lastReport >= 1 << 20) { _lastReport = _count; _report(_count); }
            return n;
        }

        public override long Length => _inner.Length;
        public override long Position { get => _count; set => throw new NotSupportedException(); }

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
