using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Facts that are expensive to derive from blobs — uncompressed layer sizes and per-manifest summaries — kept in
    /// .imagemodule/cache.json so listing never opens a layer. Everything here can be rebuilt from the blobs, so a
    /// missing, stale or corrupt cache is simply recomputed; concurrent writers may lose entries, never correctness.
    /// </summary>
    internal sealed class StoreCache
    {
        private static readonly JsonSerializerOptions Options = new(OciJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

        [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;
        [JsonPropertyName("uncompressedSizes")] public Dictionary<string, long> UncompressedSizes { get; set; } = new();
        [JsonPropertyName("images")] public Dictionary<string, ImageSummary> Images { get; set; } = new();

        [JsonIgnore] public bool Dirty { get; set; }

        private const int CurrentVersion = 1;

        public static StoreCache Load(string path)
        {
            try
            {
                if (!File.Exists(path)) return new StoreCache();
                var cache = JsonSerializer.Deserialize<StoreCache>(File.ReadAllBytes(path), Options);
                return cache is { Version: CurrentVersion } ? cache : new StoreCache();
            }
            catch (Exception e) when (e is JsonException || e is IOException || e is NotSupportedException || e is InvalidDigestException)
            {
                return new StoreCache();
            }
        }

        public void SaveIfDirty(string path)
        {
            if (!Dirty) return;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                OciLayout.WriteAllBytesAtomic(path, JsonSerializer.SerializeToUtf8Bytes(this, Options));
                Dirty = false;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>What listing needs of one manifest (or the platform-matching child of an index).</summary>
    internal sealed class ImageSummary
    {
        [JsonPropertyName("manifest")] public Descriptor Manifest { get; set; } = new();
        [JsonPropertyName("config")] public Descriptor Config { get; set; } = new();
        [JsonPropertyName("layers")] public List<Descriptor> Layers { get; set; } = new();
        [JsonPropertyName("diffIds")] public List<Digest> DiffIds { get; set; } = new();
        [JsonPropertyName("created")] public DateTimeOffset? Created { get; set; }
        [JsonPropertyName("os")] public string Os { get; set; } = "";
        [JsonPropertyName("architecture")] public string Architecture { get; set; } = "";
        [JsonPropertyName("variant")] public string? Variant { get; set; }
        [JsonPropertyName("author")] public string? Author { get; set; }
        [JsonPropertyName("containerConfig")] public ContainerConfig? ContainerConfig { get; set; }
    }
}
