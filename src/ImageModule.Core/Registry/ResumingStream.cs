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
    /// Only attempts that brought no byte count against the limit: a flaky line that cuts every response still
    /// finishes, while a server that gives nothing is given up on. A connection that breaks after the expected size
    /// ends the stream (the digest check decides) rather than asking for bytes past the end.
    /// </summary>
    internal sealed class ResumingStream : ReadOnlyStream
    {
        public const int MaxResumes = 5;
        /// <summary>A bound on all resumes, progress or not: each must bring a byte, but a byte per connection is abuse.</summary>
        public const int MaxTotalResumes = 1000;
        /// <summary>What a connection must bring to count as progress (and earn a fresh budget of resumes).</summary>
        public const long MinProgress = 64 << 10;
        private readonly Func<long, CancellationToken, Task<(HttpResponseMessage Response, Stream Body, bool Partial)>> _open;
        private readonly long _length;
        private readonly TimeSpan _baseDelay;
        private HttpResponseMessage? _response;
        private Stream? _body;
        private long _position;
        private int _resumes;
        private int _totalResumes;
        private long _resumedAt;
        private Exception? _lastFailure;
        private readonly string _source;

        public ResumingStream(HttpResponseMessage response, Stream body, long length,
            Func<long, CancellationToken, Task<(HttpResponseMessage, Stream, bool)>> open, TimeSpan? baseDelay = null, string source = "the registry", long start = 0)
        {
            _position = start;
            _resumedAt = start;
            _source = source;
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
                catch (Exception e) when ((e is IOException || e is HttpRequestException) && !cancellationToken.IsCancellationRequested)
                {
                    _lastFailure = e;
                    n = -1;
                }
                if (n > 0)
                {
                    _position += n;
                    return n;
                }
                // A clean end at the expected size (or beyond it: the verifier reports that) is the end; so is a
                // connection that broke once every expected byte was in (a Content-Length longer than the blob).
                if (_position >= _length && _length >= 0) return 0;
                if (n == 0 && _length < 0) return 0;
                if (_position - _resumedAt >= MinProgress) _resumes = 0; // the last connection made progress: a fresh budget
                if (_resumes >= MaxResumes || _totalResumes >= MaxTotalResumes) throw GiveUp();
                await ResumeAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        private ImageModuleException GiveUp()
        {
            if (_lastFailure is RegistryStalledException stalled) return stalled.ToTimeout();
            if (_lastFailure is ImageModuleException known) return known;
            return new ImageModuleException("RegistryConnectionLost", ErrorKind.ConnectionError,
                $"The download from {_source} broke off at byte {_position} of {_length} and did not resume after {_resumes} attempts{(_lastFailure != null ? ": " + (_lastFailure.InnerException?.Message ?? _lastFailure.Message) : "")}.", _source, _lastFailure);
        }

        private async Task ResumeAsync(CancellationToken cancellationToken)
        {
            Release();
            _resumes++;
            _totalResumes++;
            _resumedAt = _position;
            Narrator.Say($"The download from {_source} broke off at byte {_position} of {_length}{(_lastFailure != null ? $" ({_lastFailure.Message})" : "")}; resuming from there (attempt {_resumes} of {MaxResumes}).");
            await Task.Delay(TimeSpan.FromTicks(_baseDelay.Ticks * _resumes), cancellationToken).ConfigureAwait(false);
            try
            {
                var (response, body, partial) = await _open(_position, cancellationToken).ConfigureAwait(false);
                _response = response;
                _body = body;
                if (!partial) await SkipAsync(body, _position, cancellationToken).ConfigureAwait(false);
            }
            catch (ImageModuleException e) when ((e.Kind == ErrorKind.ConnectionError || e.Kind == ErrorKind.OperationTimeout) && _resumes < MaxResumes)
            {
                // Still unreachable: the next read tries again after a longer pause.
                _lastFailure = e;
                Release();
            }
            catch (Exception e) when ((e is IOException || e is HttpRequestException) && _resumes < MaxResumes && !cancellationToken.IsCancellationRequested)
            {
                _lastFailure = e;
                Release();
            }
        }

        internal static async Task SkipAsync(Stream body, long count, CancellationToken cancellationToken)
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
