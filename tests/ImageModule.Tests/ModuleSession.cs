using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Management.Automation.Runspaces;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// One user's PowerShell session for a test: the real engine in-process (Microsoft.PowerShell.SDK, with the
    /// Utility and Management cmdlets pwsh has), the BUILT module imported from out/ImageModule, and a fresh empty store
    /// in a temp directory ($env:IMAGEMODULE_STORE, as a user would set it).
    /// </summary>
    public sealed class ModuleSession : IDisposable
    {
        private readonly StringWriter _output = new();
        private readonly StringWriter _errors = new();
        private readonly TestHost _host;
        private readonly Runspace _runspace;

        public ModuleSession()
        {
            TempDir = Path.Combine(Path.GetTempPath(), "imagemodule-e2e-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            StorePath = Path.Combine(TempDir, "store");
            Directory.CreateDirectory(TempDir);
            _host = new TestHost(_output, _errors, TextReader.Null);
            _runspace = OpenRunspace(_host, ManifestPath);
            // Tests run one at a time (see AssemblyInfo), so the process-wide variable is this session's alone.
            Environment.SetEnvironmentVariable("IMAGEMODULE_STORE", StorePath);
            // Registry settings of this session only: a test never reads or writes the user's file.
            Environment.SetEnvironmentVariable("IMAGEMODULE_REGISTRY_CONFIG", RegistrySettingsPath);
            SetVariable("TestDir", TempDir);
        }

        public string TempDir { get; }
        public string StorePath { get; }
        public string RegistrySettingsPath => Path.Combine(TempDir, "registries.json");
        public List<ErrorRecord> Errors { get; } = new();
        /// <summary>What the host showed during the last Run: What if lines, warnings, verbose, rendered tables.</summary>
        public string HostOutput { get; private set; } = "";
        public IReadOnlyList<ProgressRecord> Progress => _host.HostUI.Progress;
        public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

        public static string RepositoryRoot
        {
            get
            {
                for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "ImageModule.sln"))) return dir.FullName;
                }
                throw new InvalidOperationException("ImageModule.sln not found above " + AppContext.BaseDirectory);
            }
        }

        public static string ManifestPath
        {
            get
            {
                var path = Path.Combine(RepositoryRoot, "out", "ImageModule", "ImageModule.psd1");
                if (!File.Exists(path)) throw new InvalidOperationException($"Built module missing: {path}. Build the solution first.");
                return path;
            }
        }

        /// <summary>
        /// Real pwsh for tests that need a second PowerShell process: $IMAGEMODULE_PWSH, else the pinned tool that
        /// tests/run.sh installs (out/tools/pwsh), else pwsh on PATH.
        /// </summary>
        public static string PwshPath
        {
            get
            {
                var configured = Environment.GetEnvironmentVariable("IMAGEMODULE_PWSH");
                if (!string.IsNullOrEmpty(configured)) return configured;
                var tool = Path.Combine(RepositoryRoot, "out", "tools", OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");
                return File.Exists(tool) ? tool : "pwsh";
            }
        }

        /// <summary>
        /// Another PowerShell process, as another terminal would be: real pwsh, started as the engine itself
        /// (dotnet pwsh.dll of the pinned tool, one process, so killing it ends it) when the tool is installed, else
        /// <see cref="PwshPath"/>; the module at <paramref name="manifest"/> (default: the built one) is imported, then
        /// <paramref name="script"/> runs. Errors go to standard error as pwsh shows them.
        /// </summary>
        public static ProcessStartInfo PowerShellProcess(string script, string? manifest = null, bool redirect = true)
        {
            var tools = Path.Combine(RepositoryRoot, "out", "tools", ".store");
            var engine = Directory.Exists(tools)
                ? Directory.EnumerateFiles(tools, "pwsh.dll", SearchOption.AllDirectories)
                    .FirstOrDefault(f => f.Contains(Path.DirectorySeparatorChar + (OperatingSystem.IsWindows() ? "win" : "unix") + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                : null;
            var psi = new ProcessStartInfo(engine != null ? "dotnet" : PwshPath) { RedirectStandardOutput = redirect, RedirectStandardError = redirect, UseShellExecute = false };
            if (engine != null) psi.ArgumentList.Add(engine);
            psi.ArgumentList.Add("-NoProfile");
            psi.ArgumentList.Add("-NonInteractive");
            psi.ArgumentList.Add("-Command");
            psi.ArgumentList.Add($"Import-Module '{(manifest ?? ManifestPath).Replace("'", "''")}' -ErrorAction Stop; {script}");
            return psi;
        }

        private static Runspace OpenRunspace(PSHost host, string manifest)
        {
            // CreateDefault2: the engine's own modules load on demand, as in pwsh; no console host assembly is needed.
            var state = InitialSessionState.CreateDefault2();
            if (OperatingSystem.IsWindows()) state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.RemoteSigned;
            var runspace = RunspaceFactory.CreateRunspace(host, state);
            runspace.Open();
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop");
            ps.Invoke();
            return runspace;
        }

        /// <summary>Runs a script as typed; returns its objects. Non-terminating errors land in <see cref="Errors"/>.</summary>
        public Collection<PSObject> Run(string script) => Invoke(script, render: false);

        /// <summary>Runs script | Out-Default and returns the text a user would see (no ANSI codes).</summary>
        public string RunAndRender(string script)
        {
            Invoke(script, render: true);
            return HostOutput;
        }

        /// <summary>Objects as a script sees them (dynamic over PSObject), so tests read properties the way a user does.</summary>
        public List<dynamic> Objects(string script) => Run(script).Select(o => (dynamic)o).ToList();

        /// <summary>
        /// Starts a script and stops it (what Ctrl+C does) once <paramref name="stopWhen"/> holds; returns how long the
        /// stop took to end the pipeline.
        /// </summary>
        public TimeSpan RunAndStop(string script, Func<bool> stopWhen, TimeSpan within)
        {
            Errors.Clear();
            _host.HostUI.Progress.Clear();
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(script);
            var async = ps.BeginInvoke();
            var deadline = DateTime.UtcNow + within;
            while (!stopWhen() && !async.IsCompleted)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException("the stop condition never held: " + script);
                System.Threading.Thread.Sleep(20);
            }
            // A command that finished before the stop proves nothing about stopping.
            if (async.IsCompleted) throw new InvalidOperationException("the command finished before it could be stopped: " + script);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            ps.Stop();
            if (!async.AsyncWaitHandle.WaitOne(Timeout)) throw new TimeoutException("the pipeline did not stop: " + script);
            if (ps.InvocationStateInfo.State != PSInvocationState.Stopped)
                throw new InvalidOperationException($"the command ended {ps.InvocationStateInfo.State}, not stopped: {script}");
            return clock.Elapsed;
        }

        public void SetVariable(string name, object? value) => _runspace.SessionStateProxy.SetVariable(name, value);

        public object? GetVariable(string name) => _runspace.SessionStateProxy.GetVariable(name);

        private Collection<PSObject> Invoke(string script, bool render)
        {
            Errors.Clear();
            _output.GetStringBuilder().Clear();
            _errors.GetStringBuilder().Clear();
            _host.HostUI.Progress.Clear();
            using var ps = PowerShell.Create();
            ps.Runspace = _runspace;
            ps.AddScript(script);
            if (render)
            {
                ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
                ps.AddCommand("Out-Default");
            }
            var output = new PSDataCollection<PSObject>();
            var async = ps.BeginInvoke<PSObject, PSObject>(null, output);
            if (!async.AsyncWaitHandle.WaitOne(Timeout))
            {
                ps.Stop();
                throw new TimeoutException($"Script did not finish within {Timeout}: {script}");
            }
            try
            {
                ps.EndInvoke(async);
            }
            finally
            {
                Errors.AddRange(ps.Streams.Error);
                HostOutput = _output.ToString() + _errors.ToString();
            }
            return new Collection<PSObject>(output.ToList());
        }

        public void Dispose()
        {
            _runspace.Dispose();
            try { Directory.Delete(TempDir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
