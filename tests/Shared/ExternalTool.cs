using System;
using System.Diagnostics;
using System.Threading.Tasks;

namespace ImageModule.Testing
{
    /// <summary>Runs a real peer (skopeo, umoci, tar, docker) with a time limit; a failure throws with its output.</summary>
    public static class ExternalTool
    {
        public static string Run(string file, params string[] arguments) => Run(TimeSpan.FromMinutes(3), file, arguments);

        public static string Run(TimeSpan timeout, string file, params string[] arguments)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit((int)timeout.TotalMilliseconds))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"{file} {string.Join(" ", arguments)} did not finish within {timeout}");
            }
            Task.WaitAll(stdout, stderr);
            if (process.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(" ", arguments)} exited {process.ExitCode}: {stderr.Result}{stdout.Result}");
            return stdout.Result;
        }

        /// <summary>Starts a long-running peer (a registry, dockerd, podman's service) with its output drained.</summary>
        public static Process StartService(string file, params string[] arguments) => StartService(file, arguments, null);

        /// <summary>Starts a long-running peer; each line it writes (stdout or stderr) goes to <paramref name="onLine"/>, never to the test output.</summary>
        public static Process StartService(string file, string[] arguments, Action<string>? onLine)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in arguments) psi.ArgumentList.Add(a);
            var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start " + file);
            process.OutputDataReceived += (_, e) => { if (e.Data != null) onLine?.Invoke(e.Data); };
            process.ErrorDataReceived += (_, e) => { if (e.Data != null) onLine?.Invoke(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return process;
        }

        /// <summary>Kills a service started with <see cref="StartService"/> and its children, waiting a bounded time.</summary>
        public static void StopService(Process? process)
        {
            if (process is null) return;
            try { if (!process.HasExited) { process.Kill(entireProcessTree: true); process.WaitForExit(5000); } }
            catch (InvalidOperationException) { }
            process.Dispose();
        }
    }
}
