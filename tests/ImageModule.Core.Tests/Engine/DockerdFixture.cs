using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Net.Sockets;
using System.Threading;

namespace ImageModule.Tests.Engine
{
    /// <summary>
    /// A real Docker engine for the engine tests: vfs storage, no iptables, no bridge, its own data root, exec root,
    /// pid file and socket under a temp directory (dockerd starts its own containerd there). Stopped on dispose (SIGTERM,
    /// a bounded wait, then kill) and its mounts undone. If dockerd cannot start, <see cref="StartError"/> says why and
    /// the tests fail with it.
    /// </summary>
    public class DockerdFixture : IDisposable
    {
        private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(45);
        private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(20);
        private readonly Process? _dockerd;
        private readonly List<string> _log = new();

        public DockerdFixture() : this(null)
        {
        }

        /// <param name="extraArguments">More dockerd arguments, given the fixture's root directory (e.g. a TLS listener).</param>
        protected DockerdFixture(Func<string, IEnumerable<string>>? extraArguments)
        {
            Root = Path.Combine("/tmp", "imd-engine-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(Root);
            Socket = Path.Combine(Root, "docker.sock");
            var psi = new ProcessStartInfo("/usr/sbin/dockerd") { RedirectStandardOutput = true, RedirectStandardError = true };
            var arguments = new List<string>
            {
                "--storage-driver=vfs", "--iptables=false", "--ip6tables=false", "--bridge=none",
                "--data-root", Path.Combine(Root, "data"), "--exec-root", Path.Combine(Root, "exec"),
                "--pidfile", Path.Combine(Root, "docker.pid"), "--host", "unix://" + Socket,
            };
            if (extraArguments != null) arguments.AddRange(extraArguments(Root));
            foreach (var a in arguments)
                psi.ArgumentList.Add(a);
            try
            {
                _dockerd = Process.Start(psi)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                StartError = "dockerd could not be run: " + e.Message;
                return;
            }
            _dockerd.OutputDataReceived += (_, e) => Log(e.Data);
            _dockerd.ErrorDataReceived += (_, e) => Log(e.Data);
            _dockerd.BeginOutputReadLine();
            _dockerd.BeginErrorReadLine();
            var deadline = DateTime.UtcNow + StartTimeout;
            while (!Ping())
            {
                if (_dockerd.HasExited || DateTime.UtcNow > deadline)
                {
                    StartError = $"dockerd did not answer /_ping within {StartTimeout.TotalSeconds} s (exited: {_dockerd.HasExited}). Last log lines:\n" + string.Join("\n", Tail(20));
                    return;
                }
                Thread.Sleep(200);
            }
        }

        /// <summary>The first "API listen on 127.0.0.1:PORT" dockerd logged for a tcp:// host (port 0 = any free port), waited for within <paramref name="timeout"/>.</summary>
        protected int WaitForTcpPort(TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (true)
            {
                lock (_log)
                {
                    foreach (var line in _log)
                    {
                        var at = line.IndexOf("API listen on 127.0.0.1:", StringComparison.Ordinal);
                        if (at < 0) continue;
                        var digits = new string(line.Substring(at + "API listen on 127.0.0.1:".Length).TakeWhile(char.IsDigit).ToArray());
                        if (int.TryParse(digits, out var port)) return port;
                    }
                }
                if (_dockerd is null || _dockerd.HasExited || DateTime.UtcNow > deadline)
                    throw new InvalidOperationException("dockerd did not log a tcp listener. Last log lines:\n" + string.Join("\n", Tail(20)));
                Thread.Sleep(100);
            }
        }

        public string Root { get; }
        public string Socket { get; }
        public string Uri => "unix://" + Socket;
        public string? StartError { get; }

        /// <summary>Fails the calling test with the recorded reason if the engine is not running.</summary>
        public void EnsureRunning()
        {
            if (StartError != null) throw new InvalidOperationException(StartError);
        }

        private void Log(string? line)
        {
            if (line is null) return;
            lock (_log)
            {
                _log.Add(line);
                if (_log.Count > 200) _log.RemoveAt(0);
            }
        }

        private IEnumerable<string> Tail(int count)
        {
            lock (_log) return _log.GetRange(Math.Max(0, _log.Count - count), Math.Min(count, _log.Count)).ToArray();
        }

        private bool Ping()
        {
            if (!File.Exists(Socket)) return false;
            try
            {
                using var handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (_, ct) =>
                    {
                        var s = new System.Net.Sockets.Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                        await s.ConnectAsync(new UnixDomainSocketEndPoint(Socket), ct);
                        return new NetworkStream(s, ownsSocket: true);
                    },
                };
                using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
                return http.GetStringAsync("http://docker/_ping").GetAwaiter().GetResult() == "OK";
            }
            catch (Exception e) when (e is HttpRequestException || e is SocketException || e is System.Threading.Tasks.TaskCanceledException || e is IOException)
            {
                return false;
            }
        }

        /// <summary>Runs the docker CLI against this engine (bounded); returns stdout, throws with stderr on failure.</summary>
        public string Docker(params string[] arguments) => Run(new Dictionary<string, string>(), arguments);

        public string Run(IDictionary<string, string> environment, params string[] arguments) => RunAt(Uri, environment, arguments);

        /// <summary>Runs the docker CLI against <paramref name="host"/> (-H) with <paramref name="environment"/> (bounded).</summary>
        public string RunAt(string host, IDictionary<string, string> environment, params string[] arguments)
        {
            var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("-H");
            psi.ArgumentList.Add(host);
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            foreach (var (k, v) in environment) psi.Environment[k] = v;
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(180_000))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException("docker " + string.Join(" ", arguments));
            }
            if (p.ExitCode != 0) throw new InvalidOperationException($"docker {string.Join(" ", arguments)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
            return stdout.Result;
        }

        /// <summary>A base image from busybox-static, imported (docker import).</summary>
        public string ImportBusybox(string tag)
        {
            var dir = Path.Combine(Root, "rootfs-" + Guid.NewGuid().ToString("N").Substring(0, 6));
            Directory.CreateDirectory(Path.Combine(dir, "bin"));
            File.Copy("/bin/busybox", Path.Combine(dir, "bin", "busybox"));
            foreach (var applet in new[] { "sh", "echo", "mkdir", "rm", "true", "sleep", "dd" })
                File.CreateSymbolicLink(Path.Combine(dir, "bin", applet), "busybox");
            var tar = dir + ".tar";
            Tool("tar", "-C", dir, "-cf", tar, ".");
            Docker("import", "--change", "CMD [\"/bin/sh\"]", "--change", "LABEL org.example.base=busybox", tar, tag);
            return Docker("inspect", "--format", "{{.Id}}", tag).Trim();
        }

        /// <summary>An image the engine builds with RUN steps (classic builder, no network) on top of <paramref name="baseTag"/>.</summary>
        public string Build(string tag, string baseTag)
        {
            var dir = Path.Combine(Root, "build-" + Guid.NewGuid().ToString("N").Substring(0, 6));
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "Dockerfile"),
                $"FROM {baseTag}\nLABEL org.example.stage=built\nRUN mkdir -p /app/old && echo hello > /app/greeting && echo x > /app/old/file\nRUN rm -r /app/old && echo two > /app/second\nENV GREETING=hello\nCMD [\"/bin/sh\"]\n");
            Run(new Dictionary<string, string> { ["DOCKER_BUILDKIT"] = "0" }, "build", "--network=none", "-t", tag, dir);
            return Docker("inspect", "--format", "{{.Id}}", tag).Trim();
        }

        private static void Tool(string file, params string[] arguments)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(60_000)) { p.Kill(true); throw new TimeoutException(file); }
            if (p.ExitCode != 0) throw new InvalidOperationException($"{file} failed: {err.Result}");
        }

        [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        private static extern int Kill(int pid, int signal);

        private static int Terminate(int pid) => Kill(pid, 15);

        public void Dispose()
        {
            if (_dockerd != null)
            {
                try
                {
                    // SIGTERM lets dockerd stop its containerd and unmount; kill only if it does not within the bound.
                    if (!_dockerd.HasExited && Terminate(_dockerd.Id) == 0) _dockerd.WaitForExit((int)StopTimeout.TotalMilliseconds);
                    if (!_dockerd.HasExited)
                    {
                        _dockerd.Kill(entireProcessTree: true);
                        _dockerd.WaitForExit(15_000);
                    }
                }
                catch (InvalidOperationException) { }
                _dockerd.Dispose();
            }
            try
            {
                var psi = new ProcessStartInfo("sh") { RedirectStandardError = true };
                psi.ArgumentList.Add("-c");
                psi.ArgumentList.Add($"umount -R '{Root}/exec' 2>/dev/null; umount -R '{Root}/data' 2>/dev/null; rm -rf '{Root}'");
                using var p = Process.Start(psi)!;
                p.WaitForExit(60_000);
            }
            catch (System.ComponentModel.Win32Exception) { }
        }
    }
}
