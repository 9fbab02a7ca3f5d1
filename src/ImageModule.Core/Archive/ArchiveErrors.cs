namespace ImageModule.Archive
{
    /// <summary>Stable error IDs of archive and filesystem operations (scripts and tests match on them).</summary>
    public static class ArchiveErrors
    {
        public const string CorruptTar = "ArchiveCorrupt";
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

        internal static ImageModuleException Unsafe(string entry, string why) =>
            new(UnsafeEntry, ErrorKind.SecurityError, $"Refusing unsafe archive entry '{entry}': {why}", entry);
    }
}
