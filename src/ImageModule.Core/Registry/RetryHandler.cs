using System;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;

namespace ImageModule.Registry
{
    /// <summary>
    /// Retries requests a registry or the network failed for a passing reason — 429, 500, 502, 503, 504, a reset
    /// connection — with exponential backoff, honouring Retry-After (capped). Only requests whose body can be sent
    /// again are retried; a streamed upload fails at once and its caller decides.
    /// </summary>
    public sealed class RetryHandler : DelegatingHandler
    {
        public const int MaxAttempts = 4;
        private static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);
        private readonly TimeSpan _baseDelay;

        public RetryHandler(HttpMessageHandler inner, TimeSpan? baseDelay = null) : base(inner)
        {
            _baseDelay = baseDelay ?? TimeSpan.FromMilliseconds(500);
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var replayable = request.Content is null || request.Content is ByteArrayContent;
            for (var attempt = 1; ; attempt++)
            {
                HttpResponseMessage response;
                try
                {
                    response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
                }
                catch (HttpRequestException e) when (replayable && attempt < MaxAttempts && !cancellationToken.IsCancellationRequested)
                {
                    Narrator.Say($"{request.Method} {request.RequestUri?.GetLeftPart(UriPartial.Path)} failed ({e.InnerException?.Message ?? e.Message}); retrying in {RegistryTimeouts.Format(Backoff(attempt))} (attempt {attempt + 1} of {MaxAttempts}).");
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!replayable || attempt >= MaxAttempts || !IsTransient(response.StatusCode)) return response;
                var delay = RetryAfter(response) ?? Backoff(attempt);
                Narrator.Say($"{(response.RequestMessage?.RequestUri ?? request.RequestUri)?.Authority} answered {(int)response.StatusCode} to {request.Method} {request.RequestUri?.AbsolutePath}; retrying in {RegistryTimeouts.Format(delay)} (attempt {attempt + 1} of {MaxAttempts}).");
                response.Dispose();
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }
        }

        private static bool IsTransient(HttpStatusCode status) =>
            (int)status == 429 || status == HttpStatusCode.InternalServerError || status == HttpStatusCode.BadGateway || status == HttpStatusCode.ServiceUnavailable || status == HttpStatusCode.GatewayTimeout;

        private TimeSpan Backoff(int attempt) => TimeSpan.FromTicks(_baseDelay.Ticks << (attempt - 1));

        private static TimeSpan? RetryAfter(HttpResponseMessage response)
        {
            var header = response.Headers.RetryAfter;
            if (header is null) return null;
            var delay = header.Delta ?? (header.Date.HasValue ? header.Date.Value - DateTimeOffset.UtcNow : (TimeSpan?)null);
            if (delay is null) return null;
            if (delay < TimeSpan.Zero) return TimeSpan.Zero;
            return delay > MaxDelay ? MaxDelay : delay;
        }
    }
}
