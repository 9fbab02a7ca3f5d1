using System;
using System.IO;
using System.Text.RegularExpressions;

namespace ImageModule.Store
{
    /// <summary>
    /// Where work in progress lives: .imagemodule/tmp/&lt;lease id&gt;/, owned by this process's lease (see
    /// <see cref="Leases"/>): partial blob writes, spooled archive layers, import spools, temporary layouts. What no live
    /// lease owns is deleted when a writing command opens the store and when the collector runs, so a killed process
    /// leaves nothing behind for longer than the next command.
    /// </summary>
    internal sealed class Staging
    {
        /// <summary>Entries not named after a lease (older versions' spools) are left this long, then deleted.</summary>
        private static readonly TimeSpan UnownedGrace = TimeSpan.FromMinutes(10);

        private static readonly Regex LeaseNamed = new("^(?<id>[0-9]+-[0-9a-f]{32})", RegexOptions.CultureInvariant);
        private static readonly Regex IndexTemp = new(@"^index\.json\.[0-9a-f]{32}\.tmp$", RegexOptions.CultureInvariant);

        private readonly OciLayout _layout;
        private readonly Leases _leases;

        public Staging(OciLayout layout, Leases leases)
        {
            _layout = layout;
            _leases = leases;
        }

        /// <summary>This process's staging directory (created on first use, when what dead processes left is cleaned too).</summary>
        public string Directory
        {
            get
            {
                var path = Path.Combine(_layout.TempDirectory, _leases.ProcessLeaseId);
                if (!System.IO.Directory.Exists(path))
                {
                    Clean(exclusive: false);
                    System.IO.Directory.CreateDirectory(path);
                }
                return path;
            }
        }

        /// <summary>A name for a temp file beside <paramref name="target"/> (Save-Image, Export-Image), owned by this process's lease.</summary>
        public string BesideTarget(string target) =>
            Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, "." + Path.GetFileName(target) + ".tmp-" + _leases.ProcessLeaseId + "-" + Guid.NewGuid().ToString("N").Substring(0, 8));

        /// <summary>Deletes temp files beside <paramref name="target"/> left by processes that are gone.</summary>
        public void CleanBesideTarget(string target)
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(target))!;
            var prefix = "." + Path.GetFileName(target) + ".tmp-";
            if (!System.IO.Directory.Exists(directory)) return;
            foreach (var entry in System.IO.Directory.GetFileSystemEntries(directory, prefix + "*"))
            {
                var rest = Path.GetFileName(entry).Substring(prefix.Length);
                var match = LeaseNamed.Match(rest);
                if (match.Success && !_leases.IsLive(match.Groups["id"].Value)) TryDeleteEntry(entry);
            }
        }

        /// <summary>
        /// Deletes staging no live process owns. <paramref name="exclusive"/>: the caller holds the store lock exclusively,
        /// so index.json temp files (written only under it) are certainly abandoned.
        /// </summary>
        public void Clean(bool exclusive)
        {
            var tmp = _layout.TempDirectory;
            if (System.IO.Directory.Exists(tmp))
            {
                foreach (var entry in System.IO.Directory.GetFileSystemEntries(tmp))
                {
                    var name = Path.GetFileName(entry);
                    var match = LeaseNamed.Match(name);
                    var abandoned = match.Success
                        ? !_leases.IsLive(match.Groups["id"].Value)
                        : DateTime.UtcNow - LastWrite(entry) > UnownedGrace;
                    if (abandoned) TryDeleteEntry(entry);
                }
            }
            if (System.IO.Directory.Exists(_leases.Directory))
            {
                // A lease that was being created when its process died.
                foreach (var file in System.IO.Directory.GetFiles(_leases.Directory, "*.lease.new"))
                {
                    var match = LeaseNamed.Match(Path.GetFileName(file));
                    if (match.Success && !IsHeld(file)) OciLayout.TryDelete(file);
                }
            }
            if (exclusive && System.IO.Directory.Exists(_layout.Root))
            {
                foreach (var file in System.IO.Directory.GetFiles(_layout.Root, "index.json.*.tmp"))
                {
                    if (IndexTemp.IsMatch(Path.GetFileName(file))) OciLayout.TryDelete(file);
                }
            }
        }

        private static bool IsHeld(string file)
        {
            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                return false;
            }
            catch (IOException) { return true; }
            catch (UnauthorizedAccessException) { return true; }
        }

        private static DateTime LastWrite(string entry) =>
            System.IO.Directory.Exists(entry) ? System.IO.Directory.GetLastWriteTimeUtc(entry) : File.GetLastWriteTimeUtc(entry);

        private static void TryDeleteEntry(string entry)
        {
            try
            {
                if (System.IO.Directory.Exists(entry)) System.IO.Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }
}
