namespace ImageModule.Compression
{
    /// <summary>
    /// When counting a layer's uncompressed size stops (a decompression bomb: a few MB that expand to tens of GiB).
    /// Real layers expand a few times, sparse ones some tens; past both the ratio and the floor the count stops and the
    /// size is recorded as unknown (<see cref="Unknown"/>) instead of burning minutes of CPU.
    /// </summary>
    public static class ExpansionLimit
    {
        public const long Ratio = 100;
        public const long Floor = 256L << 20;

        /// <summary>The recorded uncompressed size of a layer whose count was stopped.</summary>
        public const long Unknown = -1;

        public static bool Exceeded(long compressed, long expanded) => expanded > Floor && expanded > compressed * Ratio;
    }
}
