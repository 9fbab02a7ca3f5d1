using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageModule.Registry
{
    /// <summary>How to reach one registry: mirrors to try first for reads, whether TLS may be skipped, an extra CA.</summary>
    public sealed record RegistryHostSettings
    {
        public RegistryHostSettings(string registry) => Registry = registry;

        public string Registry { get; init; }

        /// <summary>Registries (host[:port][/path prefix]) tried in order before this one when pulling; writes never go to a mirror.</summary>
        public IReadOnlyList<string> Mirrors { get; init; } = Array.Empty<string>();

        /// <summary>Plain HTTP, or HTTPS without certificate verification, as docker's insecure-registries.</summary>
        public bool Insecure { get; init; }

        /// <summary>A PEM file of CA certificates trusted for this registry in addition to the system's.</summary>
        public string? CertificateAuthority { get; init; }

        /// <summary>Seconds to open a connection (TCP and TLS); unset: <see cref="RegistryTimeouts.Default"/>.</summary>
        public double? ConnectTimeout { get; init; }

        /// <summary>Seconds from a request to its response headers.</summary>
        public double? ResponseTimeout { get; init; }

        /// <summary>Seconds a response body may send nothing before the download counts as dropped.</summary>
        public double? IdleTimeout { get; init; }

        [JsonIgnore]
        public RegistryTimeouts Timeouts => RegistryTimeouts.Default.With(ConnectTimeout, ResponseTimeout, IdleTimeout);

        [JsonIgnore]
        public bool IsDefault => Mirrors.Count == 0 && !Insecure && CertificateAuthority is null && ConnectTimeout is null && ResponseTimeout is null && IdleTimeout is null;
    }

    /// <summary>
    /// The one settings file for registries (mirrors, insecure registries, CA certificates): JSON at
    /// $IMAGEMODULE_REGISTRY_CONFIG, else $XDG_CONFIG_HOME/imagemodule/registries.json (~/.config/…), or
    /// %APPDATA%\ImageModule\registries.json on Windows. A missing file means defaults: HTTPS everywhere but loopback.
    /// </summary>
    public sealed class RegistrySettings
    {
        public const string PathVariable = "IMAGEMODULE_REGISTRY_CONFIG";
        private static readonly JsonSerializerOptions Json = new()
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
            WriteIndented = true,
        };

        private readonly Dictionary<string, RegistryHostSettings> _hosts;

        private RegistrySettings(string path, Dictionary<string, RegistryHostSettings> hosts)
        {
            Path = path;
            _hosts = hosts;
        }

        public string Path { get; }

        public IReadOnlyList<RegistryHostSettings> Registries => _hosts.Values.OrderBy(h => h.Registry, StringComparer.Ordinal).ToList();

        public static string DefaultPath
        {
            get
            {
                var given = Environment.GetEnvironmentVariable(PathVariable);
                if (!string.IsNullOrEmpty(given)) return given!;
                if (System.Runtime.InteropServices.RuntimeInformation.IsOSPlatform(System.Runtime.InteropServices.OSPlatform.Windows))
                    return System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "ImageModule", "registries.json");
                var config = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
                if (string.IsNullOrEmpty(config)) config = System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
                return System.IO.Path.Combine(config!, "imagemodule", "registries.json");
            }
        }

        public static RegistrySettings Load(string? path = null)
        {
            path ??= DefaultPath;
            var hosts = new Dictionary<string, RegistryHostSettings>(StringComparer.OrdinalIgnoreCase);
            if (!File.Exists(path)) return new RegistrySettings(path, hosts);
            try
            {
                var file = JsonSerializer.Deserialize<SettingsFile>(File.ReadAllBytes(path), Json);
                foreach (var pair in file?.Registries ?? new Dictionary<string, RegistryHostSettings>())
                    hosts[pair.Key] = (pair.Value ?? new RegistryHostSettings(pair.Key)) with { Registry = pair.Key, Mirrors = pair.Value?.Mirrors ?? Array.Empty<string>() };
            }
            catch (JsonException e)
            {
                throw new ImageModuleException("RegistrySettingsInvalid", ErrorKind.InvalidData, $"The registry settings file {path} is not valid: {e.Message}", path, e);
            }
            return new RegistrySettings(path, hosts);
        }

        /// <summary>Settings of one registry (defaults when none are stored).</summary>
        public RegistryHostSettings For(string registry) =>
            _hosts.TryGetValue(registry, out var found) ? found : new RegistryHostSettings(registry);

        /// <summary>Replaces one registry's settings and writes the file atomically; defaults remove the entry.</summary>
        public RegistrySettings With(RegistryHostSettings settings)
        {
            var hosts = new Dictionary<string, RegistryHostSettings>(_hosts, StringComparer.OrdinalIgnoreCase);
            if (settings.IsDefault) hosts.Remove(settings.Registry);
            else hosts[settings.Registry] = settings;
            var updated = new RegistrySettings(Path, hosts);
            updated.Save();
            return updated;
        }

        private void Save()
        {
            var directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
            Directory.CreateDirectory(directory);
            var file = new SettingsFile { Registries = _hosts.ToDictionary(h => h.Key, h => h.Value) };
            var temp = Path + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 8);
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(file, Json));
            if (File.Exists(Path)) File.Replace(temp, Path, null);
            else File.Move(temp, Path);
        }

        private sealed class SettingsFile
        {
            public Dictionary<string, RegistryHostSettings>? Registries { get; set; }
        }
    }
}
