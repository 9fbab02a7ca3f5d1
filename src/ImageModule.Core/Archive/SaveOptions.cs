using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>Options of <see cref="ArchiveWriter"/>.</summary>
    public sealed record SaveOptions
    {
        public SaveFormat Format { get; init; } = SaveFormat.DockerAndOci;
        /// <summary>gzip the whole tar (ignored for <see cref="SaveFormat.OciDirectory"/>).</summary>
        public bool Compress { get; init; }
        /// <summary>The platform asked for: chosen from multi-platform images, required of single-platform ones.</summary>
        public Platform? Platform { get; init; }
        /// <summary>Without <see cref="Platform"/>: the one chosen from multi-platform images (an engine's own); default Platform.Default.</summary>
        public Platform? PreferredPlatform { get; init; }
        /// <summary>Replace an existing file or directory at the target path.</summary>
        public bool Overwrite { get; init; }
        /// <summary>Where legacy-format layers are decompressed before being written; default the system temp directory.</summary>
        public string? TempDirectory { get; init; }
        /// <summary>The temp file (or directory) the archive is written to before it is renamed to the target; default a hidden name beside it.</summary>
        public string? TempTarget { get; init; }
    }

    /// <summary>One image to save: its manifest (or index) in the source store and the names to record for it.</summary>
    public sealed record SaveItem(System.Collections.Generic.IReadOnlyList<string> References, Descriptor Manifest);
}
