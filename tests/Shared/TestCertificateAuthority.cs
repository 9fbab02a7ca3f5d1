using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ImageModule.Testing
{
    /// <summary>
    /// A private CA made in the test, issuing server certificates (IP SAN 127.0.0.1, serverAuth) and client certificates
    /// (clientAuth), written as PEM files the way docker lays them out (ca.pem, cert.pem, key.pem).
    /// </summary>
    public sealed class TestCertificateAuthority : IDisposable
    {
        private readonly RSA _key;

        public TestCertificateAuthority(string name)
        {
            _key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(2));
        }

        /// <summary>The CA's certificate (with its key).</summary>
        public X509Certificate2 Certificate { get; }

        /// <summary>Writes the CA certificate as <paramref name="path"/> (ca.pem).</summary>
        public void WriteCertificate(string path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");
        }

        /// <summary>A server certificate for 127.0.0.1 (and <paramref name="dnsNames"/>), as certFile/keyFile (PKCS#8 key).</summary>
        public void IssueServer(string certFile, string keyFile, params string[] dnsNames)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            foreach (var dns in dnsNames) names.AddDnsName(dns);
            Issue("CN=engine", certFile, keyFile, names.Build(), new Oid("1.3.6.1.5.5.7.3.1"), X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, pkcs1: false);
        }

        /// <summary>A client certificate (clientAuth), as certFile/keyFile (PKCS#1 "RSA PRIVATE KEY", as older openssl writes).</summary>
        public void IssueClient(string certFile, string keyFile) =>
            Issue("CN=client", certFile, keyFile, null, new Oid("1.3.6.1.5.5.7.3.2"), X509KeyUsageFlags.DigitalSignature, pkcs1: true);

        private void Issue(string subject, string certFile, string keyFile, X509Extension? names, Oid usage, X509KeyUsageFlags keyUsage, bool pkcs1)
        {
            using var key = RSA.Create(2048);
            var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            if (names != null) request.CertificateExtensions.Add(names);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(keyUsage, true));
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { usage }, false));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
            var serial = new byte[12];
            RandomNumberGenerator.Fill(serial);
            serial[0] &= 0x7f;
            using var certificate = request.Create(Certificate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
            Directory.CreateDirectory(Path.GetDirectoryName(certFile)!);
            Directory.CreateDirectory(Path.GetDirectoryName(keyFile)!);
            File.WriteAllText(certFile, certificate.ExportCertificatePem() + "\n");
            File.WriteAllText(keyFile, (pkcs1 ? key.ExportRSAPrivateKeyPem() : key.ExportPkcs8PrivateKeyPem()) + "\n");
        }

        public void Dispose()
        {
            Certificate.Dispose();
            _key.Dispose();
        }
    }
}
