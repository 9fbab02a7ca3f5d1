using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// Applies layers in order to a directory (`umoci unpack`), with whiteouts, and never writes outside it:
    /// names with ".." or a leading "/" are rejected; every parent component is resolved by us, one at a time, against
    /// what is on disk under the root, and a symlink met on the way is followed only while its target stays inside the
    /// root (an absolute target or one climbing above the root is rejected); the final component is never followed
    /// (an existing entry there is removed first, files are created with CreateNew); hardlink targets get the same checks.
    /// </summary>
    internal sealed class SafeExtractor
    {
        private const int MaxLinkHops = 40;
        private readonly string _root;
        private readonly ExpandOptions _options;
        private readonly bool _unix = UnixNative.IsSupported;
        private readonly bool _chown;
        private readonly bool _isRoot;
        private readonly Dictionary<string, TarHeader> _dirMetadata = new(StringComparer.Ordinal);
        private readonly HashSet<string> _writtenThisLayer = new(StringComparer.Ordinal);

        public SafeExtractor(string root, ExpandOptions options)
        {
            _root = Path.GetFullPath(root).TrimEnd(Path.DirectorySeparatorChar);
            _options = options;
            _isRoot = UnixNative.IsRoot;
            _chown = options.PreserveOwnership ?? _isRoot;
            Directory.CreateDirectory(_root);
        }

        public async Task ApplyLayerAsync(Stream layerTar, CancellationToken ct)
        {
            _writtenThisLayer.Clear();
            var reader = new TarReader(layerTar);
            TarHeader? h;
            while ((h = await reader.NextAsync(ct).ConfigureAwait(false)) != null)
            {
                ct.ThrowIfCancellationRequested();
                var path = EntryPath.Normalize(h.Name);
                if (path.Length == 0) continue;
                var victim = Whiteout.Target(path, out var opaque);
                if (victim != null)
                {
                    ApplyWhiteout(victim, opaque);
                    continue;
                }
                await WriteEntryAsync(path, h, reader, ct).ConfigureAwait(false);
                _writtenThisLayer.Add(path);
            }
        }

        /// <summary>Directory modes and times last, deepest first, so that read-only directories can still be filled.</summary>
        public void Finish()
        {
            foreach (var kv in _dirMetadata.OrderByDescending(k => k.Key.Length))
            {
                var real = ResolveExisting(kv.Key);
                if (real == null || Kind(real) != EntryKind.Directory) continue;
                if (_unix)
                {
                    UnixNative.Chmod(real, kv.Value.Mode);
                    UnixNative.SetTimes(real, kv.Value.ModTime);
                }
                else Directory.SetLastWriteTimeUtc(real, kv.Value.ModTime.UtcDateTime);
            }
        }

        private void ApplyWhiteout(string victim, bool opaque)
        {
            var real = ResolveExisting(victim);
            if (real == null) return;
            if (opaque)
            {
                if (Kind(real) == EntryKind.Directory) PruneLower(real, victim);
                return;
            }
            // A whiteout hides lower layers only; what this layer wrote stays.
            if (_writtenThisLayer.Contains(victim)) return;
            RemoveEntry(real);
        }

        private void PruneLower(string realDir, string relDir)
        {
            foreach (var child in Directory.EnumerateFileSystemEntries(realDir).ToList())
            {
                var rel = relDir.Length == 0 ? Path.GetFileName(child) : relDir + "/" + Path.GetFileName(child);
                if (!_writtenThisLayer.Contains(rel)) { RemoveEntry(child); _dirMetadata.Remove(rel); }
                else if (Kind(child) == EntryKind.Directory) PruneLower(child, rel);
            }
        }

        private async Task WriteEntryAsync(string path, TarHeader h, TarReader reader, CancellationToken ct)
        {
            var parentReal = EnsureDirectory(EntryPath.Parent(path), path);
            var name = path.Substring(path.LastIndexOf('/') + 1);
            var target = Path.Combine(parentReal, name);
            var existing = Kind(target);

            if (h.Type == TarEntryType.Directory)
            {
                if (existing != EntryKind.Directory)
                {
                    if (existing != EntryKind.None) RemoveEntry(target);
                    Directory.CreateDirectory(target);
                }
                _dirMetadata[RelativeOf(target)] = h;
                if (_chown && _unix) UnixNative.Lchown(target, h.Uid, h.Gid);
                return;
            }
            if (existing != EntryKind.None) RemoveEntry(target);

            switch (h.Type)
            {
                case TarEntryType.File:
                    using (var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                        await reader.OpenContent().CopyToAsync(file, 1 << 16, ct).ConfigureAwait(false);
                    SetMetadata(target, h, chmod: true);
                    break;
                case TarEntryType.Symlink:
                    if (!_unix) { Warn($"skipped symlink '{path}' -> '{h.LinkName}': not supported on this platform"); return; }
                    // Creating a link is harmless whatever it points at; following it later is what the parent walk guards.
                    UnixNative.Symlink(h.LinkName, target);
                    SetMetadata(target, h, chmod: false);
                    break;
                case TarEntryType.HardLink:
                {
                    var linkPath = EntryPath.Normalize(h.LinkName);
                    var source = ResolveExisting(linkPath, path) ?? throw TarErrors.Corrupt($"hardlink '{path}' points at '{h.LinkName}', which does not exist", path);
                    var kind = Kind(source);
                    if (kind == EntryKind.Directory) throw TarErrors.Unsafe(path, "hardlink to a directory");
                    if (_unix) UnixNative.Link(source, target);
                    else File.Copy(source, target);
                    break;
                }
                case TarEntryType.CharDevice:
                case TarEntryType.BlockDevice:
                    if (!_isRoot || !_unix) { Warn($"skipped device node '{path}': creating devices needs root"); return; }
                    UnixNative.Mknod(target, h.Type == TarEntryType.BlockDevice, h.Mode, h.DevMajor, h.DevMinor);
                    SetMetadata(target, h, chmod: true);
                    break;
                case TarEntryType.Fifo:
                    if (!_unix) { Warn($"skipped FIFO '{path}': not supported on this platform"); return; }
                    UnixNative.Mkfifo(target, h.Mode);
                    SetMetadata(target, h, chmod: true);
                    break;
            }
        }

        private void SetMetadata(string target, TarHeader h, bool chmod)
        {
            if (!_unix)
            {
                if (h.Type == TarEntryType.File) File.SetLastWriteTimeUtc(target, h.ModTime.UtcDateTime);
                return;
            }
            if (_chown) UnixNative.Lchown(target, h.Uid, h.Gid);
            if (chmod) UnixNative.Chmod(target, h.Mode);
            UnixNative.SetTimes(target, h.ModTime);
        }

        /// <summary>Walks (creating missing directories) to <paramref name="relDir"/> and returns its real path under the root.</summary>
        private string EnsureDirectory(string relDir, string entry) => Walk(relDir, entry, create: true)!;

        /// <summary>The real path of an existing entry (its last component not followed), or null if a component is missing.</summary>
        private string? ResolveExisting(string rel, string? entry = null)
        {
            var parent = Walk(EntryPath.Parent(rel), entry ?? rel, create: false);
            if (parent == null) return null;
            var real = Path.Combine(parent, rel.Substring(rel.LastIndexOf('/') + 1));
            return Kind(real) == EntryKind.None ? null : real;
        }

        private string? Walk(string relDir, string entry, bool create)
        {
            var pending = new Stack<string>(Enumerable.Reverse(relDir.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries)));
            var resolved = new List<string>();
            var hops = 0;
            while (pending.Count > 0)
            {
                var part = pending.Pop();
                if (part == ".") continue;
                if (part == "..")
                {
                    if (resolved.Count == 0) throw TarErrors.Unsafe(entry, "a symlink on its path leads outside the destination");
                    resolved.RemoveAt(resolved.Count - 1);
                    continue;
                }
                var current = Path.Combine(new[] { _root }.Concat(resolved).Append(part).ToArray());
                switch (Kind(current))
                {
                    case EntryKind.Directory:
                        resolved.Add(part);
                        break;
                    case EntryKind.None:
                        if (!create) return null;
                        Directory.CreateDirectory(current);
                        resolved.Add(part);
                        break;
                    case EntryKind.Symlink:
                    {
                        if (++hops > MaxLinkHops) throw TarErrors.Unsafe(entry, "too many symlinks on its path");
                        var link = (_unix ? UnixNative.ReadLink(current) : null) ?? throw TarErrors.Unsafe(entry, "unreadable symlink on its path");
                        if (link.StartsWith("/", StringComparison.Ordinal)) throw TarErrors.Unsafe(entry, $"its path goes through symlink '{string.Join("/", resolved.Append(part))}' -> '{link}', which points outside the destination");
                        foreach (var p in Enumerable.Reverse(link.Split(new[] { '/' }, StringSplitOptions.RemoveEmptyEntries))) pending.Push(p);
                        break;
                    }
                    default:
                        // A lower layer's file where this layer wants a directory: the directory wins, as in an overlay.
                        if (!create) return null;
                        File.Delete(current);
                        Directory.CreateDirectory(current);
                        resolved.Add(part);
                        break;
                }
            }
            return Path.Combine(new[] { _root }.Concat(resolved).ToArray());
        }

        private string RelativeOf(string real) => real.Length <= _root.Length ? "" : real.Substring(_root.Length + 1).Replace(Path.DirectorySeparatorChar, '/');

        private static void RemoveEntry(string real)
        {
            if (Kind(real) == EntryKind.Directory) Directory.Delete(real, recursive: true);
            else File.Delete(real);
        }

        private enum EntryKind { None, File, Directory, Symlink }

        private static EntryKind Kind(string path)
        {
            FileAttributes a;
            try { a = File.GetAttributes(path); }
            catch (FileNotFoundException) { return EntryKind.None; }
            catch (DirectoryNotFoundException) { return EntryKind.None; }
            if ((a & FileAttributes.ReparsePoint) != 0) return EntryKind.Symlink;
            return (a & FileAttributes.Directory) != 0 ? EntryKind.Directory : EntryKind.File;
        }

        private void Warn(string message) => _options.Warning?.Invoke(message);
    }
}
