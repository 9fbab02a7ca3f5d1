using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Registry;
using ImageModule.Store;
using Xunit;

namespace ImageModule.Tests.Registry
{
    /// <summary>The distribution client against real docker-registry processes on loopback.</summary>
    public sealed class RegistryClientTests : IDisposable
    {
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "imagemodule-regclient-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private readonly List<IDisposable> _owned = new();
        private static readonly CancellationToken None = CancellationToken.None;

        public RegistryClientTests() => Directory.CreateDirectory(_temp);

        public void Dispose()
        {
            foreach (var d in Enumerable.Reverse(_owned)) d.Dispose();
            try { Directory.Delete(_temp, true); } catch (IOException) { }
        }

        private T Own<T>(T disposable) where T : IDisposable { _owned.Add(disposable); return disposable; }

        private RegistryRepository Repository(RegistryFixture registry, string repository, RegistryCredential? credential = null, RegistryHostSettings? settings = null, HttpMessageHandler? transport = null) =>
            Own(new RegistryRepository(ImageReference.Parse($"{registry.Host}/{repository}"), credential, settings, transport));

        private static async Task<Descriptor> PushBlobAsync(IContentStore target, byte[] bytes)
        {
            var blob = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(bytes), bytes.Length);
            await target.PushAsync(blob, new MemoryStream(bytes), null, None);
            return blob;
        }

        private static async Task<byte[]> ReadAllAsync(Stream stream)
        {
            var copy = new MemoryStream();
            await stream.CopyToAsync(copy);
            return copy.ToArray();
        }

        [Fact]
        public async Task A_download_cut_by_a_registry_crash_resumes_with_a_range_request_after_restart()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry, "big/blob");
            repository.ChunkSize = 16 << 20; // chunked upload on the way in
            var bytes = TestImages.RandomBytes(48 << 20, 7);
            var blob = await PushBlobAsync(repository, bytes);

            using var stream = await repository.FetchAsync(blob, None);
            var first = new byte[1 << 20];
            var read = 0;
            while (read < first.Length) read += await stream.ReadAsync(first, read, first.Length - read);
            registry.Kill();
            var restart = Task.Run(async () => { await Task.Delay(700); registry.Start(); });
            var rest = await ReadAllAsync(stream); // verifies size and digest at the end
            await restart;
            Assert.Equal(bytes.Length, read + rest.Length);
            Assert.True(first.Concat(rest).SequenceEqual(bytes));
            // Resumed, not fetched again from the start: the restarted registry answered a Range request (206).
            var blobGets = registry.Requests.Where(r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + blob.Digest, StringComparison.Ordinal)).ToList();
            Assert.Contains(blobGets, r => r.Status == 206);
        }

        [Fact]
        public async Task A_blob_served_with_wrong_content_is_rejected_and_nothing_is_stored()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry, "team/app");
            var built = await TestImages.AddAsync(repository, "1", TestImages.Tar(new[] { ("etc/hello", TestImages.RandomBytes(4096, 3)) }));
            var layer = built.Layers[0];
            var path = registry.BlobDataPath(layer.Digest.ToString());
            var corrupt = File.ReadAllBytes(path);
            corrupt[corrupt.Length / 2] ^= 0xFF;
            File.WriteAllBytes(path, corrupt);

            var store = new OciStore(Path.Combine(_temp, "store"));
            var error = await Assert.ThrowsAsync<DigestMismatchException>(() => ImageCopier.CopyAsync(repository, "1", store, $"{registry.Host}/team/app:1", null, null, None));
            Assert.Equal("DigestMismatch", error.ErrorId);
            Assert.False(store.Layout.HasBlob(layer));
            Assert.Empty(await store.ListAsync(None));
        }

        [Fact]
        public async Task A_push_to_another_repository_of_the_same_registry_mounts_blobs_instead_of_uploading()
        {
            var registry = Own(new RegistryFixture());
            var origins = new BlobOrigins(Path.Combine(_temp, "origins"));
            var settings = new RegistryHostSettings(registry.Host);
            var first = Repository(registry, "team/base", settings: settings);
            first.Origins = origins;
            var blob = await PushBlobAsync(first, TestImages.RandomBytes(2 << 20, 11));
            Assert.Contains("team/base", origins.RepositoriesOn(blob.Digest, registry.Host));

            var counter = new CountingHandler(RegistryTransport.Create(registry.Host, settings));
            var second = Repository(registry, "team/app", settings: settings, transport: counter);
            second.Origins = origins;
            await second.PushAsync(blob, new MemoryStream(TestImages.RandomBytes(2 << 20, 11)), null, None);
            Assert.True(await second.ExistsAsync(blob, None));
            Assert.Contains(counter.Requests, r => r.StartsWith("POST") && r.Contains("mount=") && r.Contains("from=team%2Fbase"));
            Assert.DoesNotContain(counter.Requests, r => r.StartsWith("PUT") || r.StartsWith("PATCH"));
        }

        [Fact]
        public async Task Parallel_first_requests_to_a_plain_HTTP_loopback_registry_all_fall_back_to_HTTP()
        {
            // Every request starts as https; before the fix only the first to fail its handshake switched to HTTP
            // and the others failed (a retry and half a second later they went through).
            var registry = Own(new RegistryFixture());
            using var client = new HttpClient(RegistryTransport.Create(registry.Host, new RegistryHostSettings(registry.Host)));
            var heads = Enumerable.Range(0, 6).Select(i => client.SendAsync(new HttpRequestMessage(HttpMethod.Head,
                $"https://{registry.Host}/v2/team/app/blobs/{Digest.Compute(new[] { (byte)i })}")));
            var responses = await Task.WhenAll(heads);
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        }

        [Fact]
        public async Task TLS_needs_the_registry_CA_or_an_explicit_insecure_setting()
        {
            var registry = Own(new RegistryFixture(new RegistryOptions { Tls = true }));
            var untrusted = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry, "a/b").PingAsync(None));
            Assert.Equal("RegistryCertificateUntrusted", untrusted.ErrorId);
            Assert.Equal(ErrorKind.SecurityError, untrusted.Kind);

            var trusted = Repository(registry, "a/b", settings: new RegistryHostSettings(registry.Host) { CertificateAuthority = registry.Certificate!.CertificatePath });
            await trusted.PingAsync(None);
            var built = await TestImages.AddAsync(trusted, "1", TestImages.Tar(new[] { ("x", new byte[] { 1, 2, 3 }) }));
            Assert.Equal(built.Manifest.Digest, (await trusted.ResolveAsync("1", None)).Digest);

            // A CA that did not sign this certificate does not make it trusted.
            var other = TestCertificate.Create(_temp, "other-ca");
            var wrongCa = await Assert.ThrowsAsync<ImageModuleException>(() =>
                Repository(registry, "a/b", settings: new RegistryHostSettings(registry.Host) { CertificateAuthority = other.CertificatePath }).PingAsync(None));
            Assert.Equal("RegistryCertificateUntrusted", wrongCa.ErrorId);

            await Repository(registry, "a/b", settings: new RegistryHostSettings(registry.Host) { Insecure = true }).PingAsync(None);
        }

        [Fact]
        public async Task Token_auth_with_signed_JWTs_pushes_pulls_renews_tokens_and_rejects_a_wrong_password()
        {
            var issuer = Own(new TokenIssuer(_temp, "alice", "s3cret-Pa55"));
            var registry = Own(new RegistryFixture(new RegistryOptions { Token = issuer }));
            var alice = new RegistryCredential("alice", "s3cret-Pa55");
            var repository = Repository(registry, "team/app", alice);
            var built = await TestImages.AddAsync(repository, "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(1000, 5)) }));
            Assert.Equal(built.Manifest.Digest, (await Repository(registry, "team/app", alice).ResolveAsync("1", None)).Digest);
            Assert.Contains("alice", issuer.Accounts);

            // A token the registry refuses (here: one for pull only, when a push needs more) is replaced on the 401.
            var reused = Repository(registry, "team/app", alice);
            await reused.ResolveAsync("1", None);
            var issued = issuer.TokensIssued;
            await PushBlobAsync(reused, TestImages.RandomBytes(3000, 6));
            Assert.True(issuer.TokensIssued > issued);

            var wrong = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry, "team/app", new RegistryCredential("alice", "wrong-password")).ResolveAsync("1", None));
            Assert.Equal("RegistryUnauthorized", wrong.ErrorId);
            Assert.DoesNotContain("wrong-password", wrong.Message);
            var anonymous = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry, "team/app").ResolveAsync("1", None));
            Assert.Equal(ErrorKind.AuthenticationError, anonymous.Kind);
        }

        [Fact]
        public async Task Pulls_go_through_a_pull_through_mirror_and_fall_back_to_the_origin_when_it_is_down()
        {
            var origin = Own(new RegistryFixture());
            var built = await TestImages.AddAsync(Repository(origin, "team/app"), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(5000, 9)) }));
            var mirror = Own(new RegistryFixture(new RegistryOptions { ProxyOf = origin.Url }));
            var settings = RegistrySettings.Load(Path.Combine(_temp, "registries.json"))
                .With(new RegistryHostSettings(origin.Host) { Mirrors = new[] { mirror.Host } });
            var clients = new RegistryClients(RegistrySettings.Load(settings.Path), null, _ => null);
            var reference = ImageReference.Parse($"{origin.Host}/team/app:1");

            var store = new OciStore(Path.Combine(_temp, "store"));
            using (var source = clients.OpenForPull(reference))
            {
                await ImageCopier.CopyAsync(source, "1", store, reference.ToString(), null, null, None);
                Assert.Equal(mirror.Host, source.Current.Reference.Registry);
            }
            // The mirror stores what it proxied as it streams it; give it a moment to finish writing.
            var cached = mirror.BlobDataPath(built.Layers[0].Digest.ToString());
            for (var i = 0; i < 50 && !File.Exists(cached); i++) await Task.Delay(100);
            Assert.True(File.Exists(cached), "the mirror cached the layer it served");

            mirror.Kill();
            var again = new OciStore(Path.Combine(_temp, "store2"));
            using (var source = clients.OpenForPull(reference))
            {
                var copied = await ImageCopier.CopyAsync(source, "1", again, reference.ToString(), null, null, None);
                Assert.Equal(origin.Host, source.Current.Reference.Registry);
                Assert.Equal(built.Manifest.Digest, copied.Digest);
            }
        }

        [Fact]
        public async Task A_multi_platform_index_yields_the_asked_platform_or_all_of_them()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry, "multi/app");
            var amd = await TestImages.PushAsync(repository, new[] { TestImages.Tar(new[] { ("arch", new byte[] { 1 }) }) }, platform: Platform.Parse("linux/amd64"));
            var arm = await TestImages.PushAsync(repository, new[] { TestImages.Tar(new[] { ("arch", new byte[] { 2 }) }) }, platform: Platform.Parse("linux/arm64/v8"));
            var index = new ImageIndex
            {
                MediaType = MediaTypes.OciIndex,
                Manifests = new[]
                {
                    amd.Manifest with { Platform = Platform.Parse("linux/amd64") },
                    arm.Manifest with { Platform = Platform.Parse("linux/arm64/v8") },
                },
            };
            var indexBytes = OciJson.Serialize(index);
            var indexDescriptor = new Descriptor(MediaTypes.OciIndex, Digest.Compute(indexBytes), indexBytes.Length);
            await repository.PushAsync(indexDescriptor, new MemoryStream(indexBytes), null, None);
            await repository.TagAsync(indexDescriptor, "1", None);

            var one = new OciStore(Path.Combine(_temp, "one"));
            var picked = await ImageCopier.CopyAsync(repository, "1", one, "multi/app:1", Platform.Parse("linux/arm64"), null, None);
            Assert.Equal(arm.Manifest.Digest, picked.Digest);
            Assert.False(one.Layout.HasBlob(amd.Layers[0]));
            await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(repository, "1", one, "multi/app:1", Platform.Parse("windows/amd64"), null, None));

            var all = new OciStore(Path.Combine(_temp, "all"));
            var copied = await ImageCopier.CopyAsync(repository, "1", all, "multi/app:1", null, null, None, allPlatforms: true);
            Assert.Equal(indexDescriptor.Digest, copied.Digest);
            Assert.True(all.Layout.HasBlob(amd.Layers[0]) && all.Layout.HasBlob(arm.Layers[0]));
            var image = Assert.Single(await all.ListAsync(None));
            Assert.Equal(indexDescriptor.Digest.ToString(), image.Digest);
        }

        [Fact]
        public async Task Deleting_a_manifest_removes_the_tag_from_the_registry()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry, "team/gone");
            var built = await TestImages.AddAsync(repository, "1", TestImages.Tar(new[] { ("x", new byte[] { 4 }) }));
            await repository.DeleteAsync(built.Manifest.Digest, None);
            await Assert.ThrowsAsync<ImageNotFoundException>(() => repository.ResolveAsync("1", None));
        }

        /// <summary>No real server answers 429 on loopback, so the backoff is checked against a scripted handler.</summary>
        [Fact]
        public async Task Retries_honour_Retry_After_on_429_and_give_up_after_the_limit()
        {
            var scripted = new ScriptedHandler(HttpStatusCode.TooManyRequests, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK);
            using var client = new HttpClient(new RetryHandler(scripted, TimeSpan.FromMilliseconds(10)));
            var watch = System.Diagnostics.Stopwatch.StartNew();
            using var ok = await client.GetAsync("http://127.0.0.1:9/v2/");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(3, scripted.Calls);
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), "Retry-After: 1 was honoured");

            var always = new ScriptedHandler(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 10).ToArray()) { RetryAfter = false };
            using var limited = new HttpClient(new RetryHandler(always, TimeSpan.FromMilliseconds(1)));
            using var last = await limited.GetAsync("http://127.0.0.1:9/v2/");
            Assert.Equal((HttpStatusCode)429, last.StatusCode);
            Assert.Equal(RetryHandler.MaxAttempts, always.Calls);
        }

        private sealed class CountingHandler : DelegatingHandler
        {
            public CountingHandler(HttpMessageHandler inner) : base(inner) { }
            public List<string> Requests { get; } = new();
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                lock (Requests) Requests.Add(request.Method + " " + request.RequestUri);
                return base.SendAsync(request, cancellationToken);
            }
        }

        private sealed class ScriptedHandler : HttpMessageHandler
        {
            private readonly HttpStatusCode[] _script;
            public ScriptedHandler(params HttpStatusCode[] script) => _script = script;
            public int Calls { get; private set; }
            public bool RetryAfter { get; init; } = true;
            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var response = new HttpResponseMessage(_script[Math.Min(Calls++, _script.Length - 1)]);
                if (RetryAfter && response.StatusCode == HttpStatusCode.TooManyRequests) response.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
                return Task.FromResult(response);
            }
        }
    }
}
