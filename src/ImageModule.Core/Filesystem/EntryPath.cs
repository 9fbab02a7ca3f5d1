using System;
using System.Collections.Generic;

namespace ImageModule.Filesystem
{
    /// <summary>Normalises layer entry names to "a/b/c" relative to the image root, rejecting names that could escape it.</summary>
    public static class EntryPath
    {
        /// <summary>Returns the normalised path ("" for the root itself), or throws UnsafeArchiveEntry for absolute or "..".</summary>
        public static string Normalize(string name)
        {
            if (name.IndexOf('\0') >= 0) throw TarErrors.Unsafe(name, "NUL in name");
            var n = name.Replace('\\', '/');
            if (n.StartsWith("/", StringComparison.Ordinal) || (n.Length >= 2 && n[1] == ':')) throw TarErrors.Unsafe(name, "absolute path");
            var parts = new List<string>();
            foreach (var p in n.Split('/'))
            {
                if (p.Length == 0 || p == ".") continue;
                if (p == "..") throw TarErrors.Unsafe(name, "path contains '..'");
                parts.Add(p);
            }
            return string.Join("/", parts);
        }

        public static string Parent(string path)
        {
            var slash = path.LastIndexOf('/');
            return slash < 0 ? "" : path.Substring(0, slash);
        }
    }
}
