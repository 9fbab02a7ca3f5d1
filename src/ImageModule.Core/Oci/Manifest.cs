using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>An image manifest, OCI (manifest.md) or Docker schema 2; the two share this shape.</summary>
    public sealed record Manifest : IJsonDocument
    {
        private readonly Descriptor? _config;
        private readonly IReadOnlyList<Descriptor> _layers = System.Array.Empty<Descriptor>();

        [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
        [JsonPropertyName("mediaType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
        [JsonPropertyName("artifactType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? ArtifactType { get; init; }
        [JsonPropertyName("config")] public Descriptor Config { get => _config ?? new Descriptor(); init => _config = value; }
        [JsonPropertyName("layers")] public IReadOnlyList<Descriptor> Layers { get => _layers; init => _layers = JsonNulls.List(value); }
        [JsonPropertyName("subject")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public Descriptor? Subject { get; init; }
        [JsonPropertyName("annotations")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }

        string? IJsonDocument.Problem()
        {
            if (_config is null) return "the manifest has no config";
            if (((IJsonDocument)_config).Problem() is string p) return "config: " + p;
            for (var i = 0; i < _layers.Count; i++)
            {
                if (_layers[i] is null) return $"layers[{i}] is null";
                if (((IJsonDocument)_layers[i]).Problem() is string q) return $"layers[{i}]: {q}";
            }
            return Subject is null ? null : ((IJsonDocument)Subject).Problem();
        }
    }

    /// <summary>An OCI image index (image-index.md) or Docker manifest list.</summary>
    public sealed record ImageIndex : IJsonDocument
    {
        private readonly IReadOnlyList<Descriptor> _manifests = System.Array.Empty<Descriptor>();

        [JsonPropertyName("schemaVersion")] public int SchemaVersion { get; init; } = 2;
        [JsonPropertyName("mediaType")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? MediaType { get; init; }
        [JsonPropertyName("manifests")] public IReadOnlyList<Descriptor> Manifests { get => _manifests; init => _manifests = JsonNulls.List(value); }
        [JsonPropertyName("annotations")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Annotations { get; init; }

        string? IJsonDocument.Problem()
        {
            for (var i = 0; i < _manifests.Count; i++)
            {
                if (_manifests[i] is null) return $"manifests[{i}] is null";
                if (((IJsonDocument)_manifests[i]).Problem() is string p) return $"manifests[{i}]: {p}";
            }
            return null;
        }
    }
}
