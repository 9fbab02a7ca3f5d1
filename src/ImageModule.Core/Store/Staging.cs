using System;
using System.IO;
using System.Text.RegularExpressions;
using ImageModule.Oci;

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

        /// <summary>A staging entry named after the lease that owns it: "&lt;pid&gt;-&lt;32 hex&gt;…".</summary>
        internal static readonly Regex LeaseNamed = new("^(?<id>[0-9]+-[0-9a-f]{32})", RegexOptions.CultureInvariant);
        private static readonly Regex PartialNamed = new(@"^(?<algorithm>[a-z0-9]+)-(?<hex>[0-9a-f]{64})\.[0-9a-f]{32}\.partial$", RegexOptions.CultureInvariant);

        /// <summary>Partial writes smaller than this are not worth keeping for a resume.</summary>
        private const long MinResumable = 1 << 20;

        /// <summary>How long a partial download a killed process left is kept for the next pull of the same blob.</summary>
        private static readonly TimeSpan ResumableFor = TimeSpan.FromDays(1);

        /// <summary>The temp name of a blob being written: its digest (so it can be resumed), then a unique part.</summary>
        public static string PartialName(Digest digest) => $"{digest.Algorithm}-{digest.Hex}.{Guid.NewGuid():N}.partial";

        /// <summary>tmp/resume/: the partial downloads of processes that died, by digest, until a pull resumes them.</summary>
        public string ResumeDirectory => Path.Combine(_layout.TempDirectory, ResumeFolder);

        internal const string ResumeFolder = "resume";

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
                    if (name == ResumeFolder)
                    {
                        CleanResumable(entry);
                        continue;
                    }
                    var match = LeaseNamed.Match(name);
                    var abandoned = match.Success
                        ? !_leases.IsLive(match.Groups["id"].Value)
                        : DateTime.UtcNow - LastWrite(entry) > UnownedGrace;
                    if (!abandoned) continue;
                    if (match.Success && System.IO.Directory.Exists(entry)) KeepResumable(entry);
                    TryDeleteEntry(entry);
                }
            }
            if (System.IO.Directory.Exists(_leases.Directory))
            {
                // A lease that was being created when its process died. Its owner creates the file, then locks it, then
                // renames it: a young one may not be locked yet (deleting it failed that owner's command, found by the
                // stress story), so only one older than the grace is looked at.
                foreach (var file in System.IO.Directory.GetFiles(_leases.Directory, "*.lease.new"))
                {
                    var match = LeaseNamed.Match(Path.GetFileName(file));
                    if (match.Success && DateTime.UtcNow - LastWrite(file) > UnownedGrace && !Leases.IsHeld(file)) OciLayout.TryDelete(file);
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

        /// <summary>
        /// Before a dead process's staging is deleted, its partial downloads of at least <see cref="MinResumable"/> bytes
        /// move to tmp/resume/&lt;algorithm&gt;-&lt;hex&gt;.partial (the longest kept), where the next pull of that blob
        /// finds them (<see cref="ContentStore.TakeResumable"/>). Renames only: two cleaners racing lose nothing but a copy.
        /// </summary>
        private void KeepResumable(string deadStaging)
        {
            try
            {
                foreach (var file in System.IO.Directory.GetFiles(deadStaging, "*.partial"))
                {
                    var match = PartialNamed.Match(Path.GetFileName(file));
                    var length = new FileInfo(file).Length;
                    if (!match.Success || length < MinResumable) continue;
                    System.IO.Directory.CreateDirectory(ResumeDirectory);
                    var kept = Path.Combine(ResumeDirectory, $"{match.Groups["algorithm"].Value}-{match.Groups["hex"].Value}.partial");
                    if (File.Exists(kept))
                    {
                        if (new FileInfo(kept).Length >= length) continue;
                        OciLayout.TryDelete(kept);
                    }
                    File.Move(file, kept);
                }
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        private static void CleanResumable(string directory)
        {
            foreach (var file in System.IO.Directory.GetFiles(directory))
                if (DateTime.UtcNow - File.GetLastWriteTimeUtc(file) > ResumableFor) OciLayout.TryDelete(file);
            if (System.IO.Directory.GetFileSystemEntries(directory).Length == 0) TryDeleteEntry(directory);
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
