using System;
using System.Collections.Generic;
using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>Options of <see cref="RootfsImporter"/> (`docker import`).</summary>
    public sealed record RootfsImportOptions
    {
        /// <summary>Reference to tag the new image with; null leaves it untagged.</summary>
        public string? Name { get; init; }
        /// <summary>Dockerfile-style config edits: "ENV A=1", "CMD [\"/bin/sh\"]", …</summary>
        public IReadOnlyList<string> Changes { get; init; } = Array.Empty<string>();
        /// <summary>os/arch of the image; default the current platform.</summary>
        public Platform? Platform { get; init; }
        /// <summary>History comment (docker import -m).</summary>
        public string? Message { get; init; }
        /// <summary>Creation time; default now.</summary>
        public DateTimeOffset? Created { get; init; }
        /// <summary>Where the gzip layer is built before it is pushed; default the system temp directory.</summary>
        public string? TempDirectory { get; init; }
    }
}
