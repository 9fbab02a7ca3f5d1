using System;
using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;

namespace ImageModule.Registry
{
    /// <summary>
    /// A blob download that survives a dropped connection: when the body breaks off before the expected size, the
    /// rest is asked for again with an HTTP Range request from the byte reached (a server that ignores Range sends the
    /// whole blob and the bytes already read are skipped). The caller verifies the digest over the joined bytes.
    /// </summary>
    internal sealed class ResumingStream : ReadOnlyStream
    {
        public const int MaxResumes = 5;
        private readonly Func<long, CancellationToken, Task<(HttpResponseMessage Response, Stream Body, bool Partial)>> _open;
        private readonly long _length;
        private readonly TimeSpan _baseDelay;
        private HttpResponseMessage? _response;
        private Stream? _body;
        private long _position;
        private int _resumes;

        public ResumingStream(HttpResponseMessage response, Stream body, long length,
            Func<long, CancellationToken, Task<(HttpResponseMessage, Stream, bool)>> open, TimeSpan? baseDelay = null)
        {
            _response = response;
            _body = body;
            _length = length;
            _open = open;
            _baseDelay = baseDelay ?? TimeSpan.FromMilliseconds(500);
        }

        public int Resumes => _resumes;

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            while (true)
            {
                int n;
                try
                {
                    n = _body is null ? 0 : await _body.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when ((e is IOException || e is HttpRequestException) && !cancellationToken.IsCancellationRequested && _resumes < MaxResumes)
                {
                    n = -1;
                }
                if (n > 0)
                {
                    _position += n;
                    return n;
                }
                // A clean end at the expected size (or beyond it: the verifier reports that) is the end.
                if (n == 0 && (_position >= _length || _length < 0)) return 0;
                if (_resumes >= MaxResumes) throw new IOException($"The download broke off at byte {_position} of {_length} and did not resume after {MaxResumes} attempts.");
                await ResumeAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private async Task ResumeAsync(CancellationToken cancellationToken)
        {
            Release();
            _resumes++;
            await Task.Delay(TimeSpan.FromTicks(_baseDelay.Ticks * _resumes), cancellationToken).ConfigureAwait(false);
            try
            {
                var (response, body, partial) = await _open(_position, cancellationToken).ConfigureAwait(false);
                _response = response;
                _body = body;
                if (!partial) await SkipAsync(body, _position, cancellationToken).ConfigureAwait(false);
            }
            catch (ImageModuleException e) when (e.Kind == ErrorKind.ConnectionError && _resumes < MaxResumes)
            {
                // Still unreachable: the next read tries again after a longer pause.
            }
        }

        private static async Task SkipAsync(Stream body, long count, CancellationToken cancellationToken)
        {
            var scratch = new byte[81920];
            while (count > 0)
            {
                var n = await body.ReadAsync(scratch, 0, (int)Math.Min(scratch.Length, count), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new IOException("The registry sent less than it had before while resuming a download.");
                count -= n;
            }
        }

        private void Release()
        {
            _body?.Dispose();
            _response?.Dispose();
            _body = null;
            _response = null;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) Release();
            base.Dispose(disposing);
        }
    }
}
