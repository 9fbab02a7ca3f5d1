using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// A real Docker engine for interop tests, started as DEVELOPERS.md describes: vfs storage, no iptables, no
    /// bridge, its own data root and socket. Also holds a private podman root. Shared by one test class.
    /// </summary>
    public sealed class DockerFixture : IDisposable
    {
        private readonly Process _dockerd;

        public DockerFixture()
        {
            Root = Path.Combine("/tmp", "imd-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(Root);
            Socket = Path.Combine(Root, "docker.sock");
            _dockerd = ExternalTool.StartService("dockerd", "--storage-driver=vfs", "--iptables=false", "--bridge=none", "--data-root", Path.Combine(Root, "data"),
                "--exec-root", Path.Combine(Root, "exec"), "--pidfile", Path.Combine(Root, "docker.pid"), "--host", "unix://" + Socket);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    if (File.Exists(Socket)) { Docker("version"); break; }
                }
                catch (InvalidOperationException) { }
                if (DateTime.UtcNow > deadline || _dockerd.HasExited) { Dispose(); throw new InvalidOperationException("dockerd did not start"); }
                Thread.Sleep(200);
            }
        }

        public string Root { get; }
        public string Socket { get; }

        public string Docker(params string[] arguments)
        {
            var all = new[] { "-H", "unix://" + Socket }.Concat(arguments);
            return ExternalTool.Run(TimeSpan.FromMinutes(3), "docker", all.ToArray());
        }

        public string Podman(params string[] arguments)
        {
            var all = new[] { "--storage-driver", "vfs", "--root", Path.Combine(Root, "podman"), "--runroot", Path.Combine(Root, "podman-run") }.Concat(arguments);
            return ExternalTool.Run(TimeSpan.FromMinutes(3), "podman", all.ToArray());
        }

        /// <summary>A small image the engine builds itself: busybox imported as a base, then RUN steps.</summary>
        public string Build(string tag)
        {
            var dir = Path.Combine(Root, "build-" + Guid.NewGuid().ToString("N").Substring(0, 6));
            var rootfs = Path.Combine(dir, "rootfs");
            Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
            File.Copy("/bin/busybox", Path.Combine(rootfs, "bin", "busybox"));
            foreach (var applet in new[] { "sh", "echo", "mkdir", "rm" }) File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
            var tar = Path.Combine(dir, "rootfs.tar");
            ExternalTool.Run("tar", "-C", rootfs, "-cf", tar, ".");
            Docker("import", tar, "interop/base:1");
            File.WriteAllText(Path.Combine(dir, "Dockerfile"),
                "FROM interop/base:1\nRUN mkdir -p /app/old && echo hello > /app/greeting && echo x > /app/old/file\nRUN rm -r /app/old && echo two > /app/second\nCMD [\"/bin/sh\"]\n");
            var psi = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { "-H", "unix://" + Socket, "build", "--network=none", "-t", tag, dir }) psi.ArgumentList.Add(a);
            psi.Environment["DOCKER_BUILDKIT"] = "0";
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            var output = p.StandardOutput.ReadToEndAsync();
            if (!p.WaitForExit(180_000)) { p.Kill(true); throw new TimeoutException("docker build"); }
            if (p.ExitCode != 0) throw new InvalidOperationException("docker build failed: " + err.Result + output.Result);
            return Docker("inspect", "--format", "{{.Id}}", tag).Trim();
        }

        public void Dispose()
        {
            // SIGTERM first: dockerd then stops its containerd and unmounts; killed only if it does not within 20 s.
            try
            {
                if (!_dockerd.HasExited)
                {
                    ExternalTool.Run("kill", "-TERM", _dockerd.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    _dockerd.WaitForExit(20_000);
                }
            }
            catch (InvalidOperationException) { }
            try { if (!_dockerd.HasExited) { _dockerd.Kill(entireProcessTree: true); _dockerd.WaitForExit(10_000); } }
            catch (InvalidOperationException) { }
            _dockerd.Dispose();
            try { ExternalTool.Run("sh", "-c", $"umount -R {Root}/exec 2>/dev/null; umount -R {Root}/data 2>/dev/null; rm -rf {Root}"); }
            catch (InvalidOperationException) { }
        }
    }
}
