using System;
using System.Collections.Generic;
using ImageModule.Oci;

namespace ImageModule
{
    /// <summary>
    /// One image under one name, as `docker images` lists it: an image with two tags is two rows with the same Id.
    /// The same type comes from the local store and from an engine, so format views and pipelines work on both.
    /// </summary>
    public sealed class Image
    {
        /// <summary>Familiar repository as docker prints it ("alpine", "localhost:5000/app"); "&lt;none&gt;" when dangling.</summary>
        public string Repository { get; init; } = "<none>";
        /// <summary>Tag, or "&lt;none&gt;" when the image is dangling or named only by digest.</summary>
        public string Tag { get; init; } = "<none>";
        /// <summary>Full normalised reference ("docker.io/library/alpine:3.20"), or null when dangling.</summary>
        public string? Name { get; init; }
        /// <summary>Image ID: the config digest ("sha256:…").</summary>
        public string Id { get; init; } = "";
        public string ShortId => Id.Length > 19 && Id.StartsWith("sha256:", StringComparison.Ordinal) ? Id.Substring(7, 12) : Id;
        /// <summary>Manifest digest ("sha256:…"): what a registry serves and `name@digest` pins.</summary>
        public string? Digest { get; init; }
        public DateTimeOffset? Created { get; init; }
        /// <summary>Uncompressed size of all layers, like `docker images` SIZE.</summary>
        public long Size { get; init; }
        /// <summary>Size of the layer blobs as stored (usually gzip).</summary>
        public long CompressedSize { get; init; }
        /// <summary>Uncompressed size of the layers other images also use.</summary>
        public long SharedSize { get; init; }
        /// <summary>Uncompressed size only this image uses: what removing it frees.</summary>
        public long UniqueSize => Size - SharedSize;
        public string Platform { get; init; } = "";
        public string Os { get; init; } = "";
        public string Architecture { get; init; } = "";
        public string? Author { get; init; }
        public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
        public ContainerConfig Config { get; init; } = new();
        /// <summary>Every full name that points at this image's Id in the same store.</summary>
        public IReadOnlyList<string> RepoTags { get; init; } = Array.Empty<string>();
        public IReadOnlyList<string> RepoDigests { get; init; } = Array.Empty<string>();
        public IReadOnlyList<string> LayerDiffIds { get; init; } = Array.Empty<string>();
        public int LayerCount => LayerDiffIds.Count;
        public string MediaType { get; init; } = MediaTypes.OciManifest;
        /// <summary>Where the image lives: the store's directory or the engine's URI.</summary>
        public string Location { get; init; } = "";
        /// <summary>"Store", "Docker" or "Podman".</summary>
        public string StoreKind { get; init; } = "Store";
        public bool Dangling => Name is null;
        /// <summary>Ok, or what keeps the image from being used: Incomplete (a blob is missing) or Corrupt (a blob is unreadable).</summary>
        public ImageStatus Status { get; init; } = ImageStatus.Ok;
        /// <summary>What is wrong when <see cref="Status"/> is not Ok (which blob, and how), else null.</summary>
        public string? Problem { get; init; }

        public override string ToString() => Name ?? Id;
    }

    /// <summary>
    /// Whether an image's blobs are all there and readable. Every index.json entry is listed, whatever its state, so a
    /// damaged image can be seen, removed by name, and repaired (Test-ImageStore, Repair-ImageStore).
    /// </summary>
    public enum ImageStatus
    {
        Ok,
        /// <summary>A blob the image needs (manifest, config or layer) is not in the store.</summary>
        Incomplete,
        /// <summary>A blob the image needs is there but unreadable: not valid JSON, or not what its digest names.</summary>
        Corrupt,
    }

    /// <summary>One filesystem layer of an image, with its history entry merged in (docker history).</summary>
    public sealed class ImageLayer
    {
        /// <summary>Position in the image, 0 = base. History-only entries (EmptyLayer) share the index of the layer below.</summary>
        public int Index { get; init; }
        public string ImageName { get; init; } = "";
        public string ImageId { get; init; } = "";
        public string? DiffId { get; init; }
        public string? Digest { get; init; }
        public long Size { get; init; }
        public long CompressedSize { get; init; }
        public string? MediaType { get; init; }
        public string? CreatedBy { get; init; }
        public DateTimeOffset? Created { get; init; }
        public string? Comment { get; init; }
        public string? Author { get; init; }
        public bool EmptyLayer { get; init; }
        /// <summary>Names of the other images in the same store that use this layer.</summary>
        public IReadOnlyList<string> SharedBy { get; init; } = Array.Empty<string>();

        public override string ToString() => Digest ?? CreatedBy ?? "";
    }
}
