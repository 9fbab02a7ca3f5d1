using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
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
    /// <summary>
    /// The registry client against a misbehaving server (<see cref="FaultServer"/>) in front of a real docker-registry,
    /// plus a second and third port playing a CDN and an attacker. After every failed pull the store is checked: no new
    /// image, nothing left in staging, earlier images intact.
    /// </summary>
    public sealed class RegistryFaultTests : IDisposable
    {
        private const string User = "alice";
        private const string Password = "s3cret-Pa55-fault";
        private static readonly CancellationToken None = CancellationToken.None;
        // Short limits where a test is about timing out; roomy ones elsewhere, so a busy machine does not fail them.
        private static readonly RegistryTimeouts Short = new() { Connect = TimeSpan.FromSeconds(2), Response = TimeSpan.FromSeconds(2), Idle = TimeSpan.FromSeconds(1) };
        private static readonly RegistryTimeouts Roomy = new() { Connect = TimeSpan.FromSeconds(10), Response = TimeSpan.FromSeconds(20), Idle = TimeSpan.FromSeconds(10) };
        private readonly string _temp = Path.Combine(Path.GetTempPath(), "imagemodule-regfault-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        private readonly List<IDisposable> _owned = new();

        public RegistryFaultTests() => Directory.CreateDirectory(_temp);

        public void Dispose()
        {
            foreach (var d in Enumerable.Reverse(_owned)) d.Dispose();
            try { Directory.Delete(_temp, true); } catch (IOException) { }
        }

        private T Own<T>(T disposable) where T : IDisposable { _owned.Add(disposable); return disposable; }

        private RegistryRepository Repository(string host, string repository, RegistryCredential? credential = null, RegistryTimeouts? timeouts = null) =>
            Own(new RegistryRepository(ImageReference.Parse($"{host}/{repository}"), credential, new RegistryHostSettings(host), timeouts: timeouts ?? Roomy, retryDelay: TimeSpan.FromMilliseconds(20)));

        private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));

        /// <summary>A store holding one earlier image, and what it looked like, to prove a failed pull changed nothing.</summary>
        private async Task<(OciStore Store, string IndexBefore)> StoreWithAnEarlierImageAsync(RegistryFixture registry)
        {
            var store = new OciStore(Path.Combine(_temp, "store-" + Guid.NewGuid().ToString("N").Substring(0, 6)));
            var earlier = Repository(registry.Host, "earlier/app");
            await TestImages.AddAsync(earlier, "1", TestImages.Tar(new[] { ("earlier", TestImages.RandomBytes(3000, 99)) }));
            await ImageCopier.CopyAsync(earlier, "1", store, $"{registry.Host}/earlier/app:1", null, null, None);
            return (store, File.ReadAllText(Path.Combine(store.Layout.Root, "index.json")));
        }

        private static async Task AssertUnchangedAsync(OciStore store, string indexBefore)
        {
            Assert.Equal(indexBefore, File.ReadAllText(Path.Combine(store.Layout.Root, "index.json")));
            var images = await store.ListAsync(None);
            Assert.Equal(new[] { "earlier/app:1" }, images.Select(i => i.Name!.Substring(i.Name!.IndexOf('/') + 1)).ToArray());
            var staging = store.Layout.TempDirectory;
            Assert.Empty(Directory.Exists(staging) ? Directory.GetFiles(staging, "*", SearchOption.AllDirectories) : Array.Empty<string>());
            // The earlier image's blobs are all there and intact.
            foreach (var image in images)
            {
                var layers = await store.GetLayersAsync(image, None);
                Assert.NotEmpty(layers);
            }
        }

        private static bool IsBlobGet(ReceivedRequest r) => r.Method == "GET" && r.Path.Contains("/blobs/sha256:");

        // ---- 1. credentials go only to the registry the user named ------------------------------------------------

        [Fact]
        public async Task A_blob_redirected_to_another_port_is_fetched_there_without_the_registry_credential()
        {
            var registry = Own(new RegistryFixture(User, Password));
            var direct = Repository(registry.Host, "team/app", new RegistryCredential(User, Password));
            var layerBytes = TestImages.Tar(new[] { ("cdn", TestImages.RandomBytes(200_000, 1)) });
            var built = await TestImages.AddAsync(direct, "1", layerBytes);
            var layerBlob = TestImages.Gzip(layerBytes);

            var cdn = Own(new FaultServer());
            cdn.OnRequest = r => new Fault { Status = 200, Body = layerBlob };
            var proxy = Own(new FaultServer(registry.Url));
            proxy.OnRequest = r => IsBlobGet(r) && r.Path.EndsWith(built.Layers[0].Digest.ToString()) ? Fault.Redirect(307, $"{cdn.Url}/layers/{built.Layers[0].Digest.Hex}?signature=x") : null;

            var store = new OciStore(Path.Combine(_temp, "store"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", new RegistryCredential(User, Password)), "1", store, $"{proxy.Host}/team/app:1", null, null, None);

            Assert.True(store.Layout.HasBlob(built.Layers[0]));
            var atCdn = Assert.Single(cdn.Received);
            Assert.Null(atCdn.Authorization);
            Assert.Contains(proxy.Received, r => r.Authorization == Basic(User, Password)); // the registry itself did get it
        }

        [Theory]
        [InlineData("Basic realm=\"cdn\"")]
        [InlineData("Bearer realm=\"{attacker}/token\",service=\"evil\",scope=\"repository:team/app:pull\"")]
        public async Task A_401_from_a_redirect_target_is_refused_and_the_attacker_gets_no_credential(string challenge)
        {
            var registry = Own(new RegistryFixture(User, Password));
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app", new RegistryCredential(User, Password)), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(5000, 2)) }));
            var (store, before) = await StoreWithAnEarlierImageAsync(Own(new RegistryFixture()));

            var attacker = Own(new FaultServer());
            attacker.OnRequest = r => Fault.Answer(401, "{}", ("WWW-Authenticate", challenge.Replace("{attacker}", attacker.Url)));
            var proxy = Own(new FaultServer(registry.Url));
            proxy.OnRequest = r => IsBlobGet(r) ? Fault.Redirect(302, $"{attacker.Url}/steal{r.Path}") : null;

            var error = await Assert.ThrowsAsync<ImageModuleException>(() =>
                ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", new RegistryCredential(User, Password)), "1", store, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryUnauthorized", error.ErrorId);
            Assert.Contains(attacker.Host, error.Message);
            Assert.DoesNotContain(Password, error.Message);
            Assert.NotEmpty(attacker.Received);
            Assert.All(attacker.Received, r => Assert.Null(r.Authorization));
            Assert.DoesNotContain(attacker.Received, r => r.Path == "/token");
            await AssertUnchangedAsync(store, before);
        }

        [Fact]
        public async Task A_token_realm_on_another_port_gets_the_credential_and_redirect_loops_stop()
        {
            var issuer = Own(new TokenIssuer(_temp, User, Password));
            var registry = Own(new RegistryFixture(new RegistryOptions { Token = issuer }));
            var alice = new RegistryCredential(User, Password);
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app", alice), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(5000, 3)) }));
            var proxy = Own(new FaultServer(registry.Url));

            var store = new OciStore(Path.Combine(_temp, "store"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", alice), "1", store, $"{proxy.Host}/team/app:1", null, null, None);
            Assert.Contains(User, issuer.Accounts);

            // A loop between two addresses, and a chain longer than the limit: both stop, quickly.
            proxy.OnRequest = r => r.Path.StartsWith("/loop/") ? Fault.Redirect(302, r.Path == "/loop/a" ? "/loop/b" : "/loop/a")
                : IsBlobGet(r) ? Fault.Redirect(307, "/loop/a") : null;
            var (other, before) = await StoreWithAnEarlierImageAsync(Own(new RegistryFixture()));
            var watch = Stopwatch.StartNew();
            var loop = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", alice), "1", other, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryRedirectLoop", loop.ErrorId);
            proxy.OnRequest = r => r.Path.StartsWith("/hop/") ? Fault.Redirect(302, "/hop/" + (int.Parse(r.Path.Substring(5)) + 1)) : IsBlobGet(r) ? Fault.Redirect(307, "/hop/0") : null;
            var chain = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", alice), "1", other, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryRedirectLoop", chain.ErrorId);
            Assert.True(proxy.Received.Count(r => r.Path.StartsWith("/hop/")) <= RedirectHandler.MaxHops * RetryHandler.MaxAttempts);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20));
            await AssertUnchangedAsync(other, before);
        }

        [Fact]
        public async Task A_token_service_answering_garbage_is_a_protocol_error_not_a_raw_exception()
        {
            var tokens = Own(new FaultServer());
            tokens.OnRequest = r => Fault.Answer(200, "<html>this is not a token</html>", ("Content-Type", "text/html"));
            var registry = Own(new FaultServer());
            registry.OnRequest = r => Fault.Answer(401, "{}", ("WWW-Authenticate", $"Bearer realm=\"{tokens.Url}/token\",service=\"s\",scope=\"repository:a/b:pull\""));

            var error = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry.Host, "a/b", new RegistryCredential(User, Password)).ResolveAsync("1", None));
            Assert.Equal("RegistryProtocolError", error.ErrorId);
            Assert.Contains(tokens.Host, error.Message);

            // A token response far larger than a token is not read.
            tokens.OnRequest = r => new Fault { Status = 200, Body = new byte[16], ContentLengthDelta = 100L << 20, StallAfter = 16 };
            var huge = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry.Host, "a/b").ResolveAsync("1", None));
            Assert.Equal("RegistryProtocolError", huge.ErrorId);
        }

        [Fact]
        public async Task Missing_and_wrong_credentials_are_told_apart_and_say_what_to_do()
        {
            var registry = Own(new RegistryFixture(User, Password));
            var missing = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry.Host, "team/app").ResolveAsync("1", None));
            var wrong = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry.Host, "team/app", new RegistryCredential(User, "not-the-password")).ResolveAsync("1", None));
            Assert.Equal("RegistryUnauthorized", missing.ErrorId);
            Assert.Equal("RegistryUnauthorized", wrong.ErrorId);
            Assert.Contains("no credential", missing.Message);
            Assert.Contains("-Credential", missing.Message);
            Assert.Contains("Connect-ImageRegistry", missing.Message);
            Assert.Contains($"user '{User}'", wrong.Message);
            Assert.Contains("Connect-ImageRegistry", wrong.Message);
            Assert.DoesNotContain("not-the-password", wrong.Message);
            Assert.NotEqual(missing.Message, wrong.Message);
        }

        // ---- 2. timeouts ----------------------------------------------------------------------------------------

        [Fact]
        public async Task Silent_and_slow_loris_servers_fail_with_RegistryTimeout_within_the_configured_time()
        {
            var registry = Own(new RegistryFixture());
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app"), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(300_000, 4)) }));
            var (store, before) = await StoreWithAnEarlierImageAsync(registry);
            var proxy = Own(new FaultServer(registry.Url));

            // Accepts the connection, never answers.
            proxy.OnRequest = r => new Fault { Silent = true };
            var watch = Stopwatch.StartNew();
            var silent = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", timeouts: Short), "1", store, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryTimeout", silent.ErrorId);
            Assert.Equal(ErrorKind.OperationTimeout, silent.Kind);
            Assert.Contains(proxy.Host, silent.Message);
            Assert.Contains("response headers", silent.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(8), $"took {watch.Elapsed}");

            // A manifest trickled a byte at a time: the document must arrive within the response timeout.
            proxy.OnRequest = r => r.Path.Contains("/manifests/") && r.Method == "GET" ? new Fault { Trickle = TimeSpan.FromMilliseconds(300) } : null;
            watch.Restart();
            var trickled = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", timeouts: Short), "1", store, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryTimeout", trickled.ErrorId);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");

            // A blob that stalls on every connection: each stall is resumed, then the download gives up.
            proxy.OnRequest = r => IsBlobGet(r) && r.Path.EndsWith(built.Layers[0].Digest.ToString()) ? new Fault { StallAfter = 1000 } : null;
            watch.Restart();
            var stalled = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", timeouts: Short with { Response = TimeSpan.FromSeconds(10) }), "1", store, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("RegistryTimeout", stalled.ErrorId);
            Assert.Contains("no data", stalled.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
            Assert.Contains(proxy.Received, r => IsBlobGet(r) && r.Header("Range") == "bytes=1000-");
            await AssertUnchangedAsync(store, before);
        }

        [Fact]
        public async Task A_blob_that_stalls_once_is_resumed_with_a_range_request()
        {
            var registry = Own(new RegistryFixture());
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app"), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(600_000, 5)) }));
            var proxy = Own(new FaultServer(registry.Url));
            var stalls = 0;
            proxy.OnRequest = r => IsBlobGet(r) && r.Path.EndsWith(built.Layers[0].Digest.ToString()) && Interlocked.Increment(ref stalls) == 1 ? new Fault { StallAfter = 100_000 } : null;
            var store = new OciStore(Path.Combine(_temp, "store"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app", timeouts: Short with { Response = TimeSpan.FromSeconds(20) }), "1", store, $"{proxy.Host}/team/app:1", null, null, None);
            Assert.True(store.Layout.HasBlob(built.Layers[0]));
            Assert.Contains(proxy.Received, r => r.Header("Range") == "bytes=100000-");
        }

        [Fact]
        public async Task A_connect_that_never_completes_fails_with_RegistryTimeout()
        {
            // A listener that never accepts, with its backlog full: the kernel drops further SYNs, so connect hangs.
            var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            Own(listener);
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen(0);
            var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
            for (var i = 0; i < 4; i++)
            {
                var filler = Own(new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp));
                _ = filler.ConnectAsync(System.Net.IPAddress.Loopback, port);
            }
            await Task.Delay(200);
            var timeouts = Roomy with { Connect = TimeSpan.FromSeconds(1), Response = TimeSpan.FromSeconds(30) };
            var watch = Stopwatch.StartNew();
            var error = await Assert.ThrowsAsync<ImageModuleException>(() => Repository($"127.0.0.1:{port}", "a/b", timeouts: timeouts).ResolveAsync("1", None));
            Assert.Equal("RegistryTimeout", error.ErrorId);
            Assert.Contains("connecting", error.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        }

        // ---- 3. bounded reads and pagination --------------------------------------------------------------------

        [Fact]
        public async Task A_huge_child_manifest_of_an_index_is_refused_without_reading_it()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry.Host, "multi/app");
            var amd = await TestImages.PushAsync(repository, new[] { TestImages.Tar(new[] { ("a", new byte[] { 1 }) }) }, platform: Platform.Parse("linux/amd64"));
            var huge = amd.Manifest with { Size = 500L << 20, Platform = Platform.Current };
            var index = new ImageIndex { MediaType = MediaTypes.OciIndex, Manifests = new[] { huge } };
            var indexBytes = OciJson.Serialize(index);
            var indexDescriptor = new Descriptor(MediaTypes.OciIndex, Digest.Compute(indexBytes), indexBytes.Length);
            await repository.PushAsync(indexDescriptor, new MemoryStream(indexBytes), null, None);
            await repository.TagAsync(indexDescriptor, "1", None);
            var (store, before) = await StoreWithAnEarlierImageAsync(registry);
            var proxy = Own(new FaultServer(registry.Url));

            var error = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "multi/app"), "1", store, "multi/app:1", null, null, None));
            Assert.Equal("ManifestTooLarge", error.ErrorId);
            Assert.DoesNotContain(proxy.Received, r => r.Path.EndsWith(amd.Manifest.Digest.ToString()));

            // A manifest whose response declares far more than a manifest may be is refused on its headers.
            proxy.OnRequest = r => r.Path.Contains("/manifests/") ? new Fault { Status = 200, Body = new byte[10], ContentLengthDelta = 300L << 20, StallAfter = 10, Headers = new[] { ("Content-Type", MediaTypes.OciManifest) } } : null;
            var declared = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(proxy.Host, "multi/app").ResolveAsync("1", None));
            Assert.Equal("ManifestTooLarge", declared.ErrorId);
            await AssertUnchangedAsync(store, before);
        }

        [Fact]
        public async Task Looping_tag_pagination_stops_with_an_error_and_tags_are_never_listed_twice()
        {
            var registry = Own(new FaultServer());
            registry.OnRequest = r => Fault.Answer(200, "{\"name\":\"a/b\",\"tags\":[\"1\",\"2\"]}", ("Content-Type", "application/json"), ("Link", "</v2/a/b/tags/list?n=2&last=2>; rel=\"next\""));
            var error = await Assert.ThrowsAsync<ImageModuleException>(() => Repository(registry.Host, "a/b").ListTagsAsync(2, None));
            Assert.Equal("RegistryProtocolError", error.ErrorId);
            Assert.Contains("loop", error.Message);
            Assert.True(registry.Received.Count <= 3);

            // Pages that repeat a tag: the list has it once.
            registry.OnRequest = r => r.Target.Contains("last=")
                ? Fault.Answer(200, "{\"tags\":[\"2\",\"3\"]}")
                : Fault.Answer(200, "{\"tags\":[\"1\",\"2\"]}", ("Link", "</v2/a/b/tags/list?n=2&last=2>; rel=\"next\""));
            Assert.Equal(new[] { "1", "2", "3" }, await Repository(registry.Host, "a/b").ListTagsAsync(2, None));
        }

        // ---- 4. retries ------------------------------------------------------------------------------------------

        [Fact]
        public async Task An_8_MB_pull_succeeds_when_every_response_is_cut()
        {
            var registry = Own(new RegistryFixture());
            var layer = TestImages.RandomBytes(8 << 20, 6);
            var built = await TestImages.AddAsync(Repository(registry.Host, "big/app"), "1", TestImages.Tar(new[] { ("big", layer) }));
            var proxy = Own(new FaultServer(registry.Url));
            // Every blob response and the first manifest response break off part-way.
            var manifestCuts = 0;
            proxy.OnRequest = r => IsBlobGet(r) && r.Path.EndsWith(built.Layers[0].Digest.ToString()) ? new Fault { CutAfter = 700_000 }
                : r.Method == "GET" && r.Path.Contains("/manifests/") && Interlocked.Increment(ref manifestCuts) == 1 ? new Fault { CutAfter = 100 }
                : null;
            var store = new OciStore(Path.Combine(_temp, "store"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "big/app"), "1", store, $"{proxy.Host}/big/app:1", null, null, None);
            Assert.True(store.Layout.HasBlob(built.Layers[0]));
            Assert.True(proxy.Received.Count(r => IsBlobGet(r) && r.Header("Range") != null) > ResumingStream.MaxResumes, "more resumes than the no-progress limit");
        }

        [Fact]
        public async Task Status_429_with_Retry_After_and_5xx_sequences_are_retried_and_429_forever_is_bounded()
        {
            var registry = Own(new RegistryFixture());
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app"), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(5000, 7)) }));
            var proxy = Own(new FaultServer(registry.Url));
            var script = new Queue<int>(new[] { 429, 503, 502 });
            proxy.OnRequest = r =>
            {
                lock (script)
                {
                    if (r.Path.Contains("/manifests/") && script.Count > 0)
                    {
                        var status = script.Dequeue();
                        return status == 429 ? Fault.Answer(429, "{}", ("Retry-After", "1")) : Fault.Answer(status, "bad gateway");
                    }
                }
                return null;
            };
            var watch = Stopwatch.StartNew();
            var store = new OciStore(Path.Combine(_temp, "store"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app"), "1", store, $"{proxy.Host}/team/app:1", null, null, None);
            Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(1), "Retry-After: 1 was honoured");

            // A 500 is retried like the other server errors; one that persists ends with its status.
            var fives = 0;
            proxy.OnRequest = r => r.Path.Contains("/manifests/") && Interlocked.Increment(ref fives) == 1 ? Fault.Answer(500, "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"boom\"}]}") : null;
            Assert.Equal(built.Manifest.Digest, (await Repository(proxy.Host, "team/app").ResolveAsync("1", None)).Digest);

            var (other, before) = await StoreWithAnEarlierImageAsync(registry);
            proxy.OnRequest = r => Fault.Answer(429, "{}", ("Retry-After", "0"));
            var manifestRequestsBefore = proxy.Received.Count(r => r.Path.Contains("/manifests/"));
            watch.Restart();
            var limited = await Assert.ThrowsAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app"), "1", other, $"{proxy.Host}/team/app:1", null, null, None));
            Assert.Equal("TooManyRequests", limited.ErrorId);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10));
            Assert.Equal(RetryHandler.MaxAttempts, proxy.Received.Count(r => r.Path.Contains("/manifests/")) - manifestRequestsBefore);
            await AssertUnchangedAsync(other, before);
        }

        [Fact]
        public async Task Lying_Content_Length_either_way_still_yields_the_right_blob_and_wrong_bytes_are_refused()
        {
            var registry = Own(new RegistryFixture());
            var built = await TestImages.AddAsync(Repository(registry.Host, "team/app"), "1", TestImages.Tar(new[] { ("x", TestImages.RandomBytes(400_000, 8)) }));
            var proxy = Own(new FaultServer(registry.Url));
            bool Layer(ReceivedRequest r) => IsBlobGet(r) && r.Path.EndsWith(built.Layers[0].Digest.ToString());

            // Longer than the blob, closed after all of it: the digest is checked before asking for more (no 416).
            proxy.OnRequest = r => Layer(r) ? new Fault { ContentLengthDelta = 1000 } : null;
            var longer = new OciStore(Path.Combine(_temp, "longer"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app"), "1", longer, "team/app:1", null, null, None);
            Assert.True(longer.Layout.HasBlob(built.Layers[0]));
            Assert.DoesNotContain(proxy.Received, r => r.Header("Range") != null);

            // Shorter than the blob: the rest is asked for with a Range request.
            proxy.OnRequest = r => Layer(r) && r.Header("Range") is null ? new Fault { ContentLengthDelta = -1000 } : null;
            var shorter = new OciStore(Path.Combine(_temp, "shorter"));
            await ImageCopier.CopyAsync(Repository(proxy.Host, "team/app"), "1", shorter, "team/app:1", null, null, None);
            Assert.True(shorter.Layout.HasBlob(built.Layers[0]));
            Assert.Contains(proxy.Received, r => r.Header("Range") == $"bytes={built.Layers[0].Size - 1000}-");

            var (store, before) = await StoreWithAnEarlierImageAsync(registry);
            proxy.OnRequest = r => Layer(r) ? new Fault { Corrupt = true } : null;
            var wrong = await Assert.ThrowsAsync<DigestMismatchException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/app"), "1", store, "team/app:1", null, null, None));
            Assert.Equal("DigestMismatch", wrong.ErrorId);
            await AssertUnchangedAsync(store, before);
        }

        // ---- 5. validation before anything is named -------------------------------------------------------------

        [Fact]
        public async Task A_config_that_is_not_JSON_or_not_an_image_config_is_refused_before_anything_is_written()
        {
            var registry = Own(new RegistryFixture());
            var repository = Repository(registry.Host, "team/ghost");
            var layerBlob = TestImages.Gzip(TestImages.Tar(new[] { ("x", new byte[] { 1, 2, 3 }) }));
            var layer = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(layerBlob), layerBlob.Length);
            await repository.PushAsync(layer, new MemoryStream(layerBlob), null, None);
            var (store, before) = await StoreWithAnEarlierImageAsync(registry);

            async Task<ImageModuleException> PullWithConfig(byte[] config, string mediaType, string tag)
            {
                var configDescriptor = new Descriptor(mediaType, Digest.Compute(config), config.Length);
                await repository.PushAsync(configDescriptor, new MemoryStream(config), null, None);
                var manifest = OciJson.Serialize(new Manifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = new[] { layer } });
                var manifestDescriptor = new Descriptor(MediaTypes.OciManifest, Digest.Compute(manifest), manifest.Length);
                await repository.PushAsync(manifestDescriptor, new MemoryStream(manifest), null, None);
                await repository.TagAsync(manifestDescriptor, tag, None);
                return await Assert.ThrowsAnyAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(registry.Host, "team/ghost"), tag, store, $"team/ghost:{tag}", null, null, None));
            }

            Assert.Equal("InvalidConfig", (await PullWithConfig(Encoding.UTF8.GetBytes("this is { not json"), MediaTypes.OciConfig, "garbage")).ErrorId);
            Assert.Equal("InvalidConfig", (await PullWithConfig(Encoding.UTF8.GetBytes("[1,2,3]"), MediaTypes.OciConfig, "array")).ErrorId);
            Assert.Equal("InvalidConfig", (await PullWithConfig(Encoding.UTF8.GetBytes("{}"), MediaTypes.OciEmpty, "artifact")).ErrorId);
            Assert.Equal("InvalidConfig", (await PullWithConfig(Encoding.UTF8.GetBytes("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}"), MediaTypes.OciConfig, "nolayers")).ErrorId);
            Assert.False(store.Layout.HasBlob(layer), "no layer was written before the config was checked");
            await AssertUnchangedAsync(store, before);

            // A manifest that is not one.
            var bogus = Encoding.UTF8.GetBytes("{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OciManifest + "\",\"layers\":\"no\"}");
            var bogusDescriptor = new Descriptor(MediaTypes.OciManifest, Digest.Compute(bogus), bogus.Length);
            var proxy = Own(new FaultServer(registry.Url));
            proxy.OnRequest = r => r.Path.EndsWith("/manifests/bogus") ? Fault.Answer(200, Encoding.UTF8.GetString(bogus), ("Content-Type", MediaTypes.OciManifest)) : null;
            var invalid = await Assert.ThrowsAnyAsync<ImageModuleException>(() => ImageCopier.CopyAsync(Repository(proxy.Host, "team/ghost"), "bogus", store, "team/ghost:bogus", null, null, None));
            Assert.Equal("InvalidManifest", invalid.ErrorId);
            await AssertUnchangedAsync(store, before);
        }

        // ---- 6. odd references ------------------------------------------------------------------------------------

        [Theory]
        [InlineData("127.0.0.1:99999/a/b:1")]
        [InlineData("127.0.0.1:0/a/b:1")]
        [InlineData("localhost:65536/a/b")]
        public void A_port_out_of_range_is_an_invalid_reference(string text)
        {
            var error = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(text));
            Assert.Equal("InvalidReference", error.ErrorId);
            Assert.Contains("port", error.Message);
        }

        // ---- 3. decompression bombs --------------------------------------------------------------------------------

        [Fact]
        public async Task A_layer_that_expands_past_the_limit_is_stored_with_its_size_unknown_quickly()
        {
            // 1 GiB of zeros gzips to about 1 MiB: far past 100 times its size.
            var gz = new MemoryStream();
            using (var gzip = new System.IO.Compression.GZipStream(gz, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            {
                var zeros = new byte[1 << 20];
                for (var i = 0; i < 1024; i++) gzip.Write(zeros, 0, zeros.Length);
            }
            var bomb = gz.ToArray();
            var store = new OciStore(Path.Combine(_temp, "store"));
            var descriptor = new Descriptor(MediaTypes.OciLayerGzip, Digest.Compute(bomb), bomb.Length);
            var watch = Stopwatch.StartNew();
            await store.PushAsync(descriptor, new MemoryStream(bomb), null, None);
            Assert.True(store.Layout.HasBlob(descriptor));
            var cache = StoreCache.Load(Path.Combine(store.Layout.SideDirectory, "cache.json"));
            Assert.Equal(Compression.ExpansionLimit.Unknown, cache.UncompressedSizes[descriptor.Digest.ToString()]);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
        }
    }
}
