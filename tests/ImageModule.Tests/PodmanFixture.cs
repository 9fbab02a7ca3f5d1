using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// podman's API service on a socket of its own (vfs storage, private root and runroot), as the engine issue
    /// describes. The same root serves the podman CLI for checks. Killed on dispose.
    /// </summary>
    public sealed class PodmanFixture : IDisposable
    {
        private readonly Process _service;

        public PodmanFixture()
        {
            Root = Path.Combine("/tmp", "imp-" + Guid.NewGuid().ToString("N").Substring(0, 8));
            Directory.CreateDirectory(Root);
            Socket = Path.Combine(Root, "podman.sock");
            _service = ExternalTool.StartService("podman", StorageArguments.Concat(new[] { "system", "service", "--time=0", "unix://" + Socket }).ToArray());
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!File.Exists(Socket))
            {
                if (DateTime.UtcNow > deadline || _service.HasExited) { Dispose(); throw new InvalidOperationException("podman system service did not start"); }
                Thread.Sleep(100);
            }
        }

        public string Root { get; }
        public string Socket { get; }
        public string Uri => "unix://" + Socket;

        private string[] StorageArguments => new[] { "--storage-driver", "vfs", "--root", Path.Combine(Root, "storage"), "--runroot", Path.Combine(Root, "run") };

        public string Podman(params string[] arguments) => ExternalTool.Run(TimeSpan.FromMinutes(3), "podman", StorageArguments.Concat(arguments).ToArray());

        /// <summary>podman run here needs lower ulimits than its defaults (the sandbox's hard limits are lower).</summary>
        public string RunContainer(string image, params string[] command) =>
            Podman(new[] { "run", "--rm", "--network=none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", image }.Concat(command).ToArray());

        public void Dispose()
        {
            ExternalTool.StopService(_service);
            try { Podman("system", "reset", "--force"); } catch (Exception) { }
            try { Directory.Delete(Root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
