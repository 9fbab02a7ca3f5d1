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
using ImageModule.Content;

namespace ImageModule.Registry
{
    /// <summary>
    /// All registry authentication in one place (distribution's token spec): on 401, answer the WWW-Authenticate
    /// challenge — Basic with the credential, or Bearer by fetching a token for the challenged scope from its realm —
    /// cache the header per realm and scope, and resend once. Requests whose body cannot be replayed are never resent;
    /// callers make a body-less request (HEAD, POST of an upload) first so the token is cached before a stream is sent.
    /// The credential rule: credentials (Basic, the password sent to a token service, bearer tokens) go only to the
    /// registry host the user named and to the token realm that host's own challenge named. A 401 from any other
    /// origin (a redirect target) is refused as RegistryUnauthorized naming it, never answered.
    /// </summary>
    public sealed class RegistryAuthHandler : DelegatingHandler
    {
        /// <summary>A token response is a few KiB; anything far larger is not one.</summary>
        public const int MaxTokenResponseBytes = 1 << 20;
        private readonly string _host;
        private readonly string _registry;
        private readonly RegistryCredential? _credential;
        private readonly ConcurrentDictionary<string, AuthenticationHeaderValue> _byScope = new();
        private AuthenticationHeaderValue? _current;

        /// <param name="host">The registry's host[:port] as requests address it: the only origin credentials go to.</param>
        /// <param name="registry">The registry as the user names it (docker.io), for messages.</param>
        public RegistryAuthHandler(string host, string registry, RegistryCredential? credential, HttpMessageHandler inner) : base(inner)
        {
            _host = host;
            _registry = registry;
            _credential = credential;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var ours = IsRegistry(request.RequestUri);
            if (!ours) request.Headers.Authorization = null;
            else if (_current != null && request.Headers.Authorization is null) request.Headers.Authorization = _current;
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
            var answeredBy = response.RequestMessage?.RequestUri ?? request.RequestUri;
            if (!ours || !IsRegistry(answeredBy))
            {
                response.Dispose();
                throw new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError,
                    $"{answeredBy?.Authority} asked for credentials{(ours ? $" after {_registry} redirected {request.RequestUri!.AbsolutePath} to it" : "")}; credentials go only to {_registry} and its token service, so the request was refused.",
                    answeredBy?.Authority);
            }
            var challenge = response.Headers.WwwAuthenticate.FirstOrDefault();
            if (challenge is null || !Replayable(request)) return response;
            var header = await AnswerAsync(challenge, answeredBy!, cancellationToken).ConfigureAwait(false);
            if (header is null || (request.Headers.Authorization != null && request.Headers.Authorization.ToString() == header.ToString()))
            {
                response.Dispose();
                throw Refused(challenge);
            }
            _current = header;
            response.Dispose();
            var retry = Clone(request);
            retry.Headers.Authorization = header;
            var again = await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
            if (again.StatusCode != HttpStatusCode.Unauthorized) return again;
            var second = again.RequestMessage?.RequestUri ?? retry.RequestUri;
            again.Dispose();
            if (!IsRegistry(second))
                throw new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError,
                    $"{second?.Authority} asked for credentials after {_registry} redirected {request.RequestUri!.AbsolutePath} to it; credentials go only to {_registry} and its token service, so the request was refused.", second?.Authority);
            throw Refused(challenge);
        }

        private bool IsRegistry(Uri? uri) => uri != null && string.Equals(uri.Authority, _host, StringComparison.OrdinalIgnoreCase);

        /// <summary>The registry still says 401: no credential was given, or the one given is not accepted.</summary>
        private ImageModuleException Refused(AuthenticationHeaderValue challenge)
        {
            var scope = ParseParameters(challenge.Parameter ?? "").TryGetValue("scope", out var s) ? $" ({s})" : "";
            return _credential is null
                ? new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError,
                    $"{_registry} requires a login{scope} (or the repository does not exist), and no credential was given or stored for it. Give -Credential, or log in once with Connect-ImageRegistry {_registry}.", _registry)
                : new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError,
                    $"{_registry} did not accept the credential of user '{_credential.UserName}'{scope}: the password or token is wrong, or the user may not do this. Give the right one with -Credential, or log in again with Connect-ImageRegistry {_registry}.", _registry);
        }

        private static bool Replayable(HttpRequestMessage request) => request.Content is null || request.Content is ByteArrayContent;

        private static HttpRequestMessage Clone(HttpRequestMessage request)
        {
            var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Content = request.Content, Version = request.Version };
            foreach (var h in request.Headers.Where(h => h.Key != "Authorization")) clone.Headers.TryAddWithoutValidation(h.Key, h.Value);
            return clone;
        }

        private async Task<AuthenticationHeaderValue?> AnswerAsync(AuthenticationHeaderValue challenge, Uri challenger, CancellationToken cancellationToken)
        {
            if (string.Equals(challenge.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
            {
                return _credential is null ? null : Basic(_credential);
            }
            if (!string.Equals(challenge.Scheme, "Bearer", StringComparison.OrdinalIgnoreCase)) return null;
            var parameters = ParseParameters(challenge.Parameter ?? "");
            if (!parameters.TryGetValue("realm", out var realm)) return null;
            if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || (realmUri.Scheme != Uri.UriSchemeHttps && realmUri.Scheme != Uri.UriSchemeHttp))
                throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{_registry} named a token service that is not an http(s) address.", _registry);
            // A password never travels in clear text because a registry reached over HTTPS said so.
            if (realmUri.Scheme == Uri.UriSchemeHttp && challenger.Scheme == Uri.UriSchemeHttps && _credential != null)
                throw new ImageModuleException("RegistryInsecureRedirect", ErrorKind.SecurityError, $"{_registry} (HTTPS) named a token service over plain HTTP ({realmUri.Authority}); the credential was not sent.", _registry);
            parameters.TryGetValue("service", out var service);
            parameters.TryGetValue("scope", out var scope);
            var key = realm + "|" + service + "|" + scope;
            if (_byScope.TryGetValue(key, out var cached) && _current?.ToString() != cached.ToString()) return cached;

            var query = new List<string>();
            if (!string.IsNullOrEmpty(service)) query.Add("service=" + Uri.EscapeDataString(service));
            if (!string.IsNullOrEmpty(scope)) foreach (var s in scope!.Split(' ')) query.Add("scope=" + Uri.EscapeDataString(s));
            if (_credential != null) query.Add("account=" + Uri.EscapeDataString(_credential.UserName));
            var uri = realm + (realm.Contains("?") ? "&" : "?") + string.Join("&", query);
            using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, uri);
            if (_credential != null) tokenRequest.Headers.Authorization = Basic(_credential);
            Narrator.Say($"Asking the token service {realmUri.Authority} for access to {scope ?? "the registry"}{(_credential is null ? " (anonymous)" : $" as {_credential.UserName}")}.");
            using var tokenResponse = await base.SendAsync(tokenRequest, cancellationToken).ConfigureAwait(false);
            var tokenHost = tokenResponse.RequestMessage?.RequestUri?.Authority ?? realmUri.Authority;
            if (tokenResponse.StatusCode == HttpStatusCode.Unauthorized || tokenResponse.StatusCode == HttpStatusCode.Forbidden)
                throw new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError, _credential is null
                    ? $"The token service of {_registry} ({tokenHost}) refused anonymous access. Give -Credential, or log in once with Connect-ImageRegistry {_registry}."
                    : $"The token service of {_registry} ({tokenHost}) refused the credential of user '{_credential.UserName}': the password or token is wrong. Give the right one with -Credential, or log in again with Connect-ImageRegistry {_registry}.", realm);
            if (!tokenResponse.IsSuccessStatusCode)
                throw new ImageModuleException("RegistryError", ErrorKind.InvalidOperation, $"The token service of {_registry} ({tokenHost}) answered {(int)tokenResponse.StatusCode} {tokenResponse.ReasonPhrase}.", realm);
            var token = await ReadTokenAsync(tokenResponse, tokenHost, cancellationToken).ConfigureAwait(false);
            var header = new AuthenticationHeaderValue("Bearer", token);
            _byScope[key] = header;
            return header;
        }

        /// <summary>{"token": "…"} or {"access_token": "…"}, bounded; anything else is RegistryProtocolError.</summary>
        private async Task<string> ReadTokenAsync(HttpResponseMessage response, string tokenHost, CancellationToken cancellationToken)
        {
            byte[] json;
            try
            {
                json = await BoundedBody.ReadAsync(response, MaxTokenResponseBytes, $"the token from {tokenHost}", cancellationToken).ConfigureAwait(false);
            }
            catch (ImageModuleException e) when (e.ErrorId == "RegistryResponseTooLarge")
            {
                throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"The token service of {_registry} ({tokenHost}) answered with more than {MaxTokenResponseBytes} bytes; that is not a token.", tokenHost, e);
            }
            string? token = null;
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String) token = t.GetString();
                    if (string.IsNullOrEmpty(token) && doc.RootElement.TryGetProperty("access_token", out var a) && a.ValueKind == JsonValueKind.String) token = a.GetString();
                }
            }
            catch (JsonException) { }
            // A token goes into a header: one that could not be sent as one is as bad as none.
            if (string.IsNullOrEmpty(token) || token!.Any(c => c <= ' ' || c > '~'))
                throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"The token service of {_registry} ({tokenHost}) answered with something that is not a token.", tokenHost);
            return token!;
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
