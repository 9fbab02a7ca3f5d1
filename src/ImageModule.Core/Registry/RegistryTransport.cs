using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Security;
using System.Reflection;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>
    /// The bottom of the registry handler chain: TLS trust and the scheme. Requests are built as https://; a registry
    /// on loopback or marked insecure that answers the TLS handshake with plain HTTP is then spoken to over HTTP, as
    /// docker does. Certificates are verified against the system's roots plus the registry's configured CA file;
    /// only an insecure registry skips verification.
    /// </summary>
    public sealed class RegistryTransport : DelegatingHandler
    {
        private readonly string _host;
        private readonly bool _mayUseHttp;
        private volatile bool _useHttp;
        private int _untrusted;

        private RegistryTransport(string host, bool mayUseHttp, HttpMessageHandler inner) : base(inner)
        {
            _host = host;
            _mayUseHttp = mayUseHttp;
        }

        public static RegistryTransport Create(string host, RegistryHostSettings settings, TimeSpan? connectTimeout = null)
        {
            var authorities = LoadAuthorities(settings.CertificateAuthority);
            RegistryTransport? transport = null;
            bool Validate(X509Certificate? certificate, SslPolicyErrors errors)
            {
                if (errors == SslPolicyErrors.None || settings.Insecure) return true;
                if (certificate != null && authorities.Count > 0 && errors == SslPolicyErrors.RemoteCertificateChainErrors && ChainsTo(certificate, authorities)) return true;
                Interlocked.Exchange(ref transport!._untrusted, 1);
                return false;
            }
            var connect = connectTimeout ?? settings.Timeouts.Connect;
            // Redirects are followed by RedirectHandler (one place for the credential and loop rules), never here.
            var inner = SocketsHandler(connect, (_, certificate, _, errors) => Validate(certificate, errors))
                ?? new HttpClientHandler { AllowAutoRedirect = false, ServerCertificateCustomValidationCallback = (_, certificate, _, errors) => Validate(certificate, errors) };
            transport = new RegistryTransport(host, settings.Insecure || RegistryRepository.IsLoopback(host), inner);
            return transport;
        }

        /// <summary>
        /// SocketsHttpHandler where the runtime has it (PowerShell 7), for its ConnectTimeout: netstandard2.0 cannot
        /// name the type, and HttpClientHandler has no connect timeout. Windows PowerShell 5.1 gets HttpClientHandler,
        /// where the response timeout bounds connecting too.
        /// </summary>
        private static HttpMessageHandler? SocketsHandler(TimeSpan connectTimeout, RemoteCertificateValidationCallback validate)
        {
            var type = Type.GetType("System.Net.Http.SocketsHttpHandler, System.Net.Http", throwOnError: false);
            if (type is null) return null;
            if (type.GetProperty("IsSupported", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is false) return null;
            var redirect = type.GetProperty("AllowAutoRedirect");
            var connect = type.GetProperty("ConnectTimeout");
            var sslOptions = type.GetProperty("SslOptions");
            if (redirect is null || connect is null || sslOptions is null) return null;
            var handler = (HttpMessageHandler)Activator.CreateInstance(type)!;
            redirect.SetValue(handler, false);
            connect.SetValue(handler, connectTimeout);
            var ssl = sslOptions.GetValue(handler);
            var callback = ssl?.GetType().GetProperty("RemoteCertificateValidationCallback");
            if (ssl is null || callback is null)
            {
                handler.Dispose();
                return null;
            }
            callback.SetValue(ssl, validate);
            return handler;
        }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var ours = request.RequestUri != null && string.Equals(request.RequestUri.Authority, _host, StringComparison.OrdinalIgnoreCase);
            if (ours && _useHttp) request.RequestUri = WithHttp(request.RequestUri!);
            try
            {
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            // Requests sent in parallel before the first answer all try https; each that fails its handshake goes
            // over HTTP, whichever of them found out first.
            catch (HttpRequestException e) when (ours && request.RequestUri!.Scheme == "https" && IsHandshakeFailure(e))
            {
                if (!_useHttp && Volatile.Read(ref _untrusted) == 1)
                    throw new ImageModuleException("RegistryCertificateUntrusted", ErrorKind.SecurityError,
                        $"The certificate of registry {_host} is not trusted. Add its CA with Set-ImageRegistrySetting -Registry {_host} -CertificateAuthority <pem file>, or, only if you accept the risk, -Insecure.", _host, e);
                if (!_mayUseHttp || (request.Content != null && !(request.Content is ByteArrayContent))) throw;
                _useHttp = true;
                request.RequestUri = WithHttp(request.RequestUri);
                return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
        }

        private static Uri WithHttp(Uri uri) => new UriBuilder(uri) { Scheme = "http", Port = uri.Port }.Uri;

        private static bool IsHandshakeFailure(HttpRequestException e)
        {
            for (Exception? inner = e.InnerException; inner != null; inner = inner.InnerException)
                if (inner is AuthenticationException) return true;
            return e.InnerException is IOException;
        }

        private static X509Certificate2Collection LoadAuthorities(string? pemFile)
        {
            var collection = new X509Certificate2Collection();
            if (string.IsNullOrEmpty(pemFile)) return collection;
            string text;
            try
            {
                text = File.ReadAllText(pemFile);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                throw new ImageModuleException("RegistryCertificateAuthorityUnreadable", ErrorKind.ReadError, $"Cannot read the CA file {pemFile}: {e.Message}", pemFile, e);
            }
            const string begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
            for (var at = text.IndexOf(begin, StringComparison.Ordinal); at >= 0; at = text.IndexOf(begin, at + 1, StringComparison.Ordinal))
            {
                var stop = text.IndexOf(end, at, StringComparison.Ordinal);
                if (stop < 0) break;
                var base64 = text.Substring(at + begin.Length, stop - at - begin.Length);
                collection.Add(new X509Certificate2(Convert.FromBase64String(string.Concat(base64.Where(c => !char.IsWhiteSpace(c))))));
            }
            if (collection.Count == 0)
                throw new ImageModuleException("RegistryCertificateAuthorityUnreadable", ErrorKind.InvalidData, $"{pemFile} holds no PEM certificate.", pemFile);
            return collection;
        }

        /// <summary>Builds the chain with the configured CAs as extra roots and accepts it only if it ends at one of them.</summary>
        private static bool ChainsTo(X509Certificate certificate, X509Certificate2Collection authorities)
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.ChainPolicy.ExtraStore.AddRange(authorities);
            var leaf = certificate as X509Certificate2 ?? new X509Certificate2(certificate);
            if (!chain.Build(leaf)) return false;
            var root = chain.ChainElements[chain.ChainElements.Count - 1].Certificate;
            return authorities.Cast<X509Certificate2>().Any(a => a.Thumbprint == root.Thumbprint);
        }
    }
}
