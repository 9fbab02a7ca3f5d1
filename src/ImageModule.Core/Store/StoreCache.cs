using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Facts that are expensive to derive from blobs — uncompressed layer sizes and per-manifest summaries — kept in
    /// .imagemodule/cache.json so listing never opens a layer. Everything here can be rebuilt from the blobs, so a
    /// missing, stale or corrupt cache is simply recomputed; concurrent writers may lose entries, never correctness.
    /// The file is the JSON preceded by one line, "sha256:&lt;hex&gt;", the digest of the JSON: a cache this code wrote
    /// is <see cref="Signed"/>, and listing may believe its summaries without reading manifests and configs again.
    /// Any other cache (edited, damaged, older) loses its summaries on load; its sizes stay, as hints.
    /// </summary>
    internal sealed class StoreCache
    {
        private static readonly JsonSerializerOptions Options = new(OciJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

        [JsonPropertyName("version")] public int Version { get; set; } = CurrentVersion;
        private Dictionary<string, long> _sizes = new();
        private Dictionary<string, ImageSummary> _images = new();

        // A cache is a hint: null where a map belongs is an empty map, a null summary is no summary (rebuilt from blobs).
        [JsonPropertyName("uncompressedSizes")] public Dictionary<string, long> UncompressedSizes { get => _sizes; set => _sizes = value ?? new(); }
        [JsonPropertyName("images")]
        public Dictionary<string, ImageSummary> Images
        {
            get => _images;
            set => _images = value is null ? new() : value.Where(kv => kv.Value != null).ToDictionary(kv => kv.Key, kv => kv.Value);
        }

        [JsonIgnore] public bool Dirty { get; set; }

        /// <summary>Read from a file whose digest line matches its JSON: what this code wrote, unchanged since.</summary>
        [JsonIgnore] public bool Signed { get; private set; }

        private const int CurrentVersion = 1;
        private const int HeaderLength = 7 + 64 + 1; // "sha256:" + hex + "\n"

        public static StoreCache Load(string path)
        {
            try
            {
                if (!File.Exists(path)) return new StoreCache();
                var json = Payload(File.ReadAllBytes(path), out var signed);
                var cache = JsonSerializer.Deserialize<StoreCache>((ReadOnlySpan<byte>)json, Options);
                if (!(cache is { Version: CurrentVersion })) return new StoreCache();
                cache.Signed = signed;
                if (!signed && cache.Images.Count > 0)
                {
                    cache.Images.Clear();
                    cache.Dirty = true;
                }
                return cache;
            }
            catch (Exception e) when (e is JsonException || e is IOException || e is NotSupportedException || e is InvalidDigestException
                                      || e is UnauthorizedAccessException || e is InvalidOperationException || e is ArgumentException)
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
                var json = JsonSerializer.SerializeToUtf8Bytes(this, Options);
                var header = Encoding.ASCII.GetBytes(Digest.Compute(json) + "\n");
                var file = new byte[header.Length + json.Length];
                header.CopyTo(file, 0);
                json.CopyTo(file, header.Length);
                OciLayout.WriteAllBytesAtomic(path, file);
                Dirty = false;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }

        /// <summary>The JSON of a cache file without its digest line; <paramref name="signed"/> when the line matches it.</summary>
        public static ArraySegment<byte> Payload(byte[] file, out bool signed)
        {
            signed = false;
            if (file.Length < HeaderLength || file[HeaderLength - 1] != (byte)'\n' || !file.Take(7).SequenceEqual(Encoding.ASCII.GetBytes("sha256:")))
                return new ArraySegment<byte>(file);
            var json = new ArraySegment<byte>(file, HeaderLength, file.Length - HeaderLength);
            signed = Digest.TryParse(Encoding.ASCII.GetString(file, 0, HeaderLength - 1), out var digest) && Digest.Compute(file, HeaderLength, json.Count) == digest;
            return json;
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

        /// <summary>Ok for summaries read from blobs that are all there; broken summaries are never cached.</summary>
        [JsonIgnore] public ImageStatus Status { get; set; } = ImageStatus.Ok;
        [JsonIgnore] public string? Problem { get; set; }

        public ImageSummary With(ImageStatus status, string problem) => new()
        {
            Manifest = Manifest, Config = Config, Layers = Layers, DiffIds = DiffIds, Created = Created, Os = Os,
            Architecture = Architecture, Variant = Variant, Author = Author, ContainerConfig = ContainerConfig,
            Status = status, Problem = problem,
        };
    }
}
