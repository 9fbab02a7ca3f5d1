using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>An image manifest, OCI (manifest.md) or Docker schema 2; the two share this shape.</summary>
    public sealed record Manifest
    {
        [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
        [JsonPropertyName("mediaType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
        [JsonPropertyName("artifactType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
        [JsonPropertyName("config")] public Descriptor Config { get; init; } = new();
        [JsonPropertyName("layers")] public IReadOnlyList<Descriptor> Layers { get; init; } = new List<Descriptor>();
        [JsonPropertyName("subject")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; init; }
        [JsonPropertyName("annotations")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    }

    /// <summary>An OCI image index (image-index.md) or Docker manifest list.</summary>
    public sealed record ImageIndex
    {
        [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
        [JsonPropertyName("mediaType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
        [JsonPropertyName("manifests")] public IReadOnlyList<Descriptor> Manifests { get; init; } = new List<Descriptor>();
        [JsonPropertyName("annotations")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }
    }
}
