using System;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>
    /// The one place for time limits on registry traffic: the response headers must arrive within the response
    /// timeout (the connect timeout is the transport's, and reported here as its own phase), and the body is wrapped so
    /// that a read waiting longer than the idle timeout fails (<see cref="IdleTimeoutStream"/>). Giving up is
    /// RegistryTimeout naming the host and the phase; a caller's own cancellation stays a cancellation.
    /// </summary>
    public sealed class TimeoutHandler : DelegatingHandler
    {
        private readonly RegistryTimeouts _timeouts;

        public TimeoutHandler(RegistryTimeouts timeouts, HttpMessageHandler inner) : base(inner) => _timeouts = timeouts;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var host = request.RequestUri?.Authority ?? "";
            HttpResponseMessage response;
            using (var headers = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                headers.CancelAfter(_timeouts.Response);
                try
                {
                    response = await base.SendAsync(request, headers.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && (e is OperationCanceledException || (headers.IsCancellationRequested && (e is HttpRequestException || e is IOException))))
                {
                    // Our timer cancelled the wait for headers, or the transport's connect timeout gave up first.
                    throw headers.IsCancellationRequested
                        ? RegistryErrors.Timeout(host, "waiting for the response headers", _timeouts.Response, e)
                        : RegistryErrors.Timeout(host, "connecting", _timeouts.Connect, e);
                }
            }
            if (response.Content != null) response.Content = new IdleTimeoutContent(response.Content, host, _timeouts.Idle);
            return response;
        }

        /// <summary>A response body whose reads are bounded by the idle timeout; headers are those of the original.</summary>
        private sealed class IdleTimeoutContent : HttpContent
        {
            private readonly HttpContent _inner;
            private readonly string _host;
            private readonly TimeSpan _idle;

            public IdleTimeoutContent(HttpContent inner, string host, TimeSpan idle)
            {
                _inner = inner;
                _host = host;
                _idle = idle;
                foreach (var header in inner.Headers) Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            protected override async Task<Stream> CreateContentReadStreamAsync() =>
                new IdleTimeoutStream(await _inner.ReadAsStreamAsync().ConfigureAwait(false), _host, _idle);

            protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
            {
                using var body = await CreateContentReadStreamAsync().ConfigureAwait(false);
                await body.CopyToAsync(stream, 81920).ConfigureAwait(false);
            }

            protected override bool TryComputeLength(out long length)
            {
                length = 0;
                return false;
            }

            protected override void Dispose(bool disposing)
            {
                if (disposing) _inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
