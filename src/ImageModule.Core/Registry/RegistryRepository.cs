using System;
using System.Collections.Concurrent;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Registry
{
    /// <summary>
    /// One repository on a registry, through the OCI distribution API (spec.md): manifests and blobs by digest,
    /// tags, and monolithic uploads. Blob bodies are streamed, never buffered.
    /// </summary>
    public sealed class RegistryRepository : ITarget, IChecksPushedContent, IDisposable
    {
        private const long MaxManifestBytes = 4L << 20;
        private readonly HttpClient _http;
        private readonly bool _ownsClient;
        private readonly Uri _base;
        private readonly ConcurrentDictionary<Digest, byte[]> _manifests = new();

        public RegistryRepository(ImageReference reference, RegistryCredential? credential = null, HttpMessageHandler? transport = null)
        {
            Reference = reference;
            var handler = new RegistryAuthHandler(credential, transport ?? new HttpClientHandler { AllowAutoRedirect = true });
            _http = new HttpClient(handler) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _ownsClient = true;
            var scheme = IsLoopback(reference.RegistryHost) ? "http" : "https";
            _base = new Uri($"{scheme}://{reference.RegistryHost}/v2/{reference.Repository}/");
        }

        public ImageReference Reference { get; }

        /// <summary>Plain HTTP for loopback registries, as docker does; everything else is HTTPS.</summary>
        public static bool IsLoopback(string host)
        {
            var name = host;
            if (name.StartsWith("[", StringComparison.Ordinal)) name = name.Substring(1, Math.Max(0, name.IndexOf(']') - 1));
            else if (name.Count(c => c == ':') == 1) name = name.Substring(0, name.IndexOf(':'));
            if (name == "localhost") return true;
            return IPAddress.TryParse(name, out var ip) && IPAddress.IsLoopback(ip);
        }

        private static bool IsManifest(Descriptor d) => MediaTypes.IsManifest(d.MediaType) || MediaTypes.IsIndex(d.MediaType);

        private Uri Url(string relative) => new(_base, relative);

        /// <summary>Checks the registry speaks the API and accepts our credentials (GET /v2/, as docker login does).</summary>
        public async Task PingAsync(CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "/v2/"));
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.Registry).ConfigureAwait(false);
        }

        public async Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, Url((IsManifest(target) ? "manifests/" : "blobs/") + target.Digest));
            if (IsManifest(target)) AcceptManifests(request);
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound) return false;
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, target.Digest.ToString()).ConfigureAwait(false);
            return true;
        }

        public async Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken)
        {
            // A manifest just resolved is not fetched again: a re-pull of an unchanged image costs one request.
            if (_manifests.TryGetValue(target.Digest, out var known)) return new MemoryStream(known, writable: false);
            var request = new HttpRequestMessage(HttpMethod.Get, Url((IsManifest(target) ? "manifests/" : "blobs/") + target.Digest));
            if (IsManifest(target)) AcceptManifests(request);
            var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                using (response) throw await ErrorAsync(response, target.Digest.ToString()).ConfigureAwait(false);
            }
            var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            return new VerifyingStream(new ResponseStream(response, body), target);
        }

        public async Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            if (IsManifest(expected))
            {
                var bytes = await ReadBoundedAsync(content, MaxManifestBytes, cancellationToken).ConfigureAwait(false);
                if (Digest.Compute(bytes) != expected.Digest) throw new DigestMismatchException(expected.Digest.ToString(), Digest.Compute(bytes).ToString());
                _manifests[expected.Digest] = bytes;
                await PutManifestAsync(expected, bytes, expected.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                return;
            }
            if (await ExistsAsync(expected, cancellationToken).ConfigureAwait(false)) return;

            // Start the upload without a body, so authentication happens before the stream is sent.
            using var start = new HttpRequestMessage(HttpMethod.Post, Url("blobs/uploads/"));
            using var started = await SendAsync(start, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (started.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(started, expected.Digest.ToString()).ConfigureAwait(false);
            var location = started.Headers.Location ?? throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, "The registry started an upload without a Location.", Reference.ToString());
            if (!location.IsAbsoluteUri) location = new Uri(_base, location);
            var put = new UriBuilder(location);
            put.Query = (string.IsNullOrEmpty(put.Query) ? "" : put.Query.TrimStart('?') + "&") + "digest=" + Uri.EscapeDataString(expected.Digest.ToString());
            using var upload = new HttpRequestMessage(HttpMethod.Put, put.Uri)
            {
                Content = new StreamContent(new ProgressStream(content, bytesWritten), 1 << 20),
            };
            upload.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            upload.Content.Headers.ContentLength = expected.Size;
            using var done = await SendAsync(upload, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created) throw await ErrorAsync(done, expected.Digest.ToString()).ConfigureAwait(false);
        }

        public async Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url("manifests/" + reference));
            AcceptManifests(request);
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.WithoutTagOrDigest().Name + ":" + reference).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            var bytes = await ReadBoundedAsync(stream, MaxManifestBytes, cancellationToken).ConfigureAwait(false);
            var digest = Digest.Compute(bytes);
            if (Digest.TryParse(reference, out var pinned) && pinned != digest) throw new DigestMismatchException(pinned.ToString(), digest.ToString(), Reference.ToString());
            _manifests[digest] = bytes;
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (string.IsNullOrEmpty(mediaType) || mediaType == "application/json") mediaType = OciJson.PeekMediaType(bytes) ?? MediaTypes.OciManifest;
            return new Descriptor(mediaType!, digest, bytes.Length);
        }

        public async Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken)
        {
            var tag = reference;
            if (ImageReference.TryParse(reference, out var parsed, out _) && reference.Contains("/")) tag = parsed!.Tag ?? "latest";
            if (!_manifests.TryGetValue(manifest.Digest, out var bytes))
            {
                using var stream = await FetchAsync(manifest, cancellationToken).ConfigureAwait(false);
                bytes = await ReadBoundedAsync(stream, MaxManifestBytes, cancellationToken).ConfigureAwait(false);
            }
            await PutManifestAsync(manifest, bytes, tag, cancellationToken).ConfigureAwait(false);
        }

        private async Task PutManifestAsync(Descriptor manifest, byte[] bytes, string reference, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, Url("manifests/" + reference)) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Created && !response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.ToString()).ConfigureAwait(false);
        }

        /// <summary>Tags of this repository (GET /v2/&lt;name&gt;/tags/list), following Link pagination.</summary>
        public Task<System.Collections.Generic.IReadOnlyList<string>> ListTagsAsync(int pageSize, CancellationToken cancellationToken) =>
            ListPagedAsync(Url($"tags/list?n={pageSize}"), "tags", Reference.Name, cancellationToken);

        /// <summary>Repositories of the whole registry (GET /v2/_catalog), following Link pagination.</summary>
        public Task<System.Collections.Generic.IReadOnlyList<string>> ListCatalogAsync(int pageSize, CancellationToken cancellationToken) =>
            ListPagedAsync(new Uri(_base, $"/v2/_catalog?n={pageSize}"), "repositories", Reference.Registry, cancellationToken);

        private async Task<System.Collections.Generic.IReadOnlyList<string>> ListPagedAsync(Uri first, string property, string target, CancellationToken cancellationToken)
        {
            var items = new System.Collections.Generic.List<string>();
            Uri? next = first;
            // Bounded: a registry that keeps sending Link headers cannot keep us here forever.
            for (var page = 0; next != null && page < 10_000; page++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, next);
                using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, target).ConfigureAwait(false);
                using var doc = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false));
                if (doc.RootElement.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array)
                    items.AddRange(list.EnumerateArray().Select(t => t.GetString()).Where(t => t != null).Select(t => t!));
                next = NextLink(response);
            }
            return items;
        }

        private Uri? NextLink(HttpResponseMessage response)
        {
            if (!response.Headers.TryGetValues("Link", out var values)) return null;
            var link = values.FirstOrDefault();
            if (link is null) return null;
            var start = link.IndexOf('<');
            var end = link.IndexOf('>');
            if (start < 0 || end <= start) return null;
            return new Uri(_base, link.Substring(start + 1, end - start - 1));
        }

        private static void AcceptManifests(HttpRequestMessage request)
        {
            foreach (var mediaType in MediaTypes.ManifestAccept) request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(mediaType));
        }

        private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, HttpCompletionOption option, CancellationToken cancellationToken)
        {
            try
            {
                return await _http.SendAsync(request, option, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new ImageModuleException("RegistryUnreachable", ErrorKind.ConnectionError,
                    $"Cannot reach registry {Reference.Registry} ({_base.GetLeftPart(UriPartial.Authority)}): {e.InnerException?.Message ?? e.Message}", Reference.Registry, e);
            }
        }

        /// <summary>A registry error response as an exception with a stable id and the registry's own message (never credentials).</summary>
        private async Task<Exception> ErrorAsync(HttpResponseMessage response, string target)
        {
            string? code = null, message = null;
            try
            {
                var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
                if (body.Length > 0 && body.Length < 1 << 20)
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
            catch (JsonException) { }
            var detail = $"{Reference.Registry}: {(int)response.StatusCode} {code ?? response.ReasonPhrase}{(message != null ? " — " + message : "")}";
            switch (code)
            {
                case "MANIFEST_UNKNOWN":
                case "NAME_UNKNOWN":
                case "BLOB_UNKNOWN":
                    return new ImageNotFoundException(target, $"{target} was not found on {detail}");
                case "DIGEST_INVALID":
                    // The registry checked an upload against its digest (pushes rely on that) and it did not match.
                    return new ImageModuleException("DigestMismatch", ErrorKind.InvalidData, $"The content of {target} does not match its digest: {detail}", target);
            }
            return response.StatusCode switch
            {
                HttpStatusCode.NotFound => new ImageNotFoundException(target, $"{target} was not found on {detail}"),
                HttpStatusCode.Unauthorized => new ImageModuleException("RegistryUnauthorized", ErrorKind.AuthenticationError, $"Authentication failed for {detail}", target),
                HttpStatusCode.Forbidden => new ImageModuleException("RegistryDenied", ErrorKind.PermissionDenied, $"Access denied by {detail}", target),
                (HttpStatusCode)429 => new ImageModuleException("TooManyRequests", ErrorKind.QuotaExceeded, $"Rate limited by {detail}", target),
                _ => new ImageModuleException("RegistryError", ErrorKind.InvalidOperation, $"Registry request failed: {detail}", target),
            };
        }

        private static async Task<byte[]> ReadBoundedAsync(Stream stream, long max, CancellationToken cancellationToken)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > max) throw new ImageModuleException("ManifestTooLarge", ErrorKind.InvalidData, $"A manifest larger than {max} bytes was refused.");
                buffer.Write(chunk, 0, n);
            }
            return buffer.ToArray();
        }

        public void Dispose()
        {
            if (_ownsClient) _http.Dispose();
        }

        /// <summary>The body of a response that disposes the response with it.</summary>
        private sealed class ResponseStream : ReadOnlyStream
        {
            private readonly HttpResponseMessage _response;
            private readonly Stream _body;
            public ResponseStream(HttpResponseMessage response, Stream body) { _response = response; _body = body; }
            public override int Read(byte[] buffer, int offset, int count) => _body.Read(buffer, offset, count);
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _body.ReadAsync(buffer, offset, count, cancellationToken);
            protected override void Dispose(bool disposing) { if (disposing) { _body.Dispose(); _response.Dispose(); } base.Dispose(disposing); }
        }

        /// <summary>Reports bytes as an upload reads them.</summary>
        private sealed class ProgressStream : ReadOnlyStream
        {
            private readonly Stream _inner;
            private readonly IProgress<long>? _progress;
            public ProgressStream(Stream inner, IProgress<long>? progress) { _inner = inner; _progress = progress; }
            public override int Read(byte[] buffer, int offset, int count) { var n = _inner.Read(buffer, offset, count); if (n > 0) _progress?.Report(n); return n; }
            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                var n = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                if (n > 0) _progress?.Report(n);
                return n;
            }
        }
    }
}
