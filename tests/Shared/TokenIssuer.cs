using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Sockets;
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
    /// <remarks>
    /// Served on raw sockets from a listener bound to port 0 before the constructor returns: no port is picked, released
    /// and raced for (HttpListener on a "free" port failed with "address already in use" when suites ran in parallel).
    /// One request per connection (Connection: close); every read is bounded.
    /// </remarks>
    public sealed class TokenIssuer : IDisposable
    {
        public const string Service = "imagemodule-test-registry";
        public const string Issuer = "imagemodule-test-issuer";
        private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(30);
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
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
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
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
            var connections = new List<Task>();
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
                catch (SocketException) { break; }
                catch (ObjectDisposedException) { break; }
                connections.RemoveAll(t => t.IsCompleted);
                connections.Add(Task.Run(() => AnswerAsync(client)));
            }
            await Task.WhenAll(connections).ConfigureAwait(false);
        }

        private async Task AnswerAsync(TcpClient client)
        {
            using var _ = client;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            timeout.CancelAfter(ReadTimeout);
            try
            {
                var stream = client.GetStream();
                var (target, headers) = await ReadRequestAsync(stream, timeout.Token).ConfigureAwait(false);
                var (status, body) = Answer(target, headers);
                var head = $"HTTP/1.1 {status} {(status == 200 ? "OK" : "Unauthorized")}\r\nContent-Type: application/json\r\n" +
                           $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token).ConfigureAwait(false);
                await stream.WriteAsync(body, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or FormatException) { }
        }

        /// <summary>The request line's target and the headers (names lower-cased); a token request has no body.</summary>
        private static async Task<(string Target, Dictionary<string, string> Headers)> ReadRequestAsync(NetworkStream stream, CancellationToken cancellationToken)
        {
            var buffer = new byte[16 * 1024];
            var length = 0;
            while (true)
            {
                var text = Encoding.ASCII.GetString(buffer, 0, length);
                var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (end >= 0)
                {
                    var lines = text.Substring(0, end).Split("\r\n");
                    var requestLine = lines[0].Split(' ');
                    if (requestLine.Length < 3) throw new FormatException("bad request line");
                    var headers = new Dictionary<string, string>();
                    foreach (var line in lines.Skip(1))
                    {
                        var colon = line.IndexOf(':');
                        if (colon > 0) headers[line.Substring(0, colon).Trim().ToLowerInvariant()] = line.Substring(colon + 1).Trim();
                    }
                    return (requestLine[1], headers);
                }
                if (length == buffer.Length) throw new FormatException("request head too large");
                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0) throw new IOException("connection closed before the request was complete");
                length += read;
            }
        }

        private (int Status, byte[] Body) Answer(string target, Dictionary<string, string> headers)
        {
            string? account = null;
            if (headers.TryGetValue("authorization", out var header) && header.StartsWith("Basic ", StringComparison.Ordinal))
            {
                var pair = Encoding.UTF8.GetString(Convert.FromBase64String(header.Substring(6))).Split(':', 2);
                if (pair.Length != 2 || pair[0] != _user || pair[1] != _password) return (401, Encoding.UTF8.GetBytes("{}"));
                account = pair[0];
            }
            lock (Accounts) Accounts.Add(account ?? "<anonymous>");
            var query = target.Contains('?') ? target.Substring(target.IndexOf('?') + 1) : "";
            var scopes = query.Split('&', StringSplitOptions.RemoveEmptyEntries)
                .Select(p => p.Split('=', 2))
                .Where(p => p.Length == 2 && p[0] == "scope")
                .Select(p => Uri.UnescapeDataString(p[1].Replace('+', ' ')))
                .ToArray();
            var access = account is null ? new List<object>() : scopes.Select(Access).Where(a => a != null).Select(a => a!).ToList();
            var token = Sign(account ?? "", access);
            Interlocked.Increment(ref _issued);
            return (200, JsonSerializer.SerializeToUtf8Bytes(new { token, access_token = token, expires_in = (int)Lifetime.TotalSeconds, issued_at = DateTime.UtcNow.ToString("o") }));
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
            _listener.Stop();
            try { _serving.Wait(TimeSpan.FromSeconds(10)); } catch (AggregateException) { }
            _stop.Dispose();
        }
    }
}
