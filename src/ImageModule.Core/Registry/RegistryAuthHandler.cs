using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>
    /// All registry authentication in one place (distribution's token spec): on 401, answer the WWW-Authenticate
    /// challenge — Basic with the credential, or Bearer by fetching a token for the challenged scope from its realm —
    /// cache the header per scope, and resend once. Requests whose body cannot be replayed are never resent; callers
    /// make a body-less request (HEAD, POST of an upload) first so the token is cached before a stream is sent.
    /// </summary>
    public sealed class RegistryAuthHandler : DelegatingHandler
    {
        private readonly RegistryCredential? _credential;
        private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _byScope = new();
        private AuthenticationHeaderValue? _current;

        public RegistryAuthHandler(RegistryCredential? credential, HttpMessageHandler inner) : base(inner)
        {
            _credential = credential;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (_current != null && request.Headers.Authorization is null) request.Headers.Authorization = _current;
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            if (challenge is null || !Replayable(request)) return response;
            var header = await AnswerAsync(challenge, cancellationToken).ConfigureAwait(false);
            if (header is null) return response;
            if (request.Headers.Authorization != null && request.Headers.Authorization.ToString() == header.ToString()) return response;
            _current = header;
            response.Dispose();
            var retry = Clone(request);
            retry.Headers.Authorization = header;
            return await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
        }

        private static bool Replayable(HttpRequestMessage request) => request.Content is null || request.Content is ByteArrayContent;

        private static HttpRequestMessage Clone(HttpRequestMessage request)
        {
            var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
            foreach (var h in request.Headers.Where(h => h.Key != "Authorization")) clone.Headers.TryAddWithoutValidation(h.Key, h.Value);
            return clone;
        }

        private async Task<AuthenticationHeaderValue?> AnswerAsync(AuthenticationHeaderValue challenge, CancellationToken cancellationToken)
        {
            if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
            {
                return _credential is null ? null : Basic(_credential);
            }
            if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) return null;
            var parameters = ParseParameters(challenge.Parameter ?? "");
            if (!parameters.TryGetValue("realm", out var realm)) return null;
            parameters.TryGetValue("service", out var service);
            parameters.TryGetValue("scope", out var scope);
            var key = service + "|" + scope;
            if (_byScope.TryGetValue(key, out var cached) && _current?.ToString() != cached.ToString()) return cached;

            var query = new List<string>();
            if (!string.IsNullOrEmpty(service)) query.Add("service=" + Uri.EscapeDataString(service));
            if (!string.IsNullOrEmpty(scope)) foreach (var s in scope!.Split(' ')) query.Add("scope=" + Uri.EscapeDataString(s));
            if (_credential != null) query.Add("account=" + Uri.EscapeDataString(_credential.UserName));
            var uri = realm + (realm.Contains("?") ? "&" : "?") + string.Join("&", query);
            using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, uri);
            if (_credential != null) tokenRequest.Headers.Authorization = Basic(_credential);
            using var tokenResponse = await base.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
            if (tokenResponse.StatusCode == HttpStatusCode.Unauthorized || tokenResponse.StatusCode == HttpStatusCode.Forbidden)
                throw new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError,
                    $"The registry's token service ({new Uri(realm).Host}) refused {(_credential is null ? "anonymous access" : "the credentials for user '" + _credential.UserName + "'")}.", realm);
            if (!tokenResponse.IsSuccessStatusCode) return null;
            var json = await tokenResponse.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            using var doc = JsonDocument.Parse(json);
            var token = doc.RootElement.TryGetProperty("token", out var t) ? t.GetString()
                : doc.RootElement.TryGetProperty("access_token", out var a) ? a.GetString() : null;
            if (string.IsNullOrEmpty(token)) return null;
            var header = new AuthenticationHeaderValue("Bearer", token);
            _byScope[key] = header;
            return header;
        }

        private static AuthenticationHeaderValue Basic(RegistryCredential c) =>
            new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(c.UserName + ":" + c.Password)));

        /// <summary>Parses realm="…",service="…",scope="…" (quoted values may contain commas).</summary>
        internal static Dictionary<string, string> ParseParameters(string text)
        {
            var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && (text[i] == ',' || text[i] == ' ')) i++;
                var eq = text.IndexOf('=', i);
                if (eq < 0) break;
                var name = text.Substring(i, eq - i).Trim();
                i = eq + 1;
                string value;
                if (i < text.Length && text[i] == '"')
                {
                    var end = text.IndexOf('"', i + 1);
                    if (end < 0) end = text.Length;
                    value = text.Substring(i + 1, end - i - 1);
                    i = end + 1;
                }
                else
                {
                    var end = text.IndexOf(',', i);
                    if (end < 0) end = text.Length;
                    value = text.Substring(i, end - i).Trim();
                    i = end;
                }
                result[name] = value;
            }
            return result;
        }
    }
}
