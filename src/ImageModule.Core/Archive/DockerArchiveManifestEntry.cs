using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Serialization;

namespace ImageModule.Archive
{
    /// <summary>One element of a docker-archive's manifest.json (docker save / containers/image docker/tarfile).</summary>
    public sealed record DockerArchiveManifestEntry
    {
        private readonly string _config = "";
        private readonly IReadOnlyList<string>? _repoTags;
        private readonly IReadOnlyList<string> _layers = System.Array.Empty<string>();

        // null reads as Go reads it (docker's own loader is Go): an empty string, an empty list; null tags are no tags.
        [JsonPropertyName("Config")] public string Config { get => _config; init => _config = value ?? ""; }
        [JsonPropertyName("RepoTags")] public IReadOnlyList<string>? RepoTags { get => _repoTags; init => _repoTags = value?.Where(t => !string.IsNullOrEmpty(t)).ToList(); }
        [JsonPropertyName("Layers")] public IReadOnlyList<string> Layers { get => _layers; init => _layers = (IReadOnlyList<string>?)value?.Select(l => l ?? "").ToList() ?? System.Array.Empty<string>(); }
    }
}
