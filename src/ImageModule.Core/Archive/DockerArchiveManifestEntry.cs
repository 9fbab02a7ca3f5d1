using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace ImageModule.Archive
{
    /// <summary>One element of a docker-archive's manifest.json (docker save / containers/image docker/tarfile).</summary>
    public sealed record DockerArchiveManifestEntry
    {
        [JsonPropertyName("Config")] public string Config { get; init; } = "";
        [JsonPropertyName("RepoTags")] public IReadOnlyList<string>? RepoTags { get; init; }
        [JsonPropertyName("Layers")] public IReadOnlyList<string> Layers { get; init; } = new List<string>();
    }
}
