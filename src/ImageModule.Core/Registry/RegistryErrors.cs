using System;
using System.Net;
using System.Net.Http;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>Registry error responses as exceptions with stable ids and the registry's own message (never credentials).</summary>
    internal static class RegistryErrors
    {
        /// <summary>An error body is a few hundred bytes of JSON; more than this is not read.</summary>
        private const int MaxErrorBodyBytes = 64 << 10;

        /// <summary>A time limit of <see cref="RegistryTimeouts"/> ran out: which host, in which phase, after how long.</summary>
        public static ImageModuleException Timeout(string host, string phase, TimeSpan limit, Exception? inner = null) =>
            new("RegistryTimeout", ErrorKind.OperationTimeout,
                $"{host} did not answer in time ({phase}: nothing for {RegistryTimeouts.Format(limit)}). Set a longer timeout with -TimeoutSeconds or Set-ImageRegistrySetting if the registry is just slow.", host, inner);

        public static async Task<Exception> FromResponseAsync(HttpResponseMessage response, string registry, string target)
        {
            string? code = null, message = null;
            try
            {
                var body = await BoundedBody.ReadAsync(response, MaxErrorBodyBytes, "an error response", CancellationToken.None).ConfigureAwait(false);
                if (body.Length > 0)
                {
                    using var doc = JsonDocument.Parse(body);
                    if (doc.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
                    {
                        var first = errors[0];
                        code = first.TryGetProperty("code", out var c) ? c.GetString() : null;
                        message = first.TryGetProperty("message", out var m) ? m.GetString() : null;
                    }
                }
            }
            // The status alone is the error when its body is not the JSON error document (or does not arrive).
            catch (Exception e) when (e is JsonException || e is InvalidOperationException || e is ImageModuleException || e is System.IO.IOException || e is HttpRequestException) { }
            var detail = $"{registry}: {(int)response.StatusCode} {code ?? response.ReasonPhrase}{(message != null ? " — " + message : "")}";
            switch (code)
            {
                case "MANIFEST_UNKNOWN":
                case "NAME_UNKNOWN":
                case "BLOB_UNKNOWN":
                    return new ImageNotFoundException(target, $"{target} was not found on {detail}");
                case "DIGEST_INVALID":
                    // The registry checked an upload against its digest (pushes rely on that) and it did not match.
                    return new ImageModuleException("DigestMismatch", ErrorKind.InvalidData, $"The content of {target} does not match its digest: {detail}", target);
                case "DENIED":
                    return new ImageModuleException("RegistryDenied", ErrorKind.PermissionDenied, $"Access denied by {detail}", target);
                case "UNSUPPORTED":
                    return new ImageModuleException("RegistryUnsupported", ErrorKind.InvalidOperation, $"Not supported by {detail}", target);
            }
            return response.StatusCode switch
            {
                HttpStatusCode.NotFound => new ImageNotFoundException(target, $"{target} was not found on {detail}"),
                HttpStatusCode.Unauthorized => new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError, $"Authentication failed for {detail}", target),
                HttpStatusCode.Forbidden => new ImageModuleException("RegistryDenied", ErrorKind.PermissionDenied, $"Access denied by {detail}", target),
                HttpStatusCode.MethodNotAllowed => new ImageModuleException("RegistryUnsupported", ErrorKind.InvalidOperation, $"Not supported by {detail}", target),
                (HttpStatusCode)429 => new ImageModuleException("TooManyRequests", ErrorKind.QuotaExceeded, $"Rate limited by {detail}", target),
                _ => new ImageModuleException("RegistryError", ErrorKind.InvalidOperation, $"Registry request failed: {detail}", target),
            };
        }
    }
}
