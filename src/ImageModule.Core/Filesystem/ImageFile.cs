using System;
using System.Text;

namespace ImageModule.Filesystem
{
    /// <summary>One file of an image's final filesystem and the layer that last wrote it (what `dive` shows).</summary>
    public sealed record ImageFile
    {
        /// <summary>Absolute path in the image ("/etc/passwd").</summary>
        public string Path { get; init; } = "";
        public TarEntryType Type { get; init; }
        public long Size { get; init; }
        /// <summary>ls-style mode string, e.g. "-rwxr-xr-x", "drwxr-xr-x", "lrwxrwxrwx".</summary>
        public string Mode { get; init; } = "";
        /// <summary>Numeric permission bits (07777).</summary>
        public int Permissions { get; init; }
        public string? LinkTarget { get; init; }
        public long Uid { get; init; }
        public long Gid { get; init; }
        public DateTimeOffset ModTime { get; init; }
        /// <summary>0 = base layer.</summary>
        public int LayerIndex { get; init; }
        /// <summary>Digest of the layer blob that last wrote this file.</summary>
        public string LayerDigest { get; init; } = "";

        public override string ToString() => Path;

        public static string FormatMode(TarEntryType type, int mode)
        {
            var sb = new StringBuilder(10);
            sb.Append(type switch
            {
                TarEntryType.Directory => 'd',
                TarEntryType.Symlink => 'l',
                TarEntryType.CharDevice => 'c',
                TarEntryType.BlockDevice => 'b',
                TarEntryType.Fifo => 'p',
                _ => '-',
            });
            void Triple(int shift, int special, char set, char setNoExec)
            {
                sb.Append((mode >> (shift + 2) & 1) != 0 ? 'r' : '-');
                sb.Append((mode >> (shift + 1) & 1) != 0 ? 'w' : '-');
                var x = (mode >> shift & 1) != 0;
                sb.Append((mode & special) != 0 ? (x ? set : setNoExec) : (x ? 'x' : '-'));
            }
            Triple(6, 0x800, 's', 'S');
            Triple(3, 0x400, 's', 'S');
            Triple(0, 0x200, 't', 'T');
            return sb.ToString();
        }
    }
}
