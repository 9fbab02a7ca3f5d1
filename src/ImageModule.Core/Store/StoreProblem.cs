using System;
using System.Collections.Generic;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>What Test-ImageStore can find wrong with a store (podman system check, ctr content verify).</summary>
    public enum StoreProblemKind
    {
        /// <summary>index.json cannot be read; the names recorded in .imagemodule/names.json can rebuild it.</summary>
        IndexUnreadable,
        /// <summary>A blob's content does not hash to its name (or its size is not what a descriptor says).</summary>
        BlobCorrupt,
        /// <summary>A blob an image needs is not in the store.</summary>
        BlobMissing,
        /// <summary>A manifest or index blob that is intact but not a document we understand.</summary>
        ManifestInvalid,
        /// <summary>A config blob that is intact but not an image config.</summary>
        ConfigInvalid,
        /// <summary>cache.json is unreadable or says something the blobs do not.</summary>
        CacheInvalid,
        /// <summary>A staging file or directory no live process owns (left by a killed import, pull or save).</summary>
        StagingLeftover,
    }

    /// <summary>One problem in a store, with the images it affects and what Repair-ImageStore would do about it.</summary>
    public sealed class StoreProblem
    {
        public StoreProblemKind Kind { get; init; }
        /// <summary>The blob digest, or the file or directory, the problem is about.</summary>
        public string Target { get; init; } = "";
        /// <summary>Names (or manifest digests of unnamed images) that need <see cref="Target"/>.</summary>
        public IReadOnlyList<string> Images { get; init; } = Array.Empty<string>();
        public string Message { get; init; } = "";
        /// <summary>What Repair-ImageStore does about it.</summary>
        public string Repair { get; init; } = "";
        /// <summary>After Repair-ImageStore: what was done (or why nothing could be); null when only tested.</summary>
        public string? Resolution { get; set; }
        public bool Repaired { get; set; }
        /// <summary>The blob, for problems about one (fetching it again needs its digest and size).</summary>
        public Descriptor? Blob { get; init; }
        public string Location { get; init; } = "";

        public override string ToString() => $"{Kind} {Target}: {Message}";
    }
}
