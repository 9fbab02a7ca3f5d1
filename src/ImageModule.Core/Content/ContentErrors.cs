namespace ImageModule.Content
{
    /// <summary>Stable error IDs of reading images out of a content store (ArchiveErrors repeats them).</summary>
    public static class ContentErrors
    {
        public const string UnsupportedManifest = "UnsupportedManifest";
        public const string PlatformNotFound = "PlatformNotFound";
    }
}
