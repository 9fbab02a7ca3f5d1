using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>The image configuration blob (config.md). Field names follow the spec (lower-case top level, Docker-cased "config").</summary>
    public sealed record ImageConfig : IJsonDocument
    {
        private readonly string _architecture = "", _os = "";
        private readonly RootFs _rootFs = new();
        private readonly IReadOnlyList<HistoryEntry>? _history;

        [JsonPropertyName("created")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public DateTimeOffset? Created { get; init; }
        [JsonPropertyName("author")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Author { get; init; }
        [JsonPropertyName("architecture")] public string Architecture { get => _architecture; init => _architecture = value ?? ""; }
        [JsonPropertyName("os")] public string Os { get => _os; init => _os = value ?? ""; }
        [JsonPropertyName("os.version")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; init; }
        [JsonPropertyName("variant")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; init; }
        [JsonPropertyName("config")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public ContainerConfig? Config { get; init; }
        [JsonPropertyName("rootfs")] public RootFs RootFs { get => _rootFs; init => _rootFs = value ?? new RootFs(); }
        [JsonPropertyName("history")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<HistoryEntry>? History
        {
            get => _history;
            // Go reads a null history entry as an empty one.
            init => _history = value is null || !System.Linq.Enumerable.Any(value, h => h is null) ? value : System.Linq.Enumerable.ToList(System.Linq.Enumerable.Select(value, h => h ?? new HistoryEntry()));
        }

        [JsonIgnore] public Platform Platform => new() { Os = Os, Architecture = Architecture, Variant = Variant, OsVersion = OsVersion };

        string? IJsonDocument.Problem()
        {
            var diffIds = RootFs.DiffIds;
            for (var i = 0; i < diffIds.Count; i++) if (diffIds[i].IsEmpty) return $"rootfs.diff_ids[{i}] is empty";
            return null;
        }
    }

    public sealed record ContainerConfig
    {
        private readonly IReadOnlyList<string>? _env, _entrypoint, _cmd, _onbuild, _shell;
        private readonly IReadOnlyDictionary<string, string>? _labels;

        [JsonPropertyName("User")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? User { get; init; }
        [JsonPropertyName("ExposedPorts")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, EmptyObject>? ExposedPorts { get; init; }
        [JsonPropertyName("Env")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Env { get => _env; init => _env = JsonNulls.Strings(value); }
        [JsonPropertyName("Entrypoint")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Entrypoint { get => _entrypoint; init => _entrypoint = JsonNulls.Strings(value); }
        [JsonPropertyName("Cmd")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Cmd { get => _cmd; init => _cmd = JsonNulls.Strings(value); }
        [JsonPropertyName("Volumes")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, EmptyObject>? Volumes { get; init; }
        [JsonPropertyName("WorkingDir")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? WorkingDir { get; init; }
        [JsonPropertyName("Labels")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyDictionary<string, string>? Labels { get => _labels; init => _labels = JsonNulls.Map(value); }
        [JsonPropertyName("StopSignal")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? StopSignal { get; init; }
        [JsonPropertyName("ArgsEscaped")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] public bool ArgsEscaped { get; init; }
        [JsonPropertyName("OnBuild")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? OnBuild { get => _onbuild; init => _onbuild = JsonNulls.Strings(value); }
        [JsonPropertyName("Shell")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public IReadOnlyList<string>? Shell { get => _shell; init => _shell = JsonNulls.Strings(value); }

        /// <summary>
        /// One readable line of what is set ("Cmd: /bin/sh; Env: MODE=prod; WorkingDir: /app"), for Format-List *
        /// and Export-Csv, which show a nested object by its ToString.
        /// </summary>
        public override string ToString()
        {
            var parts = new List<string>();
            void Add(string name, string? value) { if (!string.IsNullOrEmpty(value)) parts.Add(name + ": " + value); }
            Add("Entrypoint", Entrypoint is null ? null : string.Join(" ", Entrypoint));
            Add("Cmd", Cmd is null ? null : string.Join(" ", Cmd));
            Add("Env", Env is null ? null : string.Join(", ", Env));
            Add("WorkingDir", WorkingDir);
            Add("User", User);
            Add("ExposedPorts", ExposedPorts is null ? null : string.Join(", ", ExposedPorts.Keys));
            Add("Volumes", Volumes is null ? null : string.Join(", ", Volumes.Keys));
            Add("Labels", Labels is null ? null : string.Join(", ", Labels.Select(l => l.Key + "=" + l.Value)));
            Add("StopSignal", StopSignal);
            return string.Join("; ", parts);
        }
    }

    /// <summary>The "{}" values of ExposedPorts and Volumes.</summary>
    public sealed record EmptyObject;

    public sealed record RootFs
    {
        private readonly string _type = "layers";
        private readonly IReadOnlyList<Digest> _diffIds = Array.Empty<Digest>();

        [JsonPropertyName("type")] public string Type { get => _type; init => _type = value ?? ""; }
        [JsonPropertyName("diff_ids")] public IReadOnlyList<Digest> DiffIds { get => _diffIds; init => _diffIds = JsonNulls.List(value); }
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
