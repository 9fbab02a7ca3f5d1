using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Leases (containerd's word): files under .imagemodule/leases/, named <c>&lt;pid&gt;-&lt;guid&gt;.lease</c>, listing
    /// digests an ingest in progress wrote or relies on. The owner holds its lease file open with a shared lock for as
    /// long as the lease lives; a lease whose file can be opened exclusively has no live owner (the kernel dropped the lock
    /// when the process died), so it protects nothing and is deleted.
    /// Each process also holds one lease for the life of the process that owns its staging directory
    /// (.imagemodule/tmp/&lt;lease id&gt;/): spooled layers, partial downloads, import spools.
    /// </summary>
    internal sealed class Leases
    {
        private static readonly ConcurrentDictionary<string, Lease> ProcessLeases = new(StringComparer.Ordinal);
        private readonly string _directory;
        private readonly object _gate = new();
        private readonly List<Lease> _open = new();

        public Leases(string directory) => _directory = directory;

        public string Directory => _directory;

        /// <summary>Opens a lease; every digest recorded while it is open is written to it.</summary>
        public IDisposable Begin()
        {
            var lease = Lease.Create(_directory);
            lock (_gate) _open.Add(lease);
            return new Handle(this, lease);
        }

        /// <summary>Whether this process holds a lease open on the store (an ingest is in progress).</summary>
        public bool AnyOpen
        {
            get { lock (_gate) return _open.Count > 0; }
        }

        /// <summary>
        /// Adds a digest to every lease this process holds open on the store. Call under the shared store lock, before
        /// asking whether the blob exists or writing it: then the collector (exclusive) either ran before — the blob is
        /// gone and is written again — or runs after and sees the lease.
        /// </summary>
        public void Record(Digest digest)
        {
            lock (_gate)
            {
                foreach (var lease in _open) lease.Add(digest);
            }
        }

        /// <summary>The lease this process holds for as long as it lives, owning its staging directory.</summary>
        public string ProcessLeaseId => ProcessLeases.GetOrAdd(Path.GetFullPath(_directory), d => Lease.Create(d)).Id;

        static Leases()
        {
            // A process that ends normally takes its staging with it; after a kill the next writer or the collector does.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (var pair in ProcessLeases)
                {
                    var staging = Path.Combine(Path.GetDirectoryName(pair.Key)!, "tmp", pair.Value.Id);
                    try
                    {
                        if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
                    }
                    catch (IOException) { }
                    catch (UnauthorizedAccessException) { }
                    pair.Value.Dispose();
                }
            };
        }

        /// <summary>Every digest a live lease names; leases with no live owner are deleted on the way.</summary>
        public IEnumerable<Digest> LiveDigests()
        {
            if (!System.IO.Directory.Exists(_directory)) yield break;
            foreach (var file in System.IO.Directory.GetFiles(_directory, "*.lease"))
            {
                if (DeleteIfOwnerGone(file)) continue;
                string text;
                try
                {
                    using var reader = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                    text = new StreamReader(reader, Encoding.ASCII).ReadToEnd();
                }
                catch (FileNotFoundException) { continue; }
                catch (IOException)
                {
                    // Cannot read a live lease: better to collect nothing than to collect what it protects.
                    throw new ImageModuleException("StoreBusy", ErrorKind.ResourceUnavailable, $"Cannot read lease {file}; nothing was collected.", file);
                }
                foreach (var line in text.Split('\n'))
                {
                    if (Digest.TryParse(line.Trim(), out var digest)) yield return digest;
                }
            }
        }

        /// <summary>Whether a lease (by id) is held by a live process.</summary>
        public bool IsLive(string id)
        {
            var file = Path.Combine(_directory, id + ".lease");
            return File.Exists(file) && !DeleteIfOwnerGone(file);
        }

        /// <summary>Whether a lease file is held open (locked) by a live owner, without touching it; a missing one is not.</summary>
        internal static bool IsHeld(string file)
        {
            if (!File.Exists(file)) return false;
            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                return false;
            }
            catch (IOException) { return File.Exists(file); }
            catch (UnauthorizedAccessException) { return true; }
        }

        /// <summary>Deletes a lease file no process holds; true if it was deleted (or vanished).</summary>
        private static bool DeleteIfOwnerGone(string file)
        {
            try
            {
                using (new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
                return true;
            }
            catch (FileNotFoundException) { return true; }
            catch (IOException) { return false; }
            catch (UnauthorizedAccessException) { return false; }
        }

        private sealed class Handle : IDisposable
        {
            private readonly Leases _owner;
            private Lease? _lease;

            public Handle(Leases owner, Lease lease)
            {
                _owner = owner;
                _lease = lease;
            }

            public void Dispose()
            {
                if (_lease is null) return;
                lock (_owner._gate) _owner._open.Remove(_lease);
                _lease.Dispose();
                _lease = null;
            }
        }

        private sealed class Lease : IDisposable
        {
            private readonly FileStream _file;
            private readonly string _path;

            private Lease(string id, string path, FileStream file)
            {
                Id = id;
                _path = path;
                _file = file;
            }

            public string Id { get; }

            public static Lease Create(string directory)
            {
                System.IO.Directory.CreateDirectory(directory);
                var id = $"{Process.GetCurrentProcess().Id}-{Guid.NewGuid():N}";
                var path = Path.Combine(directory, id + ".lease");
                // Opened (and so locked) under another name, then renamed: a cleaner never sees the file unlocked.
                var opening = path + ".new";
                var file = new FileStream(opening, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
                File.Move(opening, path);
                return new Lease(id, path, file);
            }

            public void Add(Digest digest)
            {
                var line = Encoding.ASCII.GetBytes(digest + "\n");
                _file.Write(line, 0, line.Length);
                _file.Flush();
            }

            public void Dispose()
            {
                OciLayout.TryDelete(_path);
                _file.Dispose();
            }
        }
    }
}
