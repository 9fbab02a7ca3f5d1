using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Engine;
using Xunit;

namespace ImageModule.Tests.Engine
{
    /// <summary>Finding engines by name or URI, and failing fast and clearly when nothing answers there.</summary>
    public sealed class EngineEndpointTests : IDisposable
    {
        private readonly string _dir = Path.Combine("/tmp", "imd-ep-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        public EngineEndpointTests() => Directory.CreateDirectory(_dir);

        public void Dispose() => Directory.Delete(_dir, true);

        private static Func<string, string?> Env(params (string Key, string Value)[] values)
        {
            var map = new Dictionary<string, string>();
            foreach (var (k, v) in values) map[k] = v;
            return k => map.TryGetValue(k, out var v) ? v : null;
        }

        [Fact]
        public void Docker_is_DOCKER_HOST_or_the_default_socket()
        {
            Assert.Equal("unix:///var/run/docker.sock", EngineEndpoint.Resolve("docker", Env()).Location);
            var fromEnv = EngineEndpoint.Resolve("Docker", Env(("DOCKER_HOST", "unix:///tmp/x/docker.sock")));
            Assert.Equal("unix:///tmp/x/docker.sock", fromEnv.Location);
            Assert.Equal("Docker", fromEnv.Kind);
            var tls = EngineEndpoint.Resolve("Docker", Env(("DOCKER_HOST", "tcp://127.0.0.1:2376"), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", "/certs")));
            Assert.True(tls.TlsVerify);
            Assert.Equal("/certs", tls.CertPath);
            Assert.False(EngineEndpoint.Resolve("tcp://127.0.0.1:2375", Env()).UsesTls);
        }

        [Fact]
        public void Tls_follows_the_docker_environment()
        {
            // DOCKER_TLS_VERIFY set to anything means TLS with verification; certificates default to DOCKER_CONFIG, then ~/.docker.
            var verify = EngineEndpoint.Resolve("tcp://127.0.0.1:2376", Env(("DOCKER_TLS_VERIFY", "0"), ("DOCKER_CONFIG", "/cfg"), ("HOME", "/home/u")));
            Assert.True(verify.UsesTls);
            Assert.True(verify.TlsVerify);
            Assert.Equal("/cfg", verify.CertPath);
            Assert.Equal("/home/u/.docker", EngineEndpoint.Resolve("tcp://127.0.0.1:2376", Env(("DOCKER_TLS_VERIFY", "1"), ("HOME", "/home/u"))).CertPath);
            // DOCKER_TLS: TLS without verifying the engine; DOCKER_CERT_PATH alone likewise (the Go client's FromEnv).
            var unverified = EngineEndpoint.Resolve("tcp://127.0.0.1:2376", Env(("DOCKER_TLS", "1"), ("HOME", "/home/u")));
            Assert.True(unverified.UsesTls);
            Assert.False(unverified.TlsVerify);
            var certsOnly = EngineEndpoint.Resolve("tcp://127.0.0.1:2376", Env(("DOCKER_CERT_PATH", "/certs")));
            Assert.True(certsOnly.UsesTls);
            Assert.False(certsOnly.TlsVerify);
            Assert.True(EngineEndpoint.Resolve("https://127.0.0.1:2376", Env()).UsesTls);
            // Unix sockets never use TLS.
            Assert.False(EngineEndpoint.Resolve("unix:///tmp/d.sock", Env(("DOCKER_TLS_VERIFY", "1"))).UsesTls);
        }

        [Theory]
        [InlineData("ca.pem", "not a certificate", "holds no PEM certificate")]
        [InlineData("cert.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "has no companion")]
        [InlineData("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "has no companion")]
        public async Task Unreadable_or_incomplete_certificate_files_are_EngineTlsError_before_connecting(string file, string content, string reason)
        {
            File.WriteAllText(Path.Combine(_dir, file), content);
            // Port 9 on loopback: nothing is ever reached, the files are refused first.
            using var engine = new EngineStore(EngineEndpoint.Resolve("tcp://127.0.0.1:9", Env(("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _dir))));
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.TlsError, e.ErrorId);
            Assert.Contains("tcp://127.0.0.1:9", e.Message);
            Assert.Contains(reason, e.Message);
        }

        [Fact]
        public async Task A_client_key_that_does_not_match_is_EngineTlsError_naming_the_files()
        {
            var a = TestCertificate.Create(_dir, "a");
            var b = TestCertificate.Create(_dir, "b");
            File.Copy(a.CertificatePath, Path.Combine(_dir, "cert.pem"));
            File.Copy(b.KeyPath, Path.Combine(_dir, "key.pem"));
            using var engine = new EngineStore(EngineEndpoint.Resolve("tcp://127.0.0.1:9", Env(("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _dir))));
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.TlsError, e.ErrorId);
            Assert.Contains(Path.Combine(_dir, "cert.pem"), e.Message);
        }

        [Fact]
        public async Task The_default_platform_for_an_engine_is_the_one_it_reports()
        {
            // A stand-in engine on loopback answering GET /version as a Windows arm64 engine would.
            using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            listener.Start();
            var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            var serve = Task.Run(async () =>
            {
                for (var i = 0; i < 4; i++)
                {
                    using var client = await listener.AcceptTcpClientAsync();
                    var stream = client.GetStream();
                    var buffer = new byte[8192];
                    var request = "";
                    while (!request.Contains("\r\n\r\n"))
                    {
                        var n = await stream.ReadAsync(buffer);
                        if (n == 0) break;
                        request += System.Text.Encoding.ASCII.GetString(buffer, 0, n);
                    }
                    var body = "{\"Version\":\"24.0.0\",\"ApiVersion\":\"1.43\",\"Os\":\"windows\",\"Arch\":\"arm64\"}";
                    var response = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}";
                    await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(response));
                }
            });
            using var engine = new EngineStore(EngineEndpoint.Resolve($"tcp://127.0.0.1:{port}", Env()));
            var platform = await engine.DefaultPlatformAsync(CancellationToken.None);
            Assert.Equal("windows/arm64", platform.ToString());
            Assert.Equal("windows/arm64", engine.EnginePlatform!.ToString());
            listener.Stop();
        }

        [Fact]
        public void Podman_is_the_rootless_socket_if_present_then_the_rootful_one()
        {
            Directory.CreateDirectory(Path.Combine(_dir, "podman"));
            var env = Env(("XDG_RUNTIME_DIR", _dir));
            // Neither socket exists: the rootless path is named, so the error points where podman would listen.
            Assert.Equal($"unix://{_dir}/podman/podman.sock", EngineEndpoint.Resolve("Podman", env).Location);
            File.WriteAllText(Path.Combine(_dir, "podman", "podman.sock"), "");
            var podman = EngineEndpoint.Resolve("podman", env);
            Assert.Equal($"unix://{_dir}/podman/podman.sock", podman.Location);
            Assert.Equal("Podman", podman.Kind);
            Assert.Equal("unix:///run/podman/podman.sock", EngineEndpoint.Resolve("Podman", Env()).Location);
        }

        [Theory]
        [InlineData("")]
        [InlineData("dockr")]
        [InlineData("ftp://host/x")]
        [InlineData("ssh://user@host")]
        public void Unknown_names_and_schemes_are_InvalidEngine(string text)
        {
            var e = Assert.Throws<ImageModuleException>(() => EngineEndpoint.Resolve(text, Env()));
            Assert.Equal(EngineErrors.InvalidEngine, e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
        }

        [Fact]
        public async Task A_missing_socket_is_EngineUnreachable_at_once_naming_the_uri()
        {
            var uri = $"unix://{_dir}/absent/docker.sock";
            using var engine = EngineStore.Open(uri);
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.Unreachable, e.ErrorId);
            Assert.Equal(ErrorKind.ConnectionError, e.Kind);
            Assert.Contains(uri, e.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), clock.Elapsed.ToString());
        }

        [Fact]
        public async Task A_socket_nobody_listens_on_is_EngineUnreachable()
        {
            var path = Path.Combine(_dir, "dead.sock");
            using (var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)) s.Bind(new UnixDomainSocketEndPoint(path));
            using var engine = EngineStore.Open("unix://" + path);
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.Unreachable, e.ErrorId);
            Assert.Contains(path, e.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), clock.Elapsed.ToString());
        }

        [Fact]
        public async Task An_engine_that_accepts_but_never_answers_times_out_within_the_connect_timeout()
        {
            var path = Path.Combine(_dir, "silent.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(8);
            var accepted = new List<Socket>();
            var acceptLoop = Task.Run(async () =>
            {
                for (var i = 0; i < 8; i++)
                {
                    try { accepted.Add(await listener.AcceptAsync()); }
                    catch (SocketException) { return; }
                    catch (ObjectDisposedException) { return; }
                }
            });
            using var engine = new EngineStore(EngineEndpoint.Resolve("unix://" + path), TimeSpan.FromSeconds(2));
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.Unreachable, e.ErrorId);
            Assert.Equal(ErrorKind.ConnectionError, e.Kind);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
            listener.Close();
            foreach (var s in accepted) s.Dispose();
        }

        [Fact]
        public async Task An_engine_that_answers_ping_at_once_but_version_slowly_is_reachable()
        {
            // podman's GET /version runs its components to ask their versions: seconds on a busy machine. The engine
            // answered /_ping, so it is there; a slow /version is not "unreachable".
            var path = Path.Combine(_dir, "slow-version.sock");
            using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(8);
            using var stop = new CancellationTokenSource();
            var serving = Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    Socket client;
                    try { client = await listener.AcceptAsync(stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(async () =>
                    {
                        using var _ = client;
                        var head = new byte[8192];
                        var read = await client.ReceiveAsync(head, SocketFlags.None);
                        var request = System.Text.Encoding.ASCII.GetString(head, 0, read);
                        var body = "OK";
                        if (request.Contains(" /version ") || request.Contains("/version HTTP"))
                        {
                            await Task.Delay(TimeSpan.FromSeconds(3));
                            body = "{\"Version\":\"99.0\",\"ApiVersion\":\"1.41\",\"Os\":\"linux\",\"Arch\":\"amd64\"}";
                        }
                        var bytes = System.Text.Encoding.ASCII.GetBytes(
                            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n{body}");
                        await client.SendAsync(bytes, SocketFlags.None);
                    });
                }
            });
            using var engine = new EngineStore(EngineEndpoint.Resolve("unix://" + path), TimeSpan.FromSeconds(1));
            await engine.ConnectAsync(CancellationToken.None);
            Assert.Equal("99.0", engine.EngineVersion);
            Assert.Equal(new Version(1, 41), engine.ApiVersion);
            stop.Cancel();
            listener.Close();
        }

        [Fact]
        public async Task A_tcp_port_with_no_engine_is_EngineUnreachable_within_seconds()
        {
            // A loopback port that was free a moment ago.
            var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            probe.Start();
            var port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            using var engine = EngineStore.Open($"tcp://127.0.0.1:{port}");
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(CancellationToken.None));
            Assert.Equal(EngineErrors.Unreachable, e.ErrorId);
            Assert.Contains($"127.0.0.1:{port}", e.Message);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), clock.Elapsed.ToString());
        }
    }
}
