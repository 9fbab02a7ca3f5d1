namespace ImageModule.Content
{
    /// <summary>
    /// One progress report from a long operation. The cmdlet layer turns it into a ProgressRecord on the pipeline
    /// thread; <see cref="Id"/> separates concurrent items (one bar per layer), <see cref="ParentId"/> nests them.
    /// </summary>
    public sealed record OperationProgress
    {
        public int Id { get; init; }
        public int ParentId { get; init; } = -1;
        public string Activity { get; init; } = "";
        public string Status { get; init; } = "";
        public long BytesDone { get; init; }
        /// <summary>Total bytes, or -1 when unknown.</summary>
        public long BytesTotal { get; init; } = -1;
        public bool Completed { get; init; }
        /// <summary>A line of narration (<see cref="Narrator"/>) instead of a progress update: shown with -Verbose.</summary>
        public string? Message { get; init; }
    }
}
