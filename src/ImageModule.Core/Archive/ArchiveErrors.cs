namespace ImageModule.Archive
{
    /// <summary>Stable error IDs of archive and filesystem operations (scripts and tests match on them).</summary>
    public static class ArchiveErrors
    {
        public const string CorruptTar = "ArchiveCorrupt";
        /// <summary>The archive ends before an entry's header said it would (a cut-off download).</summary>
        public const string Truncated = "ArchiveTruncated";
        /// <summary>A name inside the archive that is not a valid image reference (e.g. upper case).</summary>
        public const string InvalidName = "ArchiveInvalidName";
        public const string UnknownFormat = "ArchiveFormatUnknown";
        public const string LayerMismatch = "ArchiveLayerMismatch";
        public const string BlobMissing = "ArchiveBlobMissing";
        public const string RetagAmbiguous = "ArchiveRetagAmbiguous";
        public const string TargetExists = "ArchiveTargetExists";
        public const string UnsafeEntry = "UnsafeArchiveEntry";
        public const string InvalidChange = "InvalidConfigChange";
        public const string UnsupportedManifest = "UnsupportedManifest";
        public const string PlatformNotFound = "PlatformNotFound";

        internal static ImageModuleException Corrupt(string message, object? target = null) => new(CorruptTar, ErrorKind.InvalidData, message, target);

        internal static ImageModuleException Truncation(string message, object? target = null) => new(Truncated, ErrorKind.InvalidData, message, target);

        internal static ImageModuleException Unsafe(string entry, string why) =>
            new(UnsafeEntry, ErrorKind.SecurityError, $"Refusing unsafe archive entry '{entry}': {why}", entry);
    }
}
