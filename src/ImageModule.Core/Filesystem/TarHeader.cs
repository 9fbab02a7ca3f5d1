using System;
using System.Collections.Generic;

namespace ImageModule.Filesystem
{
    /// <summary>One tar entry's metadata, after PAX and GNU long-name records were folded in.</summary>
    public sealed record TarHeader
    {
        /// <summary>Name as stored in the archive (not normalised).</summary>
        public string Name { get; init; } = "";
        public TarEntryType Type { get; init; } = TarEntryType.File;
        public string LinkName { get; init; } = "";
        /// <summary>Permission bits including setuid/setgid/sticky (07777).</summary>
        public int Mode { get; init; }
        public long Uid { get; init; }
        public long Gid { get; init; }
        public string UserName { get; init; } = "";
        public string GroupName { get; init; } = "";
        public long Size { get; init; }
        public DateTimeOffset ModTime { get; init; } = DateTimeOffset.FromUnixTimeSeconds(0);
        public long DevMajor { get; init; }
        public long DevMinor { get; init; }
        /// <summary>PAX records we do not interpret (xattrs, atime…), kept so an export can pass them through.</summary>
        public IReadOnlyDictionary<string, string>? ExtraPax { get; init; }
    }
}
