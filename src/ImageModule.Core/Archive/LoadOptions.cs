namespace ImageModule.Archive
{
    /// <summary>Options of <see cref="ArchiveLoader"/>.</summary>
    public sealed record LoadOptions
    {
        /// <summary>Tag the (single) image with this reference instead of the names the archive holds.</summary>
        public string? Name { get; init; }

        /// <summary>
        /// Keep only this platform's image of a multi-platform image (docker load --platform): the name is given to
        /// that image's manifest, not to the index. A single-platform image must be for it (PlatformNotFound). Blobs
        /// of the other platforms that passed by are unnamed and go at the next collection.
        /// </summary>
        public Oci.Platform? Platform { get; init; }

        /// <summary>Largest JSON document (manifest.json, index.json, configs) read into memory.</summary>
        public long MaxJsonBytes { get; init; } = 32L << 20;

        /// <summary>Directory for spooling docker-archive layers whose digest is only known after reading them; default the system temp directory.</summary>
        public string? TempDirectory { get; init; }
    }
}
