using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// A real CNCF distribution registry (Debian's docker-registry) on a random 127.0.0.1 port with a temp root,
    /// optionally behind htpasswd basic auth. Killed on dispose.
    /// </summary>
    public sealed class RegistryFixture : IDisposable
    {
        private readonly Process _process;

        public RegistryFixture(string? user = null, string? password = null)
        {
            Root = Path.Combine(Path.GetTempPath(), "imagemodule-registry-" + Guid.NewGuid().ToString("N").Substring(0, 10));
            Directory.CreateDirectory(Root);
            Port = FreePort();
            var auth = "";
            if (user != null)
            {
                var htpasswd = Path.Combine(Root, "htpasswd");
                File.WriteAllText(htpasswd, ExternalTool.Run("htpasswd", "-Bbn", user, password!));
                auth = $"auth:\n  htpasswd:\n    realm: test\n    path: {htpasswd}\n";
            }
            var config = Path.Combine(Root, "config.yml");
            File.WriteAllText(config,
                "version: 0.1\n" +
                "log:\n  level: warn\n" +
                $"storage:\n  filesystem:\n    rootdirectory: {Path.Combine(Root, "data")}\n  delete:\n    enabled: true\n" +
                $"http:\n  addr: 127.0.0.1:{Port}\n" + auth);
            var psi = new ProcessStartInfo("docker-registry") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("serve");
            psi.ArgumentList.Add(config);
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                try
                {
                    using var response = http.GetAsync($"http://127.0.0.1:{Port}/v2/").GetAwaiter().GetResult();
                    if (response.StatusCode == HttpStatusCode.OK || response.StatusCode == HttpStatusCode.Unauthorized) break;
                }
                catch (HttpRequestException) { }
                if (DateTime.UtcNow > deadline || _process.HasExited) { Dispose(); throw new InvalidOperationException("docker-registry did not start"); }
                Thread.Sleep(100);
            }
        }

        public string Root { get; }
        public int Port { get; }
        public string Host => $"127.0.0.1:{Port}";

        private static int FreePort()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            return port;
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) { _process.Kill(entireProcessTree: true); _process.WaitForExit(5000); } }
            catch (InvalidOperationException) { }
            _process.Dispose();
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
