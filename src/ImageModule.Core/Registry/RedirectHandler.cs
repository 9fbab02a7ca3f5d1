using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;

namespace ImageModule.Registry
{
    /// <summary>
    /// Follows redirects itself (the transport's automatic redirects are off), so the rules live in one place:
    /// at most <see cref="MaxHops"/> hops, a Location already visited is a loop and an error, HTTPS never redirects
    /// to plain HTTP, and a request that leaves its origin (scheme, host and port) loses its Authorization header.
    /// The response's RequestMessage is the last hop, so the auth handler can tell who answered.
    /// </summary>
    public sealed class RedirectHandler : DelegatingHandler
    {
        public const int MaxHops = 10;

        public RedirectHandler(HttpMessageHandler inner) : base(inner) { }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var visited = new HashSet<string>(StringComparer.Ordinal);
            var current = request;
            for (var hop = 0; ; hop++)
            {
                visited.Add(current.RequestUri!.AbsoluteUri);
                var response = await base.SendAsync(current, cancellationToken).ConfigureAwait(false);
                response.RequestMessage ??= current;
                var location = response.Headers.Location;
                if (!IsRedirect(response.StatusCode) || location is null) return response;
                var from = response.RequestMessage.RequestUri ?? current.RequestUri!;
                var target = location.IsAbsoluteUri ? location : new Uri(from, location);
                var method = response.StatusCode == HttpStatusCode.SeeOther && current.Method != HttpMethod.Head ? HttpMethod.Get : current.Method;
                // Uploads and other writes are only re-sent when their body can be (307/308 keep the method).
                if (method != HttpMethod.Get && method != HttpMethod.Head && !(current.Content is null || current.Content is ByteArrayContent)) return response;
                var host = from.Authority;
                response.Dispose();
                if (hop + 1 >= MaxHops)
                    throw new ImageModuleException("RegistryRedirectLoop", ErrorKind.InvalidData, $"{host} redirected {request.RequestUri!.AbsolutePath} more than {MaxHops} times.", request.RequestUri!.ToString());
                if (visited.Contains(target.AbsoluteUri))
                    throw new ImageModuleException("RegistryRedirectLoop", ErrorKind.InvalidData, $"{host} redirected {request.RequestUri!.AbsolutePath} in a loop (back to {target.GetLeftPart(UriPartial.Path)}).", request.RequestUri!.ToString());
                if (from.Scheme == Uri.UriSchemeHttps && target.Scheme != Uri.UriSchemeHttps)
                    throw new ImageModuleException("RegistryInsecureRedirect", ErrorKind.SecurityError, $"{host} redirected an HTTPS request to plain HTTP ({target.GetLeftPart(UriPartial.Authority)}); refused.", request.RequestUri!.ToString());
                if (target.Scheme != Uri.UriSchemeHttps && target.Scheme != Uri.UriSchemeHttp)
                    throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{host} redirected to a {target.Scheme}: address.", request.RequestUri!.ToString());
                Narrator.Say($"{host} redirected {current.Method} {from.AbsolutePath} to {target.GetLeftPart(UriPartial.Path)}.");
                current = Next(current, method, target, SameOrigin(from, target));
            }
        }

        private static bool IsRedirect(HttpStatusCode status) =>
            status == HttpStatusCode.MovedPermanently || status == HttpStatusCode.Found || status == HttpStatusCode.SeeOther
            || status == HttpStatusCode.TemporaryRedirect || (int)status == 308;

        /// <summary>Same scheme, host and port (RFC 6454). A plain-HTTP loopback registry counts by host and port.</summary>
        private static bool SameOrigin(Uri a, Uri b) =>
            string.Equals(a.Host, b.Host, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

        private static HttpRequestMessage Next(HttpRequestMessage previous, HttpMethod method, Uri target, bool sameOrigin)
        {
            var next = new HttpRequestMessage(method, target) { Version = previous.Version };
            if (method == previous.Method) next.Content = previous.Content;
            foreach (var header in previous.Headers)
            {
                // Credentials never follow a request to another origin (a CDN, or whoever the registry points at).
                if (!sameOrigin && (header.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Cookie", StringComparison.OrdinalIgnoreCase))) continue;
                if (header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
                next.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
            return next;
        }
    }
}
