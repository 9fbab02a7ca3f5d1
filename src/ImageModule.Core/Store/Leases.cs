using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Leases (containerd's word): files under .imagemodule/leases/, one per ingest in progress, named
    /// <c>&lt;pid&gt;-&lt;guid&gt;.lease</c> and listing the digests that ingest wrote or relies on. The collector spares
    /// every digest a lease of a live process names; a lease whose process is gone is deleted.
    /// </summary>
    internal sealed class Leases
    {
        private readonly string _directory;
        private readonly object _gate = new();
        private readonly List<Lease> _open = new();

        public Leases(string directory) => _directory = directory;

        /// <summary>Opens a lease; every digest recorded while it is open is written to it.</summary>
        public IDisposable Begin()
        {
            Directory.CreateDirectory(_directory);
            var lease = new Lease(this, Path.Combine(_directory, $"{Process.GetCurrentProcess().Id}-{Guid.NewGuid():N}.lease"));
            lock (_gate) _open.Add(lease);
            return lease;
        }

        /// <summary>Adds a digest to every lease this process holds open on the store.</summary>
        public void Record(Digest digest)
        {
            lock (_gate)
            {
                foreach (var lease in _open) lease.Add(digest);
            }
        }

        /// <summary>Every digest a live process's lease names; leases of dead processes are deleted on the way.</summary>
        public IEnumerable<Digest> LiveDigests()
        {
            if (!Directory.Exists(_directory)) yield break;
            foreach (var file in Directory.GetFiles(_directory, "*.lease"))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                var dash = name.IndexOf('-');
                if (dash <= 0 || !int.TryParse(name.Substring(0, dash), out var pid) || !IsAlive(pid))
                {
                    OciLayout.TryDelete(file);
                    continue;
                }
                string[] lines;
                try { lines = File.ReadAllLines(file); }
                catch (IOException) { continue; }
                foreach (var line in lines)
                {
                    if (Digest.TryParse(line.Trim(), out var digest)) yield return digest;
                }
            }
        }

        internal static bool IsAlive(int pid)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                return !process.HasExited;
            }
            catch (ArgumentException) { return false; }
            catch (InvalidOperationException) { return false; }
        }

        private sealed class Lease : IDisposable
        {
            private readonly Leases _owner;
            private readonly string _path;

            public Lease(Leases owner, string path)
            {
                _owner = owner;
                _path = path;
                File.WriteAllText(path, "");
            }

            public void Add(Digest digest)
            {
                try { File.AppendAllText(_path, digest + "\n"); }
                catch (IOException) { }
            }

            public void Dispose()
            {
                lock (_owner._gate) _owner._open.Remove(this);
                OciLayout.TryDelete(_path);
            }
        }
    }
}
