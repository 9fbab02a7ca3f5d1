using System;

namespace ImageModule.Filesystem
{
    /// <summary>OCI whiteouts (image-spec layer.md#whiteouts): ".wh.NAME" deletes NAME from lower layers; ".wh..wh..opq" hides all lower content of its directory.</summary>
    public static class Whiteout
    {
        public const string Prefix = ".wh.";
        public const string Opaque = ".wh..wh..opq";

        /// <summary>Classifies a normalised path: returns the path it deletes (or the opaque directory), or null for an ordinary entry.</summary>
        public static string? Target(string path, out bool opaque)
        {
            opaque = false;
            var slash = path.LastIndexOf('/');
            var dir = slash < 0 ? "" : path.Substring(0, slash);
            var name = slash < 0 ? path : path.Substring(slash + 1);
            if (name == Opaque) { opaque = true; return dir; }
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return null;
            var victim = name.Substring(Prefix.Length);
            if (victim.Length == 0 || victim == "." || victim == "..") return null;
            return dir.Length == 0 ? victim : dir + "/" + victim;
        }
    }
}
