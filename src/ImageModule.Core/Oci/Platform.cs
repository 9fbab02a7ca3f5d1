using System;
using System.Runtime.InteropServices;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>os/architecture[/variant] of an image (image-index.md#platform-variants).</summary>
    public sealed record Platform
    {
        private readonly string _architecture = "", _os = "";

        [JsonPropertyName("architecture")] public string Architecture { get => _architecture; init => _architecture = value ?? ""; }
        [JsonPropertyName("os")] public string Os { get => _os; init => _os = value ?? ""; }
        [JsonPropertyName("os.version")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? OsVersion { get; init; }
        [JsonPropertyName("variant")][JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Variant { get; init; }

        /// <summary>Parses "os/arch[/variant]", e.g. linux/arm64/v8; "arm64" alone means linux/arm64.</summary>
        public static Platform Parse(string text)
        {
            var parts = (text ?? "").Trim().ToLowerInvariant().Split('/');
            if (parts.Length == 0 || parts.Length > 3 || Array.Exists(parts, p => p.Length == 0))
                throw new ImageModuleException("InvalidPlatform", ErrorKind.InvalidArgument, $"Invalid platform '{text}': expected os/arch[/variant], e.g. linux/amd64", text);
            if (parts.Length == 1) return Normalize(new Platform { Os = "linux", Architecture = parts[0] });
            return Normalize(new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length == 3 ? parts[2] : null });
        }

        /// <summary>The platform this process runs on, in OCI/GOARCH terms.</summary>
        public static Platform Current
        {
            get
            {
                var os = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "windows"
                    : RuntimeInformation.IsOSPlatform(OSPlatform.OSX) ? "darwin" : "linux";
                // Containers on macOS run in a Linux VM; pulling darwin images is never what a user means.
                if (os == "darwin") os = "linux";
                var arch = RuntimeInformation.OSArchitecture switch
                {
                    System.Runtime.InteropServices.Architecture.X64 => "amd64",
                    System.Runtime.InteropServices.Architecture.X86 => "386",
                    System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
                    System.Runtime.InteropServices.Architecture.Arm => "arm",
                    _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
                };
                return Normalize(new Platform { Os = os, Architecture = arch });
            }
        }

        /// <summary>Canonical spelling as containerd's platforms.Normalize does: x86_64→amd64, aarch64→arm64 (variant v8 implied).</summary>
        public static Platform Normalize(Platform p)
        {
            var arch = p.Architecture switch { "x86_64" or "x86-64" => "amd64", "aarch64" => "arm64", "i386" => "386", "armhf" => "arm", "armel" => "arm", var a => a };
            var variant = p.Variant;
            if (arch == "arm64" && variant == "v8") variant = null;
            if (arch == "arm" && string.IsNullOrEmpty(variant)) variant = p.Architecture == "armel" ? "v6" : "v7";
            if (arch == "amd64" && variant == "v1") variant = null;
            return p with { Architecture = arch, Variant = string.IsNullOrEmpty(variant) ? null : variant };
        }

        /// <summary>Whether an image built for <paramref name="candidate"/> satisfies a request for this platform.</summary>
        public bool Matches(Platform? candidate)
        {
            if (candidate is null) return false;
            var want = Normalize(this);
            var have = Normalize(candidate);
            return want.Os == have.Os && want.Architecture == have.Architecture
                && (want.Variant is null || want.Variant == have.Variant);
        }

        public override string ToString() => string.IsNullOrEmpty(Variant) ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
    }
}
