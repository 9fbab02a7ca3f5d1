using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Engine;
using Xunit;

namespace ImageModule.Tests.Engine
{
    /// <summary>
    /// tcp:// engines with docker's TLS conventions (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_HOST) against a real
    /// dockerd started with --tlsverify and certificates made in the test; every TLS failure a clear, stable error.
    /// </summary>
    public sealed class EngineTlsTests : IClassFixture<TlsDockerdFixture>
    {
        private readonly TlsDockerdFixture _docker;
        private static readonly CancellationToken None = CancellationToken.None;

        public EngineTlsTests(TlsDockerdFixture docker)
        {
            _docker = docker;
            _docker.EnsureRunning();
        }

        private static Func<string, string?> Env(params (string Key, string Value)[] values)
        {
            var map = values.ToDictionary(v => v.Key, v => v.Value);
            return k => map.TryGetValue(k, out var v) ? v : null;
        }

        private static EngineStore Open(string uri, params (string Key, string Value)[] environment) =>
            new(EngineEndpoint.Resolve(uri, Env(environment)));

        private async Task<ImageModuleException> FailureAsync(string uri, params (string Key, string Value)[] environment)
        {
            using var engine = Open(uri, environment);
            var clock = Stopwatch.StartNew();
            var e = await Assert.ThrowsAsync<ImageModuleException>(() => engine.ListAsync(None));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), clock.Elapsed.ToString());
            return e;
        }

        [Fact]
        public async Task Images_are_listed_over_mutual_TLS_with_the_engine_verified_against_the_CA()
        {
            var id = _docker.ImportBusybox("tls/busybox:1");
            using (var engine = Open(_docker.TcpUri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.ClientCerts)))
            {
                var row = Assert.Single(await engine.ListAsync(None), i => i.Name == "docker.io/tls/busybox:1");
                Assert.Equal(id, row.Id);
                Assert.Equal(_docker.TcpUri, row.Location);
            }
            // The name Docker means DOCKER_HOST, as for the docker CLI; the default certificate directory is DOCKER_CONFIG.
            using (var viaHost = Open("Docker", ("DOCKER_HOST", _docker.TcpUri), ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CONFIG", _docker.ClientCerts)))
                Assert.Contains(await viaHost.ListAsync(None), i => i.Id == id);
            // The docker CLI agrees with the same files (the certificates are what dockerd expects).
            var cli = _docker.RunAt(_docker.TcpUri, new Dictionary<string, string> { ["DOCKER_TLS_VERIFY"] = "1", ["DOCKER_CERT_PATH"] = _docker.ClientCerts },
                "images", "-q", "--no-trunc", "tls/busybox:1");
            Assert.Equal(id, cli.Trim());
        }

        [Fact]
        public async Task An_engine_certificate_from_another_CA_is_EngineCertificateUntrusted()
        {
            var e = await FailureAsync(_docker.TcpUri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.OtherCa));
            Assert.Equal(EngineErrors.CertificateUntrusted, e.ErrorId);
            Assert.Equal(ErrorKind.SecurityError, e.Kind);
            Assert.Contains(_docker.TcpUri, e.Message);
            Assert.Contains("not by a CA in " + System.IO.Path.Combine(_docker.OtherCa, "ca.pem"), e.Message);
        }

        [Fact]
        public async Task An_engine_certificate_for_another_host_name_is_EngineCertificateUntrusted()
        {
            // The server certificate names 127.0.0.1 only; reached as localhost it must be refused, as Go's TLS does.
            var uri = $"tcp://localhost:{_docker.Port}";
            var e = await FailureAsync(uri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.ClientCerts));
            Assert.Equal(EngineErrors.CertificateUntrusted, e.ErrorId);
            Assert.Contains("not for localhost", e.Message);
        }

        [Fact]
        public async Task Without_a_client_certificate_the_engine_refuses_with_EngineClientCertificateRequired()
        {
            var e = await FailureAsync(_docker.TcpUri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.CaOnly));
            Assert.Equal(EngineErrors.ClientCertificateRequired, e.ErrorId);
            Assert.Equal(ErrorKind.AuthenticationError, e.Kind);
            Assert.Contains(_docker.TcpUri, e.Message);
            Assert.Contains(System.IO.Path.Combine(_docker.CaOnly, "cert.pem"), e.Message);
        }

        [Fact]
        public async Task A_client_certificate_from_another_CA_is_refused_with_EngineTlsError()
        {
            var e = await FailureAsync(_docker.TcpUri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.ForeignClient));
            Assert.Equal(EngineErrors.TlsError, e.ErrorId);
            Assert.Contains("refused the client certificate " + System.IO.Path.Combine(_docker.ForeignClient, "cert.pem"), e.Message);
            Assert.Contains(_docker.TcpUri, e.Message);
        }

        [Fact]
        public async Task A_plain_HTTP_client_against_the_TLS_engine_is_EngineTlsError_not_the_transport_text()
        {
            var e = await FailureAsync(_docker.TcpUri);
            Assert.Equal(EngineErrors.TlsError, e.ErrorId);
            Assert.Contains(_docker.TcpUri, e.Message);
            Assert.Contains("DOCKER_TLS_VERIFY", e.Message);
            Assert.DoesNotContain("Client sent an HTTP request", e.Message);
        }

        [Fact]
        public async Task A_TLS_client_against_a_plain_tcp_engine_is_EngineTlsError()
        {
            using var plain = new TcpToUnixForwarder(_docker.Socket);
            // The same engine over plain tcp:// works without TLS settings...
            using (var engine = Open(plain.Uri))
                await engine.ListAsync(None);
            // ...and with them the handshake fails with a hint, not a transport exception.
            var e = await FailureAsync(plain.Uri, ("DOCKER_TLS_VERIFY", "1"), ("DOCKER_CERT_PATH", _docker.ClientCerts));
            Assert.Equal(EngineErrors.TlsError, e.ErrorId);
            Assert.Contains(plain.Uri, e.Message);
            Assert.Contains("does not seem to speak TLS", e.Message);
        }
    }
}
