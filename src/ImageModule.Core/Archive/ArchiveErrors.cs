namespace ImageModule.Archive
{
    /// <summary>Stable error IDs of archive and filesystem operations (scripts and tests match on them).</summary>
    public static class ArchiveErrors
    {
        public const string CorruptTar = Filesystem.TarErrors.CorruptTar;
        public const string Truncated = Filesystem.TarErrors.Truncated;
        /// <summary>A name inside the archive that is not a valid image reference (e.g. upper case).</summary>
        public const string InvalidName = "ArchiveInvalidName";
        public const string UnknownFormat = "ArchiveFormatUnknown";
        public const string LayerMismatch = "ArchiveLayerMismatch";
        public const string BlobMissing = "ArchiveBlobMissing";
        public const string RetagAmbiguous = "ArchiveRetagAmbiguous";
        public const string TargetExists = "ArchiveTargetExists";
        public const string UnsafeEntry = Filesystem.TarErrors.UnsafeEntry;
        public const string InvalidChange = "InvalidConfigChange";
        public const string UnsupportedManifest = Content.ContentErrors.UnsupportedManifest;
        public const string PlatformNotFound = Content.ContentErrors.PlatformNotFound;

        internal static ImageModuleException Corrupt(string message, object? target = null) => Filesystem.TarErrors.Corrupt(message, target);

        internal static ImageModuleException Unsafe(string entry, string why) => Filesystem.TarErrors.Unsafe(entry, why);
    }
}
