namespace ImageModule.Compression
{
    /// <summary>Compression wrapped around a whole archive or a layer, told by magic bytes.</summary>
    public enum ArchiveCompression
    {
        None,
        Gzip,
        Zstd,
        Xz,
        Bzip2,
    }
}
