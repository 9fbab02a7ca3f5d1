using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// Where blobs were last seen on registries ("registry/repository" per digest), so a push to another repository of
    /// the same registry can mount them instead of uploading (docker's and skopeo's blob-info cache does the same).
    /// One append-only text file beside the store; a wrong entry costs one refused mount, never correctness.
    /// </summary>
    public sealed class BlobOrigins
    {
        private const int MaxPerDigest = 3;
        private readonly string _path;
        private readonly object _gate = new();
        private Dictionary<Digest, List<string>>? _known;

        public BlobOrigins(string path) => _path = path;

        /// <summary>Repositories on <paramref name="registry"/> known to hold the blob, newest first.</summary>
        public IReadOnlyList<string> RepositoriesOn(Digest digest, string registry)
        {
            lock (_gate)
            {
                if (!Known().TryGetValue(digest, out var names)) return Array.Empty<string>();
                var prefix = registry + "/";
                return names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Select(n => n.Substring(prefix.Length)).Reverse().Distinct().Take(MaxPerDigest).ToList();
            }
        }

        /// <summary>Every registry/repository known to hold the digest (for a manifest: where it was pulled from or pushed to).</summary>
        public IReadOnlyList<string> RepositoriesOf(Digest digest)
        {
            lock (_gate)
            {
                return Known().TryGetValue(digest, out var names) ? names.Distinct().ToList() : (IReadOnlyList<string>)Array.Empty<string>();
            }
        }

        public void Record(Digest digest, string registry, string repository)
        {
            var name = registry + "/" + repository;
            lock (_gate)
            {
                var known = Known();
                if (!known.TryGetValue(digest, out var names)) known[digest] = names = new List<string>();
                if (names.Count > 0 && names[names.Count - 1] == name) return;
                names.Add(name);
                try
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
                    File.AppendAllText(_path, digest + " " + name + "\n", Encoding.UTF8);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        private Dictionary<Digest, List<string>> Known()
        {
            if (_known != null) return _known;
            _known = new Dictionary<Digest, List<string>>();
            if (!File.Exists(_path)) return _known;
            try
            {
                foreach (var line in File.ReadLines(_path))
                {
                    var space = line.IndexOf(' ');
                    if (space <= 0 || !Digest.TryParse(line.Substring(0, space), out var digest)) continue;
                    if (!_known.TryGetValue(digest, out var names)) _known[digest] = names = new List<string>();
                    names.Add(line.Substring(space + 1));
                }
            }
            catch (IOException) { }
            return _known;
        }
    }
}
