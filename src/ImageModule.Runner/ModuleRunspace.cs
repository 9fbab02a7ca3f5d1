using System;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.InteropServices;

namespace ImageModule.Runner
{
    /// <summary>Opens a runspace of the real engine on a <see cref="RunnerHost"/> with the built module imported.</summary>
    public static class ModuleRunspace
    {
        public const string ManifestVariable = "IMAGEMODULE_MANIFEST";

        public static Runspace Open(RunnerHost host, string? manifest = null, bool importModule = true)
        {
            // CreateDefault() looks for the console host assembly, which the NuGet engine lacks (HOSTING.md, pitfall 1).
            var state = InitialSessionState.CreateDefault2();
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) state.ExecutionPolicy = Microsoft.PowerShell.ExecutionPolicy.RemoteSigned;
            var runspace = RunspaceFactory.CreateRunspace(host, state);
            runspace.Open();
            if (importModule)
            {
                manifest ??= FindManifest();
                using var ps = PowerShell.Create();
                ps.Runspace = runspace;
                ps.AddCommand("Import-Module").AddParameter("Name", manifest).AddParameter("ErrorAction", "Stop");
                ps.Invoke();
            }
            return runspace;
        }

        /// <summary>$IMAGEMODULE_MANIFEST, else out/ImageModule/ImageModule.psd1 above the executable or the current directory.</summary>
        public static string FindManifest()
        {
            var explicitPath = Environment.GetEnvironmentVariable(ManifestVariable);
            if (!string.IsNullOrEmpty(explicitPath)) return Path.GetFullPath(explicitPath);
            foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            {
                for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                {
                    var candidate = Path.Combine(dir.FullName, "out", "ImageModule", "ImageModule.psd1");
                    if (File.Exists(candidate)) return candidate;
                }
            }
            throw new FileNotFoundException($"The built module (out/ImageModule/ImageModule.psd1) was not found; build the solution first or set ${ManifestVariable}.");
        }
    }
}
