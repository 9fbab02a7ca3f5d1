using System;
using System.IO;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace ImageModule.Testing
{
    /// <summary>A self-signed certificate made in the test (its own CA), written as PEM files.</summary>
    public sealed class TestCertificate
    {
        private TestCertificate(string certificatePath, string keyPath, X509Certificate2 certificate, RSA key)
        {
            CertificatePath = certificatePath;
            KeyPath = keyPath;
            Certificate = certificate;
            Key = key;
        }

        public string CertificatePath { get; }
        public string KeyPath { get; }
        public X509Certificate2 Certificate { get; }
        public RSA Key { get; }

        /// <summary>A CA-capable certificate for 127.0.0.1 and localhost, valid for a day.</summary>
        public static TestCertificate Create(string directory, string name)
        {
            var key = RSA.Create(2048);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.KeyCertSign, false));
            var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            Directory.CreateDirectory(directory);
            var certificatePath = Path.Combine(directory, name + ".pem");
            var keyPath = Path.Combine(directory, name + ".key");
            File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
            return new TestCertificate(certificatePath, keyPath, certificate, key);
        }
    }
}
