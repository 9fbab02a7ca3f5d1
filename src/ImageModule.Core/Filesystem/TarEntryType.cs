namespace ImageModule.Filesystem
{
    /// <summary>The kinds of tar entry a layer can hold (POSIX ustar typeflag).</summary>
    public enum TarEntryType
    {
        File,
        HardLink,
        Symlink,
        CharDevice,
        BlockDevice,
        Directory,
        Fifo,
    }
}
