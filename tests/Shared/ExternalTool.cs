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
    }
}
