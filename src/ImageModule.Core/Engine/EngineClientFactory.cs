using System;
using System.IO;
using System.Linq;
using System.Net.Security;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using Docker.DotNet;
using Docker.DotNet.LegacyHttp;

namespace ImageModule.Engine
{
    /// <summary>Builds Docker.DotNet clients for an endpoint: unix sockets and named pipes as they are, tcp:// as HTTP or TLS.</summary>
    internal static class EngineClientFactory
    {
        public static DockerClient Create(EngineEndpoint endpoint, Version? apiVersion)
        {
            var uri = endpoint.Uri;
            if (uri.Scheme == "tcp")
                uri = new UriBuilder(uri) { Scheme = endpoint.UsesTls ? "https" : "http" }.Uri;
            // Streams (save, load) may run for as long as the image is large: no overall time-out. Connecting is bounded by
            // EngineStore's connect time-out, and every call by the cmdlet's cancellation (Ctrl+C).
            var builder = new DockerClientBuilder().WithEndpoint(uri).WithTimeout(Timeout.InfiniteTimeSpan);
            if (apiVersion != null) builder = builder.WithApiVersion(apiVersion);
            return endpoint.UsesTls ? BuildWithTls(builder, endpoint) : builder.Build();
        }

        // Kept out of Create: the TLS options type differs between the package's netstandard2.0 and net8+ builds, and the
        // JIT resolves it only when this method runs, so plain unix/npipe/tcp clients never depend on it.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static DockerClient BuildWithTls(DockerClientBuilder builder, EngineEndpoint endpoint)
        {
            var certPath = endpoint.CertPath ?? "";
            var client = LoadClientCertificate(Path.Combine(certPath, "cert.pem"), Path.Combine(certPath, "key.pem"));
            var ca = File.Exists(Path.Combine(certPath, "ca.pem")) ? new X509Certificate2(Path.Combine(certPath, "ca.pem")) : null;
            return builder.WithTransportOptions(new LegacyHttpTransportOptions
            {
                ConfigureHandler = handler =>
                {
                    if (client != null) handler.ClientCertificates = new X509CertificateCollection { client };
                    handler.ServerCertificateValidationCallback = (_, certificate, _, errors) =>
                        !endpoint.TlsVerify || errors == SslPolicyErrors.None || (ca != null && IssuedBy(certificate, ca, errors));
                },
            }).Build();
        }

        /// <summary>The engine's certificate chains to DOCKER_CERT_PATH/ca.pem (a private CA, as `dockerd --tlsverify` setups use).</summary>
        private static bool IssuedBy(X509Certificate? certificate, X509Certificate2 ca, SslPolicyErrors errors)
        {
            if (certificate is null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllowUnknownCertificateAuthority;
            chain.ChainPolicy.ExtraStore.Add(ca);
            if (!chain.Build(new X509Certificate2(certificate))) return false;
            var root = chain.ChainElements.Cast<X509ChainElement>().Last().Certificate;
            return root.Thumbprint == ca.Thumbprint;
        }

        /// <summary>
        /// cert.pem + key.pem as one certificate with its key. netstandard2.0 has no PEM key import, so this uses
        /// X509Certificate2.CreateFromPemFile where the running .NET has it (PowerShell 7); elsewhere TLS client
        /// authentication is refused with a clear error.
        /// </summary>
        private static X509Certificate2? LoadClientCertificate(string certFile, string keyFile)
        {
            if (!File.Exists(certFile) || !File.Exists(keyFile)) return null;
            var method = typeof(X509Certificate2).GetMethod("CreateFromPemFile", BindingFlags.Public | BindingFlags.Static, null, new[] { typeof(string), typeof(string) }, null);
            if (method is null)
                throw new ImageModuleException(EngineErrors.InvalidEngine, ErrorKind.InvalidOperation,
                    "TLS client certificates (DOCKER_CERT_PATH) need PowerShell 7; Windows PowerShell cannot read PEM keys.", certFile);
            return (X509Certificate2)method.Invoke(null, new object[] { certFile, keyFile })!;
        }
    }
}
