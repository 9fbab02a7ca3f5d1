namespace ImageModule.Filesystem
{
    /// <summary>
    /// Stable error IDs of tar reading and safe extraction. They live here, below the archive code, so that the
    /// filesystem code never depends on <c>ImageModule.Archive</c> (which builds on it); ArchiveErrors repeats them.
    /// </summary>
    public static class TarErrors
    {
        public const string CorruptTar = "ArchiveCorrupt";
        /// <summary>The archive ends before an entry's header said it would (a cut-off download).</summary>
        public const string Truncated = "ArchiveTruncated";
        public const string UnsafeEntry = "UnsafeArchiveEntry";

        internal static ImageModuleException Corrupt(string message, object? target = null) => new(CorruptTar, ErrorKind.InvalidData, message, target);

        internal static ImageModuleException Truncation(string message, object? target = null) => new(Truncated, ErrorKind.InvalidData, message, target);

        internal static ImageModuleException Unsafe(string entry, string why) =>
            new(UnsafeEntry, ErrorKind.SecurityError, $"Refusing unsafe archive entry '{entry}': {why}", entry);
    }
}
