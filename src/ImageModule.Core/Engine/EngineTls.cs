using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Handler.Abstractions;
using Microsoft.Net.Http.Client;

namespace ImageModule.Engine
{
    /// <summary>
    /// TLS to a tcp:// engine set up as the docker CLI does: the client certificate is DOCKER_CERT_PATH/cert.pem with
    /// key.pem (when present), and with DOCKER_TLS_VERIFY the engine's certificate must chain to a certificate in
    /// ca.pem and name the host it was reached at. Plugged into Docker.DotNet as its auth provider (which is also what
    /// makes its transport speak https rather than http). <see cref="HandshakeAsync"/> tries one handshake first, so
    /// that a TLS failure is reported as exactly what went wrong rather than as the transport's generic error.
    /// </summary>
    internal sealed class EngineTls : IAuthProvider
    {
        private readonly EngineEndpoint _endpoint;
        private readonly string _certPath;
        private readonly X509Certificate2[] _authorities;
        private readonly X509Certificate2? _clientCertificate;
        private string? _rejection;

        private EngineTls(EngineEndpoint endpoint, string certPath, X509Certificate2[] authorities, X509Certificate2? clientCertificate)
        {
            _endpoint = endpoint;
            _certPath = certPath;
            _authorities = authorities;
            _clientCertificate = clientCertificate;
        }

        public bool TlsEnabled => true;

        private string Engine => $"{_endpoint.Kind} engine at {_endpoint.Location}";
        private string CaFile => Path.Combine(_certPath, "ca.pem");
        private string CertFile => Path.Combine(_certPath, "cert.pem");
        private string KeyFile => Path.Combine(_certPath, "key.pem");

        /// <summary>Reads ca.pem, cert.pem and key.pem from the endpoint's certificate directory; unreadable files are EngineTlsError.</summary>
        public static EngineTls Load(EngineEndpoint endpoint)
        {
            var certPath = endpoint.CertPath ?? "";
            var engine = $"{endpoint.Kind} engine at {endpoint.Location}";
            var caFile = Path.Combine(certPath, "ca.pem");
            var authorities = Array.Empty<X509Certificate2>();
            if (endpoint.TlsVerify && File.Exists(caFile))
            {
                authorities = ReadCertificates(caFile, engine);
                if (authorities.Length == 0) throw TlsError(engine, $"{caFile} holds no PEM certificate", caFile, null);
            }
            return new EngineTls(endpoint, certPath, authorities, LoadClientCertificate(engine, Path.Combine(certPath, "cert.pem"), Path.Combine(certPath, "key.pem")));
        }

        public HttpMessageHandler ConfigureHandler(HttpMessageHandler handler)
        {
            // EngineClientFactory always picks the managed (LegacyHttp) transport for tcp://, whose handler this is.
            if (!(handler is ManagedHandler managed))
                throw new InvalidOperationException($"Unexpected engine transport handler {handler.GetType().FullName}.");
            managed.ClientCertificates = _clientCertificate is null ? new X509CertificateCollection() : new X509CertificateCollection { _clientCertificate };
            managed.ServerCertificateValidationCallback = Validate;
            return managed;
        }

        /// <summary>
        /// One TLS handshake with the engine, as the transport makes it (TLS 1.2, same certificates), bounded by
        /// <paramref name="cancellationToken"/>. Handshake failures become EngineCertificateUntrusted (the engine's
        /// certificate), EngineClientCertificateRequired / EngineTlsError (the engine refused us) or EngineTlsError (the
        /// other end does not speak TLS). Connection failures are left to the caller (EngineUnreachable).
        /// </summary>
        public async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
        {
            var host = _endpoint.Uri.DnsSafeHost;
            var port = _endpoint.Uri.Port > 0 ? _endpoint.Uri.Port : 2376;
            using var tcp = new TcpClient();
            // Neither ConnectAsync nor the handshake take a token in netstandard2.0: closing the socket ends both.
            using var closeOnCancel = cancellationToken.Register(() => tcp.Dispose());
            try
            {
                await tcp.ConnectAsync(host, port).ConfigureAwait(false);
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            string? rejection = null;
            using var watcher = new TlsHandshakeWatcher(tcp.GetStream());
            using var ssl = new SslStream(watcher, false, (sender, certificate, chain, errors) =>
            {
                rejection = Check(certificate, chain, errors);
                return rejection is null;
            });
            try
            {
                var clientCertificates = _clientCertificate is null ? new X509CertificateCollection() : new X509CertificateCollection { _clientCertificate };
                await ssl.AuthenticateAsClientAsync(host, clientCertificates, SslProtocols.Tls12, false).ConfigureAwait(false);
                return true;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (Exception e) when (e is AuthenticationException || e is IOException)
            {
                throw HandshakeFailure(rejection, watcher, e);
            }
        }

        private ImageModuleException HandshakeFailure(string? rejection, TlsHandshakeWatcher watcher, Exception e)
        {
            if (rejection != null) return Untrusted(rejection, e);
            if (watcher.PeerSpeaksTls != true)
                return new ImageModuleException(EngineErrors.TlsError, ErrorKind.ConnectionError,
                    $"The {Engine} did not complete a TLS handshake: it does not seem to speak TLS (a plain-HTTP engine usually listens on port 2375). " +
                    "Unset DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH for it, or give the engine's TLS port.", _endpoint.Location, e);
            var alert = watcher.Alert;
            var said = alert is null ? "closed the connection" : $"sent TLS alert {TlsHandshakeWatcher.AlertName(alert.Value)}";
            if (alert != null && !TlsHandshakeWatcher.IsCertificateAlert(alert.Value))
                return TlsError(Engine, $"the engine ended the handshake ({said})", _endpoint.Location, e);
            if (_clientCertificate is null)
                return new ImageModuleException(EngineErrors.ClientCertificateRequired, ErrorKind.AuthenticationError,
                    $"The {Engine} refused the TLS connection ({said}): it requires a client certificate and none was found " +
                    $"({CertFile} and {KeyFile}). Put the client certificate and key there, or set DOCKER_CERT_PATH to the directory that holds them.",
                    _endpoint.Location, e);
            return TlsError(Engine,
                $"the engine refused the client certificate {CertFile} ({said}; subject {_clientCertificate.Subject}, issued by {_clientCertificate.Issuer}): " +
                "it must be issued by the CA the engine trusts (dockerd --tlscacert) and allow client authentication", _endpoint.Location, e);
        }

        /// <summary>A transport failure explained by a refused engine certificate (for calls after the first handshake), else null.</summary>
        public ImageModuleException? Explain(Exception exception)
        {
            var rejection = Volatile.Read(ref _rejection);
            for (var e = exception; e != null; e = e.InnerException)
            {
                if (e is AuthenticationException)
                    return rejection != null ? Untrusted(rejection, exception) : TlsError(Engine, "the TLS handshake failed", _endpoint.Location, exception);
            }
            return null;
        }

        private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            var rejection = Check(certificate, chain, errors);
            Volatile.Write(ref _rejection, rejection);
            return rejection is null;
        }

        /// <summary>Why the engine's certificate is not trusted, or null when it is (always, without DOCKER_TLS_VERIFY).</summary>
        private string? Check(X509Certificate? certificate, X509Chain? presented, SslPolicyErrors errors)
        {
            if (!_endpoint.TlsVerify) return null;
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return "it presented no certificate";
            var server = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
                return $"the certificate ({server.Subject}) is not for {_endpoint.Uri.Host}, the host it was reached at";
            // Without ca.pem the system's roots decide (as for any HTTPS server); with it, only its certificates do,
            // as for the docker CLI (its pool is the CA file alone).
            if (_authorities.Length == 0)
                return errors == SslPolicyErrors.None ? null : $"it is issued by {server.Issuer}, which the system does not trust, and there is no {CaFile}";
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.ChainPolicy.ExtraStore.AddRange(_authorities);
            if (presented != null)
                foreach (var element in presented.ChainElements) chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            var built = chain.Build(server);
            var anchors = new HashSet<string>(_authorities.Select(a => a.Thumbprint), StringComparer.OrdinalIgnoreCase);
            var chained = chain.ChainElements.Cast<X509ChainElement>().Skip(1).Any(e => anchors.Contains(e.Certificate.Thumbprint));
            if (!chained) return $"it is issued by {server.Issuer}, not by a CA in {CaFile}";
            if (!built)
            {
                var status = chain.ChainStatus.Where(s => s.Status != X509ChainStatusFlags.UntrustedRoot && s.Status != X509ChainStatusFlags.NoError)
                    .Select(s => s.StatusInformation.Trim()).FirstOrDefault();
                if (status != null) return $"its chain to {CaFile} is not valid ({status})";
            }
            return null;
        }

        private ImageModuleException Untrusted(string reason, Exception inner) =>
            new(EngineErrors.CertificateUntrusted, ErrorKind.SecurityError,
                $"The {Engine} presented a certificate that is not trusted: {reason}. DOCKER_CERT_PATH/ca.pem must hold the CA that signed the engine's certificate (dockerd --tlscert).",
                _endpoint.Location, inner);

        private static ImageModuleException TlsError(string engine, string reason, object target, Exception? inner) =>
            new(EngineErrors.TlsError, ErrorKind.ConnectionError, $"TLS with the {engine} failed: {reason}.", target, inner);

        /// <summary>Every certificate in a PEM file (ca.pem may be a bundle).</summary>
        private static X509Certificate2[] ReadCertificates(string file, string engine)
        {
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            try
            {
                var text = File.ReadAllText(file);
                var certificates = new List<X509Certificate2>();
                for (var start = text.IndexOf(begin, StringComparison.Ordinal); start >= 0; start = text.IndexOf(begin, start + 1, StringComparison.Ordinal))
                {
                    var stop = text.IndexOf(end, start, StringComparison.Ordinal);
                    if (stop < 0) break;
                    var body = text.Substring(start + begin.Length, stop - start - begin.Length);
                    certificates.Add(new X509Certificate2(Convert.FromBase64String(body.Replace("\r", "").Replace("\n", "").Trim())));
                }
                return certificates.ToArray();
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is FormatException || e is System.Security.Cryptography.CryptographicException)
            {
                throw TlsError(engine, $"cannot read {file}: {e.Message}", file, e);
            }
        }

        /// <summary>
        /// cert.pem + key.pem as one certificate with its key, or null when neither exists. netstandard2.0 has no PEM
        /// key import, so this calls X509Certificate2.CreateFromPemFile where the running .NET has it (PowerShell 7);
        /// on Windows PowerShell 5.1 client certificates are refused with a clear error.
        /// </summary>
        private static X509Certificate2? LoadClientCertificate(string engine, string certFile, string keyFile)
        {
            var hasCert = File.Exists(certFile);
            var hasKey = File.Exists(keyFile);
            if (!hasCert && !hasKey) return null;
            if (!hasCert || !hasKey)
                throw TlsError(engine, $"{(hasCert ? certFile : keyFile)} has no companion {(hasCert ? keyFile : certFile)}; the client certificate needs both", hasCert ? certFile : keyFile, null);
            var method = typeof(X509Certificate2).GetMethod("CreateFromPemFile", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(string) }, null);
            if (method is null)
                throw TlsError(engine, $"reading the client certificate {certFile} needs PowerShell 7 (Windows PowerShell cannot read PEM keys)", certFile, null);
            X509Certificate2 certificate;
            try
            {
                certificate = (X509Certificate2)method.Invoke(null, new object[] { certFile, keyFile })!;
            }
            catch (TargetInvocationException e) when (e.InnerException != null)
            {
                throw TlsError(engine, $"cannot read the client certificate {certFile} with key {keyFile}: {e.InnerException.Message}", certFile, e.InnerException);
            }
            // Windows' TLS (SChannel) cannot use a key that only lives in memory: give it one from a PKCS#12 blob.
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                var pfx = certificate.Export(X509ContentType.Pkcs12);
                certificate.Dispose();
                certificate = new X509Certificate2(pfx);
            }
            return certificate;
        }
    }
}
