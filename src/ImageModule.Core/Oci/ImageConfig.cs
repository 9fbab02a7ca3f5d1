using System;
using System.Collections.Generic;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>The image configuration blob (config.md). Field names follow the spec (lower-case top level, Docker-cased "config").</summary>
    public sealed record ImageConfig
    {
        [JsonPropertyName("created")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Created { get; init; }
        [JsonPropertyName("author")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; init; }
        [JsonPropertyName("architecture")] public string Architecture { get; init; } = "";
        [JsonPropertyName("os")] public string Os { get; init; } = "";
        [JsonPropertyName("os.version")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; init; }
        [JsonPropertyName("variant")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; init; }
        [JsonPropertyName("config")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ContainerConfig? Config { get; init; }
        [JsonPropertyName("rootfs")] public RootFs RootFs { get; init; } = new();
        [JsonPropertyName("history")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<HistoryEntry>? History { get; init; }

        [JsonIgnore] public Platform Platform => new() { Os = Os, Architecture = Architecture, Variant = Variant, OsVersion = OsVersion };
    }

    public sealed record ContainerConfig
    {
        [JsonPropertyName("User")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? User { get; init; }
        [JsonPropertyName("ExposedPorts")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }
        [JsonPropertyName("Env")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Env { get; init; }
        [JsonPropertyName("Entrypoint")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Entrypoint { get; init; }
        [JsonPropertyName("Cmd")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmd { get; init; }
        [JsonPropertyName("Volumes")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }
        [JsonPropertyName("WorkingDir")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? WorkingDir { get; init; }
        [JsonPropertyName("Labels")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get; init; }
        [JsonPropertyName("StopSignal")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? StopSignal { get; init; }
        [JsonPropertyName("ArgsEscaped")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool ArgsEscaped { get; init; }
        [JsonPropertyName("OnBuild")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? OnBuild { get; init; }
        [JsonPropertyName("Shell")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Shell { get; init; }
    }

    /// <summary>The "{}" values of ExposedPorts and Volumes.</summary>
    public sealed record EmptyObject;

    public sealed record RootFs
    {
        [JsonPropertyName("type")] public string Type { get; init; } = "layers";
        [JsonPropertyName("diff_ids")] public IReadOnlyList<Digest> DiffIds { get; init; } = new List<Digest>();
    }

    public sealed record HistoryEntry
    {
        [JsonPropertyName("created")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Created { get; init; }
        [JsonPropertyName("created_by")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? CreatedBy { get; init; }
        [JsonPropertyName("author")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; init; }
        [JsonPropertyName("comment")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Comment { get; init; }
        [JsonPropertyName("empty_layer")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool EmptyLayer { get; init; }
    }
}
