using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Testing
{
    /// <summary>
    /// A bearer-token service for a real registry (distribution's token auth): checks Basic credentials, then signs
    /// an RS256 JWT granting the requested scope, with its certificate in the x5c header so the registry verifies it
    /// against the rootcertbundle. Anonymous requests get a token that grants nothing.
    /// </summary>
    public sealed class TokenIssuer : IDisposable
    {
        public const string Service = "imagemodule-test-registry";
        public const string Issuer = "imagemodule-test-issuer";
        private readonly HttpListener _listener = new();
        private readonly TestCertificate _certificate;
        private readonly string _user;
        private readonly string _password;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _serving;
        private int _issued;

        public TokenIssuer(string directory, string user, string password, TimeSpan? lifetime = null)
        {
            _certificate = TestCertificate.Create(directory, "token-issuer");
            _user = user;
            _password = password;
            Lifetime = lifetime ?? TimeSpan.FromMinutes(5);
            for (var attempt = 0; ; attempt++)
            {
                Port = RegistryFixture.FreePort();
                _listener.Prefixes.Clear();
                _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
                try { _listener.Start(); break; }
                catch (HttpListenerException) when (attempt < 5) { }
            }
            _serving = Task.Run(ServeAsync);
        }

        public int Port { get; }
        public TimeSpan Lifetime { get; set; }
        public string Realm => $"http://127.0.0.1:{Port}/token";
        public string RootCertificateBundle => _certificate.CertificatePath;
        public int TokensIssued => Volatile.Read(ref _issued);
        public List<string> Accounts { get; } = new();

        private async Task ServeAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                HttpListenerContext context;
                try { context = await _listener.GetContextAsync().ConfigureAwait(false); }
                catch (Exception) when (_stop.IsCancellationRequested) { return; }
                catch (HttpListenerException) { return; }
                catch (ObjectDisposedException) { return; }
                try { Answer(context); }
                catch (Exception) { context.Response.StatusCode = 500; }
                finally { context.Response.Close(); }
            }
        }

        private void Answer(HttpListenerContext context)
        {
            var header = context.Request.Headers["Authorization"];
            string? account = null;
            if (header != null && header.StartsWith("Basic ", StringComparison.Ordinal))
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Substring(6))).Split(':', 2);
                if (pair.Length != 2 || pair[0] != _user || pair[1] != _password)
                {
                    context.Response.StatusCode = 401;
                    return;
                }
                account = pair[0];
            }
            lock (Accounts) Accounts.Add(account ?? "<anonymous>");
            var scopes = context.Request.QueryString.GetValues("scope") ?? Array.Empty<string>();
            var access = account is null ? new List<object>() : scopes.Select(Access).Where(a => a != null).Select(a => a!).ToList();
            var token = Sign(account ?? "", access);
            Interlocked.Increment(ref _issued);
            var body = JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = (int)Lifetime.TotalSeconds, issued_at = DateTime.UtcNow.ToString("o") });
            context.Response.ContentType = "application/json";
            context.Response.OutputStream.Write(body, 0, body.Length);
        }

        /// <summary>"repository:team/app:pull,push" → the JWT access claim.</summary>
        private static object? Access(string scope)
        {
            var parts = scope.Split(':');
            if (parts.Length < 3) return null;
            var name = string.Join(":", parts.Skip(1).Take(parts.Length - 2));
            return new { type = parts[0], name, actions = parts[parts.Length - 1].Split(',') };
        }

        private string Sign(string subject, List<object> access)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            var head = new { alg = "RS256", typ = "JWT", x5c = new[] { Convert.ToBase64String(_certificate.Certificate.RawData) } };
            var claims = new
            {
                iss = Issuer, sub = subject, aud = Service, iat = now, nbf = now - 5,
                exp = now + (long)Math.Max(1, Lifetime.TotalSeconds), jti = Guid.NewGuid().ToString("N"), access,
            };
            var signingInput = Base64Url(JsonSerializer.SerializeToUtf8Bytes(head)) + "." + Base64Url(JsonSerializer.SerializeToUtf8Bytes(claims));
            var signature = _certificate.Key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            return signingInput + "." + Base64Url(signature);
        }

        private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        public void Dispose()
        {
            _stop.Cancel();
            try { _listener.Stop(); _listener.Close(); } catch (ObjectDisposedException) { }
            try { _serving.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        }
    }
}
