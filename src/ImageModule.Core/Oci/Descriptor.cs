using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>A typed, sized, content-addressed pointer (descriptor.md).</summary>
    public sealed record Descriptor : IJsonDocument
    {
        private readonly string _mediaType = "";
        private readonly IReadOnlyDictionary<string, string>? _annotations;

        public Descriptor() { }

        public Descriptor(string mediaType, Digest digest, long size)
        {
            MediaType = mediaType;
            Digest = digest;
            Size = size;
        }

        [JsonPropertyName("mediaType")] public string MediaType { get => _mediaType; init => _mediaType = value ?? ""; }
        [JsonPropertyName("digest")] public Digest Digest { get; init; }
        [JsonPropertyName("size")] public long Size { get; init; }

        [JsonPropertyName("urls")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public IReadOnlyList<string>? Urls { get; init; }

        [JsonPropertyName("annotations")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public IReadOnlyDictionary<string, string>? Annotations { get => _annotations; init => _annotations = JsonNulls.Map(value); }

        [JsonPropertyName("platform")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public Platform? Platform { get; init; }

        [JsonPropertyName("artifactType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? ArtifactType { get; init; }

        string? IJsonDocument.Problem() => Digest.IsEmpty ? $"a descriptor ({MediaType}) has no digest" : Size < 0 ? $"descriptor {Digest} has a negative size" : null;

        public string? Annotation(string key) => Annotations != null && Annotations.TryGetValue(key, out var v) ? v : null;

        public override string ToString() => $"{MediaType} {Digest} ({Size} bytes)";
    }

    /// <summary>Well-known annotation keys (annotations.md).</summary>
    public static class AnnotationKeys
    {
        public const string RefName = "org.opencontainers.image.ref.name";
        public const string Created = "org.opencontainers.image.created";
        /// <summary>containerd keeps the full reference here; writing it too lets `ctr import` keep names.</summary>
        public const string ContainerdImageName = "io.containerd.image.name";
    }
}
