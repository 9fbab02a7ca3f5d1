using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using System.Threading;

namespace ImageModule.Testing
{
    /// <summary>How a test registry is configured: auth, TLS, pull-through proxy.</summary>
    public sealed record RegistryOptions
    {
        public string? User { get; init; }
        public string? Password { get; init; }
        /// <summary>Serve HTTPS with a certificate generated for the test (its PEM is the CA to trust).</summary>
        public bool Tls { get; init; }
        /// <summary>Bearer-token auth: the registry trusts tokens this issuer signs.</summary>
        public TokenIssuer? Token { get; init; }
        /// <summary>A pull-through mirror of this registry URL (distribution's proxy.remoteurl).</summary>
        public string? ProxyOf { get; init; }
    }

    /// <summary>One line of the registry's access log: what it was asked and what it answered.</summary>
    public sealed record RegistryRequest(string Method, string Target, int Status)
    {
        public string Path => Target.Split('?')[0];
        public override string ToString() => $"{Method} {Target} {Status}";
    }

    /// <summary>
    /// A real CNCF distribution registry (Debian's docker-registry) on a random 127.0.0.1 port with a temp root:
    /// anonymous, htpasswd basic auth, token auth, TLS or a pull-through mirror. It can be stopped and started again
    /// on the same port and root. Killed on dispose. Its access log is kept in <see cref="Requests"/>, so tests count
    /// what a command really asked for; its other output is drained, never shown.
    /// </summary>
    public sealed class RegistryFixture : IDisposable
    {
        private readonly RegistryOptions _options;
        private readonly string _config;
        private readonly ConcurrentQueue<RegistryRequest> _requests = new();
        private readonly List<string> _log = new();
        private Process? _process;
        private static readonly Regex AccessLogLine = new("\"([A-Z]+) (\\S+) HTTP/[0-9.]+\" ([0-9]{3}) ", RegexOptions.Compiled);

        public RegistryFixture(string? user = null, string? password = null) : this(new RegistryOptions { User = user, Password = password }) { }

        public RegistryFixture(RegistryOptions options)
        {
            _options = options;
            Root = Path.Combine(Path.GetTempPath(), "imagemodule-registry-" + Guid.NewGuid().ToString("N").Substring(0, 10));
            Directory.CreateDirectory(Root);
            var auth = "";
            if (options.User != null && options.Token is null)
            {
                var htpasswd = Path.Combine(Root, "htpasswd");
                File.WriteAllText(htpasswd, ExternalTool.Run("htpasswd", "-Bbn", options.User, options.Password!));
                auth = $"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n";
            }
            if (options.Token != null)
            {
                auth = $"auth:\n  token:\n    realm: {options.Token.Realm}\n    service: {TokenIssuer.Service}\n    issuer: {TokenIssuer.Issuer}\n    rootcertbundle: {options.Token.RootCertificateBundle}\n";
            }
            var tls = "";
            if (options.Tls)
            {
                Certificate = TestCertificate.Create(Root, "registry");
                tls = $"  tls:\n    certificate: {Certificate.CertificatePath}\n    key: {Certificate.KeyPath}\n";
            }
            var proxy = options.ProxyOf is null ? "" : $"proxy:\n  remoteurl: {options.ProxyOf}\n";
            _config = Path.Combine(Root, "config.yml");
            _rest = tls + auth + proxy;
            // A port picked here can be taken by another process before the registry binds it (suites run in
            // parallel): a start that fails to bind tries another port, a bounded number of times.
            for (var attempt = 1; ; attempt++)
            {
                Port = FreePort();
                WriteConfig();
                try { Start(); break; }
                catch (InvalidOperationException) when (attempt < 5 && BindFailed) { }
                catch { Dispose(); throw; }
            }
        }

        private readonly string _rest;

        private void WriteConfig() => File.WriteAllText(_config,
            "version: 0.1\n" +
            "log:\n  level: warn\n" +
            $"storage:\n  filesystem:\n    rootdirectory: {DataRoot}\n  delete:\n    enabled: true\n" +
            $"http:\n  addr: 127.0.0.1:{Port}\n" + _rest);

        private bool BindFailed { get { lock (_log) return _log.Any(l => l.Contains("address already in use", StringComparison.Ordinal)); } }

        public string Root { get; }
        public string DataRoot => Path.Combine(Root, "data");
        public int Port { get; private set; }
        /// <summary>Every request the registry logged, in order (across restarts).</summary>
        public IReadOnlyList<RegistryRequest> Requests => _requests.ToArray();
        public string Host => $"127.0.0.1:{Port}";
        public string Url => $"{(_options.Tls ? "https" : "http")}://{Host}";
        /// <summary>The TLS certificate (also the CA to trust) when the registry serves HTTPS.</summary>
        public TestCertificate? Certificate { get; }
        public bool Running => _process is { HasExited: false };

        public static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        /// <summary>Starts the registry (again, on the same port and root) and waits until it answers /v2/.</summary>
        public void Start()
        {
            lock (_log) _log.Clear();
            _process = ExternalTool.StartService("docker-registry", new[] { "serve", _config }, OnOutput);
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
            using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try
                {
                    using var response = http.GetAsync($"{Url}/v2/").GetAwaiter().GetResult();
                    if (response.StatusCode == HttpStatusCode.OK || response.StatusCode == HttpStatusCode.Unauthorized) break;
                }
                catch (HttpRequestException) { }
                catch (System.Threading.Tasks.TaskCanceledException) { }
                if (DateTime.UtcNow > deadline || _process.HasExited)
                {
                    Kill();
                    string log;
                    lock (_log) log = string.Join("\n", _log.TakeLast(10));
                    throw new InvalidOperationException("docker-registry did not start: " + log);
                }
                Thread.Sleep(100);
            }
        }

        /// <summary>
        /// The requests logged after the first <paramref name="mark"/> ones (a count of <see cref="Requests"/> taken
        /// before). The log is read asynchronously, so this sends a marker request and waits (bounded) until the marker
        /// is logged: everything a finished command asked for was logged before it.
        /// </summary>
        public IReadOnlyList<RegistryRequest> RequestsSince(int mark)
        {
            var marker = "/v2/?marker=" + Guid.NewGuid().ToString("N");
            using (var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true })
            using (var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) })
            using (http.GetAsync(Url + marker).GetAwaiter().GetResult()) { }
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                var all = Requests;
                var at = all.ToList().FindIndex(mark, r => r.Target == marker);
                if (at >= 0) return all.Skip(mark).Take(at - mark).ToList();
                if (DateTime.UtcNow > deadline) throw new TimeoutException("the registry never logged the marker request");
                Thread.Sleep(20);
            }
        }

        private void OnOutput(string line)
        {
            var match = AccessLogLine.Match(line);
            if (match.Success) _requests.Enqueue(new RegistryRequest(match.Groups[1].Value, match.Groups[2].Value, int.Parse(match.Groups[3].Value)));
            else lock (_log) _log.Add(line);
        }

        /// <summary>Kills the registry process (as a crash would), leaving its data.</summary>
        public void Kill()
        {
            ExternalTool.StopService(_process);
            _process = null;
        }

        /// <summary>The file a blob is stored in, to corrupt it in fault tests.</summary>
        public string BlobDataPath(string digest)
        {
            var hex = digest.Substring(digest.IndexOf(':') + 1);
            return Path.Combine(DataRoot, "docker", "registry", "v2", "blobs", "sha256", hex.Substring(0, 2), hex, "data");
        }

        public void Dispose()
        {
            Kill();
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
