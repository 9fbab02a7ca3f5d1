using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text.Json;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// What must hold of a store whatever happened to the processes that wrote it, checked from outside (the files,
    /// skopeo): every name resolves to a manifest whose config and layers exist and hash to their names, and no staging
    /// is left that no live process owns.
    /// </summary>
    public static class StoreInvariants
    {
        /// <summary>The ref.name of every index.json entry (null for unnamed ones).</summary>
        public static List<string?> Names(string store)
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(store, "index.json")));
            var names = new List<string?>();
            if (doc.RootElement.TryGetProperty("manifests", out var manifests) && manifests.ValueKind == JsonValueKind.Array)
            {
                foreach (var entry in manifests.EnumerateArray())
                {
                    string? name = null;
                    if (entry.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var n)) name = n.GetString();
                    names.Add(name);
                }
            }
            return names;
        }

        /// <summary>Problems with names and blobs; empty when the store is whole.</summary>
        public static List<string> BrokenNames(string store, bool skopeo = true)
        {
            var problems = new List<string>();
            using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(store, "index.json")));
            foreach (var entry in doc.RootElement.GetProperty("manifests").EnumerateArray())
            {
                var name = entry.TryGetProperty("annotations", out var a) && a.TryGetProperty("org.opencontainers.image.ref.name", out var n) ? n.GetString() : null;
                var what = name ?? "unnamed " + entry.GetProperty("digest").GetString();
                Walk(store, entry.GetProperty("digest").GetString()!, what, problems, depth: 0);
                if (skopeo && name != null)
                {
                    var psi = new ProcessStartInfo("skopeo") { RedirectStandardOutput = true, RedirectStandardError = true };
                    foreach (var arg in new[] { "inspect", $"oci:{store}:{name}" }) psi.ArgumentList.Add(arg);
                    using var p = Process.Start(psi)!;
                    var err = p.StandardError.ReadToEndAsync();
                    p.StandardOutput.ReadToEnd();
                    if (!p.WaitForExit(30_000)) { p.Kill(); problems.Add($"{what}: skopeo inspect hung"); }
                    else if (p.ExitCode != 0) problems.Add($"{what}: skopeo inspect failed: {err.Result.Trim()}");
                }
            }
            return problems;
        }

        private static void Walk(string store, string digest, string what, List<string> problems, int depth)
        {
            var bytes = Blob(store, digest, what, "manifest", problems);
            if (bytes is null || depth > 3) return;
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.TryGetProperty("manifests", out var children))
            {
                foreach (var child in children.EnumerateArray())
                {
                    var d = child.GetProperty("digest").GetString()!;
                    if (File.Exists(BlobPath(store, d))) Walk(store, d, what, problems, depth + 1);
                }
                return;
            }
            Blob(store, doc.RootElement.GetProperty("config").GetProperty("digest").GetString()!, what, "config", problems);
            foreach (var layer in doc.RootElement.GetProperty("layers").EnumerateArray())
                Blob(store, layer.GetProperty("digest").GetString()!, what, "layer", problems);
        }

        private static string BlobPath(string store, string digest) => Path.Combine(store, "blobs", "sha256", digest.Substring("sha256:".Length));

        private static byte[]? Blob(string store, string digest, string what, string role, List<string> problems)
        {
            var path = BlobPath(store, digest);
            if (!File.Exists(path))
            {
                problems.Add($"{what}: {role} {digest} is missing");
                return null;
            }
            var bytes = File.ReadAllBytes(path);
            var actual = "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
            if (actual != digest) problems.Add($"{what}: {role} {digest} hashes to {actual}");
            return bytes;
        }

        /// <summary>Staging left by processes that are gone: in the store's tmp, index temp files, and hidden temp files or trees beside <paramref name="targets"/> (.<name>.*).</summary>
        public static List<string> OrphanedStaging(string store, params string[] targets)
        {
            var orphans = new List<string>();
            var tmp = Path.Combine(store, ".imagemodule", "tmp");
            if (Directory.Exists(tmp))
            {
                foreach (var entry in Directory.GetFileSystemEntries(tmp))
                {
                    var name = Path.GetFileName(entry);
                    var dash = name.IndexOf('-');
                    var owned = dash > 0 && int.TryParse(name.Substring(0, dash), out var pid) && Alive(pid)
                        && File.Exists(Path.Combine(store, ".imagemodule", "leases", name.Split('.')[0] + ".lease"));
                    if (!owned) orphans.Add(entry);
                }
            }
            orphans.AddRange(Directory.GetFiles(store, "index.json.*.tmp"));
            foreach (var target in targets)
            {
                var dir = Path.GetDirectoryName(target)!;
                if (Directory.Exists(dir)) orphans.AddRange(Directory.GetFileSystemEntries(dir, "." + Path.GetFileName(target) + ".*"));
            }
            return orphans;
        }

        private static bool Alive(int pid)
        {
            try
            {
                using var p = Process.GetProcessById(pid);
                return !p.HasExited;
            }
            catch (ArgumentException) { return false; }
        }
    }
}
