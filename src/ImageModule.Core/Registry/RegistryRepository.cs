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
    /// tags, uploads (monolithic, chunked, or a cross-repository mount) and deletion. Blob bodies are streamed,
    /// never buffered; a download that breaks off resumes with a Range request.
    /// Handler chain: auth (the credential rule) → retry → redirect → timeout → transport (scheme, TLS trust, connect
    /// timeout). Every document (manifest, page of tags, token, error) is read with a size cap.
    /// </summary>
    public sealed class RegistryRepository : ITarget, IChecksPushedContent, IRangeFetch, IDisposable
    {
        /// <summary>The cap on a manifest or index (distribution's own limit is 4 MiB).</summary>
        public const long MaxManifestBytes = 4L << 20;
        /// <summary>The cap on one page of tags or repositories.</summary>
        public const long MaxPageBytes = 8L << 20;
        /// <summary>Attempts at a document (manifest, page) whose body breaks off: it is small, so it is simply asked for again.</summary>
        public const int DocumentAttempts = 3;
        /// <summary>Blobs above this size are uploaded in chunks of this size (PATCH with Content-Range).</summary>
        public const long DefaultChunkSize = 64L << 20;
        private readonly HttpClient _http;
        private readonly Uri _base;
        private readonly ConcurrentDictionary<Digest, byte[]> _manifests = new();
        // Blobs a HEAD just found missing: the push that usually follows need not ask again.
        private readonly ConcurrentDictionary<Digest, bool> _missing = new();

        public RegistryRepository(ImageReference reference, RegistryCredential? credential = null, RegistryHostSettings? settings = null, HttpMessageHandler? transport = null,
            RegistryTimeouts? timeouts = null, TimeSpan? retryDelay = null)
        {
            Reference = reference;
            settings ??= new RegistryHostSettings(reference.Registry);
            Timeouts = timeouts ?? settings.Timeouts;
            transport ??= RegistryTransport.Create(reference.RegistryHost, settings, Timeouts.Connect);
            _retryDelay = retryDelay;
            var chain = new RegistryAuthHandler(reference.RegistryHost, reference.Registry, credential,
                new RetryHandler(new RedirectHandler(new TimeoutHandler(Timeouts, transport)), retryDelay));
            // Time limits are TimeoutHandler's (per phase); HttpClient's single overall timeout would cut long blobs.
            _http = new HttpClient(chain) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            _base = new Uri($"https://{reference.RegistryHost}/v2/{reference.Repository}/");
        }

        private readonly TimeSpan? _retryDelay;

        public RegistryTimeouts Timeouts { get; }

        public ImageReference Reference { get; }

        /// <summary>Where blobs were seen before: recorded on pull and push, used to mount instead of upload.</summary>
        public BlobOrigins? Origins { get; set; }

        public long ChunkSize { get; set; } = DefaultChunkSize;

        /// <summary>Plain HTTP is allowed for loopback registries, as docker does; everything else is HTTPS.</summary>
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

        private Uri ContentUrl(Descriptor target) => Url((IsManifest(target) ? "manifests/" : "blobs/") + target.Digest);

        private Task<Exception> ErrorAsync(HttpResponseMessage response, string target) => RegistryErrors.FromResponseAsync(response, Reference.Registry, target);

        /// <summary>Checks the registry speaks the API and accepts our credentials (GET /v2/, as docker login does).</summary>
        public async Task PingAsync(CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, "/v2/"));
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.Registry).ConfigureAwait(false);
        }

        public async Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, ContentUrl(target));
            if (IsManifest(target)) AcceptManifests(request);
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                if (!IsManifest(target)) _missing[target.Digest] = true;
                return false;
            }
            if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, target.Digest.ToString()).ConfigureAwait(false);
            if (!IsManifest(target)) Origins?.Record(target.Digest, Reference.Registry, Reference.Repository);
            return true;
        }

        public async Task<Stream> FetchFromAsync(Descriptor blob, long offset, CancellationToken cancellationToken)
        {
            var (response, body, partial) = await OpenAsync(blob, offset, cancellationToken).ConfigureAwait(false);
            // A server that ignores Range sends the whole blob: the bytes already held are skipped.
            if (!partial) await ResumingStream.SkipAsync(body, offset, cancellationToken).ConfigureAwait(false);
            var rest = new ResumingStream(response, body, blob.Size, (at, ct) => OpenAsync(blob, at, ct), _retryDelay, Reference.Registry, start: offset);
            Narrator.Say($"{blob.Digest.Short}: resuming at byte {offset} of {blob.Size} ({(partial ? "Range request answered 206" : "the registry ignored Range; skipped what was held")}).");
            return rest;
        }

        public async Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken)
        {
            // A manifest just resolved is not fetched again: a re-pull of an unchanged image costs one request.
            if (_manifests.TryGetValue(target.Digest, out var known)) return new MemoryStream(known, writable: false);
            if (IsManifest(target))
            {
                // Refused before a byte is read: an index may declare a child of any size.
                if (target.Size > MaxManifestBytes)
                    throw new ImageModuleException("ManifestTooLarge", ErrorKind.InvalidData, $"The manifest {target.Digest} declares {target.Size} bytes, more than the {MaxManifestBytes} a manifest may have; refused without reading it.", target.Digest.ToString());
                var document = await GetDocumentAsync(() => ManifestRequest(target.Digest.ToString()), MaxManifestBytes, $"the manifest {target.Digest}", target.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                var digest = Digest.Compute(document.Bytes);
                if (digest != target.Digest) throw new DigestMismatchException(target.Digest.ToString(), digest.ToString(), Reference.ToString());
                return new MemoryStream(document.Bytes, writable: false);
            }
            var (response, body, _) = await OpenAsync(target, 0, cancellationToken).ConfigureAwait(false);
            Origins?.Record(target.Digest, Reference.Registry, Reference.Repository);
            return new VerifyingStream(new ResumingStream(response, body, target.Size, (offset, ct) => OpenAsync(target, offset, ct), _retryDelay, Reference.Registry), target);
        }

        /// <summary>GET of a blob or manifest from <paramref name="offset"/>; Partial is false when the server sent it all.</summary>
        private async Task<(HttpResponseMessage Response, Stream Body, bool Partial)> OpenAsync(Descriptor target, long offset, CancellationToken cancellationToken)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, ContentUrl(target));
            if (IsManifest(target)) AcceptManifests(request);
            if (offset > 0) request.Headers.Range = new RangeHeaderValue(offset, null);
            var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                using (response) throw await ErrorAsync(response, target.Digest.ToString()).ConfigureAwait(false);
            }
            var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            return (response, body, response.StatusCode == HttpStatusCode.PartialContent);
        }

        public async Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            if (IsManifest(expected))
            {
                var bytes = await BoundedBody.ReadAsync(content, MaxManifestBytes, $"the manifest {expected.Digest}", cancellationToken).ConfigureAwait(false);
                if (Digest.Compute(bytes) != expected.Digest) throw new DigestMismatchException(expected.Digest.ToString(), Digest.Compute(bytes).ToString());
                _manifests[expected.Digest] = bytes;
                await PutManifestAsync(expected, bytes, expected.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                return;
            }
            if (!_missing.TryRemove(expected.Digest, out _) && await ExistsAsync(expected, cancellationToken).ConfigureAwait(false)) return;

            // Mount from a repository of this registry known to hold the blob; the registry answers 202 (an
            // ordinary upload session) when it cannot, so trying costs nothing. Starting without a body also gets
            // authentication done before the stream is sent.
            var location = await StartUploadAsync(expected, cancellationToken).ConfigureAwait(false);
            if (location is null)
            {
                bytesWritten?.Report(expected.Size);
                return;
            }
            var source = new ProgressStream(content, bytesWritten);
            if (ChunkSize > 0 && expected.Size > ChunkSize)
            {
                for (long offset = 0; offset < expected.Size; offset += ChunkSize)
                {
                    var length = Math.Min(ChunkSize, expected.Size - offset);
                    using var patch = new HttpRequestMessage(new HttpMethod("PATCH"), location) { Content = Body(new SliceStream(source, length), length) };
                    patch.Content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + length - 1}");
                    using var accepted = await SendAsync(patch, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                    if (accepted.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(accepted, expected.Digest.ToString()).ConfigureAwait(false);
                    location = Absolute(accepted.Headers.Location) ?? location;
                }
                await FinishUploadAsync(location, expected, null, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await FinishUploadAsync(location, expected, Body(source, expected.Size), cancellationToken).ConfigureAwait(false);
            }
            Origins?.Record(expected.Digest, Reference.Registry, Reference.Repository);
        }

        /// <summary>POST of an upload, with a mount when a source repository is known; null when the mount made the blob exist.</summary>
        private async Task<Uri?> StartUploadAsync(Descriptor blob, CancellationToken cancellationToken)
        {
            var from = Origins?.RepositoriesOn(blob.Digest, Reference.Registry).FirstOrDefault(r => r != Reference.Repository);
            var url = from is null ? Url("blobs/uploads/") : Url($"blobs/uploads/?mount={Uri.EscapeDataString(blob.Digest.ToString())}&from={Uri.EscapeDataString(from)}");
            using var start = new HttpRequestMessage(HttpMethod.Post, url);
            using var started = await SendAsync(start, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (from != null && started.StatusCode == HttpStatusCode.Created)
            {
                Narrator.Say($"{blob.Digest.Short}: mounted from {Reference.Registry}/{from}, not uploaded.");
                return null;
            }
            if (started.StatusCode != HttpStatusCode.Accepted) throw await ErrorAsync(started, blob.Digest.ToString()).ConfigureAwait(false);
            return Absolute(started.Headers.Location)
                ?? throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, "The registry started an upload without a Location.", Reference.ToString());
        }

        private async Task FinishUploadAsync(Uri location, Descriptor blob, HttpContent? body, CancellationToken cancellationToken)
        {
            var put = new UriBuilder(location);
            put.Query = (string.IsNullOrEmpty(put.Query) ? "" : put.Query.TrimStart('?') + "&") + "digest=" + Uri.EscapeDataString(blob.Digest.ToString());
            using var upload = new HttpRequestMessage(HttpMethod.Put, put.Uri) { Content = body ?? new ByteArrayContent(Array.Empty<byte>()) };
            using var done = await SendAsync(upload, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode != HttpStatusCode.Created) throw await ErrorAsync(done, blob.Digest.ToString()).ConfigureAwait(false);
        }

        private static HttpContent Body(Stream stream, long length)
        {
            var content = new StreamContent(stream, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            content.Headers.ContentLength = length;
            return content;
        }

        private Uri? Absolute(Uri? location) => location is null ? null : location.IsAbsoluteUri ? location : new Uri(_base, location);

        /// <summary>Deletes a manifest by digest (DELETE /v2/&lt;name&gt;/manifests/&lt;digest&gt;): every tag on it goes too.</summary>
        public async Task DeleteAsync(Digest manifest, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, Url("manifests/" + manifest));
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted && !response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.WithoutTagOrDigest().WithDigest(manifest).ToString()).ConfigureAwait(false);
        }

        /// <summary>
        /// Deletes one tag and leaves the manifest and its other tags (DELETE /v2/&lt;name&gt;/manifests/&lt;tag&gt;, OCI
        /// distribution spec 1.1). False when the registry does not delete tags alone (CNCF distribution answers 400
        /// or 405), so the caller can fall back to deleting the manifest.
        /// </summary>
        public async Task<bool> TryDeleteTagAsync(string tag, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, Url("manifests/" + tag));
            using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Accepted || response.IsSuccessStatusCode) return true;
            if (response.StatusCode == HttpStatusCode.BadRequest || response.StatusCode == HttpStatusCode.MethodNotAllowed) return false;
            throw await ErrorAsync(response, Reference.WithoutTagOrDigest().Name + ":" + tag).ConfigureAwait(false);
        }

        public async Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken)
        {
            var name = Reference.WithoutTagOrDigest().Name + (Digest.TryParse(reference, out _) ? "@" : ":") + reference;
            var document = await GetDocumentAsync(() => ManifestRequest(reference), MaxManifestBytes, $"the manifest of {name}", name, cancellationToken).ConfigureAwait(false);
            var bytes = document.Bytes;
            var digest = Digest.Compute(bytes);
            if (Digest.TryParse(reference, out var pinned) && pinned != digest) throw new DigestMismatchException(pinned.ToString(), digest.ToString(), Reference.ToString());
            _manifests[digest] = bytes;
            Narrator.Say($"Resolved {name} to {digest}.");
            // The registry gave this digest for the repository: what the store lists as the image's RepoDigests.
            Origins?.Record(digest, Reference.Registry, Reference.Repository);
            var mediaType = document.MediaType;
            if (string.IsNullOrEmpty(mediaType) || mediaType == "application/json") mediaType = OciJson.PeekMediaType(bytes) ?? MediaTypes.OciManifest;
            return new Descriptor(mediaType!, digest, bytes.Length);
        }

        public async Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken)
        {
            // A tag, a digest, or a full reference (its tag, or its digest when it has no tag).
            var tag = reference;
            if (reference.Contains("/") && ImageReference.TryParse(reference, out var parsed, out _, defaultTag: false))
                tag = parsed!.Tag ?? parsed.Digest?.ToString() ?? "latest";
            if (!_manifests.TryGetValue(manifest.Digest, out var bytes))
            {
                using var stream = await FetchAsync(manifest, cancellationToken).ConfigureAwait(false);
                bytes = await BoundedBody.ReadAsync(stream, MaxManifestBytes, $"the manifest {manifest.Digest}", cancellationToken).ConfigureAwait(false);
            }
            await PutManifestAsync(manifest, bytes, tag, cancellationToken).ConfigureAwait(false);
        }

        private async Task PutManifestAsync(Descriptor manifest, byte[] bytes, string reference, CancellationToken cancellationToken)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, Url("manifests/" + reference)) { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(manifest.MediaType);
            using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Created && !response.IsSuccessStatusCode) throw await ErrorAsync(response, Reference.ToString()).ConfigureAwait(false);
            Origins?.Record(manifest.Digest, Reference.Registry, Reference.Repository);
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
            var known = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
            var seen = new System.Collections.Generic.HashSet<string>(StringComparer.Ordinal);
            Uri? next = first;
            // Bounded: a registry that keeps sending Link headers cannot keep us here forever, and one that points
            // back at a page already read is an error, not a longer list.
            for (var page = 0; next != null; page++)
            {
                if (!seen.Add(next.AbsoluteUri))
                    throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{Reference.Registry} paginated {target} in a loop (its Link header points back at {next.PathAndQuery}).", target);
                if (page >= 10_000)
                    throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{Reference.Registry} sent more than 10000 pages for {target}.", target);
                var url = next;
                var document = await GetDocumentAsync(() => new HttpRequestMessage(HttpMethod.Get, url), MaxPageBytes, $"a page of {property} of {target}", target, cancellationToken).ConfigureAwait(false);
                try
                {
                    using var doc = JsonDocument.Parse(document.Bytes);
                    if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array)
                        foreach (var item in list.EnumerateArray())
                            if (item.ValueKind == JsonValueKind.String && known.Add(item.GetString()!)) items.Add(item.GetString()!);
                }
                catch (JsonException e)
                {
                    throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{Reference.Registry} answered the list of {property} of {target} with something that is not JSON: {e.Message}", target, e);
                }
                next = NextLink(document.Link);
            }
            return items;
        }

        private Uri? NextLink(string? link)
        {
            if (link is null) return null;
            var start = link.IndexOf('<');
            var end = link.IndexOf('>');
            if (start < 0 || end <= start) return null;
            if (!Uri.TryCreate(_base, link.Substring(start + 1, end - start - 1), out var next) || (next.Scheme != Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttp))
                throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{Reference.Registry} sent a Link header that is not an address.", Reference.Registry);
            return next;
        }

        private HttpRequestMessage ManifestRequest(string reference)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Url("manifests/" + reference));
            AcceptManifests(request);
            return request;
        }

        /// <summary>A small document with what callers need of its response: its media type and Link header.</summary>
        private sealed record Document(byte[] Bytes, string? MediaType, string? Link);

        /// <summary>
        /// GET of a small document (manifest, page), capped at <paramref name="max"/> bytes. A body that breaks off or
        /// stalls is asked for again (up to <see cref="DocumentAttempts"/> times); giving up says why.
        /// </summary>
        private async Task<Document> GetDocumentAsync(Func<HttpRequestMessage> build, long max, string what, string target, CancellationToken cancellationToken)
        {
            for (var attempt = 1; ; attempt++)
            {
                using var request = build();
                using var response = await SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, target).ConfigureAwait(false);
                // A document is small: all of it must arrive within the response timeout (a trickle is a timeout).
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(Timeouts.Response);
                try
                {
                    var bytes = await BoundedBody.ReadAsync(response, max, what, deadline.Token).ConfigureAwait(false);
                    // A body shorter than its Content-Length is a cut, even when the connection closed cleanly.
                    if (response.Content.Headers.ContentLength is long declared && declared != bytes.Length)
                        throw new IOException($"{what} ended after {bytes.Length} of {declared} bytes.");
                    var link = response.Headers.TryGetValues("Link", out var values) ? values.FirstOrDefault() : null;
                    return new Document(bytes, response.Content.Headers.ContentType?.MediaType, link);
                }
                catch (ImageModuleException e) when (e.ErrorId == "RegistryResponseTooLarge" && max == MaxManifestBytes)
                {
                    throw new ImageModuleException("ManifestTooLarge", ErrorKind.InvalidData, $"Refused {what}: it is larger than the {MaxManifestBytes} bytes a manifest may have.", target, e);
                }
                catch (Exception e) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested && !(e is ImageModuleException))
                {
                    throw RegistryErrors.Timeout(Reference.Registry, $"reading {what}", Timeouts.Response, e);
                }
                catch (Exception e) when ((e is IOException || e is HttpRequestException) && !cancellationToken.IsCancellationRequested)
                {
                    if (attempt >= DocumentAttempts)
                    {
                        if (e is RegistryStalledException stalled) throw stalled.ToTimeout();
                        throw new ImageModuleException("RegistryConnectionLost", ErrorKind.ConnectionError, $"Reading {what} from {Reference.Registry} broke off {DocumentAttempts} times: {e.InnerException?.Message ?? e.Message}", target, e);
                    }
                    Narrator.Say($"Reading {what} from {Reference.Registry} broke off ({e.Message}); asking again (attempt {attempt + 1} of {DocumentAttempts}).");
                }
            }
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
                Narrator.Say($"{request.Method} {request.RequestUri?.AbsolutePath} on {Reference.Registry} failed: {e.InnerException?.Message ?? e.Message}");
                throw new ImageModuleException("RegistryUnreachable", ErrorKind.ConnectionError,
                    $"Cannot reach registry {Reference.Registry} ({_base.GetLeftPart(UriPartial.Authority)}): {e.InnerException?.Message ?? e.Message}", Reference.Registry, e);
            }
            catch (IOException e)
            {
                throw new ImageModuleException("RegistryUnreachable", ErrorKind.ConnectionError,
                    $"The connection to registry {Reference.Registry} failed: {e.Message}", Reference.Registry, e);
            }
        }

        public void Dispose() => _http.Dispose();

        /// <summary>The next <c>length</c> bytes of a stream, for one chunk of an upload; never closes the stream.</summary>
        private sealed class SliceStream : ReadOnlyStream
        {
            private readonly Stream _inner;
            private long _left;
            public SliceStream(Stream inner, long length) { _inner = inner; _left = length; }
            public override int Read(byte[] buffer, int offset, int count) => _left == 0 ? 0 : Take(_inner.Read(buffer, offset, (int)Math.Min(count, _left)));
            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
                _left == 0 ? 0 : Take(await _inner.ReadAsync(buffer, offset, (int)Math.Min(count, _left), cancellationToken).ConfigureAwait(false));
            private int Take(int n) { _left -= n; return n; }
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
