using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
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

        /// <summary>The environment variable docker reads for the platform to use when none is given (docker pull, import, run).</summary>
        public const string DefaultPlatformVariable = "DOCKER_DEFAULT_PLATFORM";

        // GOOS and GOARCH names (Go's syslist), plus the spellings containerd normalizes: what an image's os and
        // architecture can say. Anything else is a typo, refused rather than matched against nothing.
        private static readonly HashSet<string> KnownOs = new(StringComparer.Ordinal)
        {
            "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9",
            "solaris", "wasip1", "windows", "zos", "macos",
        };

        private static readonly HashSet<string> KnownArchitectures = new(StringComparer.Ordinal)
        {
            "386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le", "ppc", "ppc64", "ppc64le", "riscv",
            "riscv64", "s390", "s390x", "sparc", "sparc64", "wasm", "x86_64", "x86-64", "aarch64", "i386", "armhf", "armel",
        };

        private static readonly Regex VariantSyntax = new("^[a-z0-9][a-z0-9.]*$", RegexOptions.CultureInvariant);

        /// <summary>
        /// Parses "os/arch[/variant]", e.g. linux/arm64/v8; "arm64" alone means linux/arm64 and "windows" alone
        /// windows on this machine's architecture (containerd's rules). Unknown OS, architecture or variant names are
        /// InvalidPlatform.
        /// </summary>
        public static Platform Parse(string text)
        {
            var parts = (text ?? "").Trim().ToLowerInvariant().Split('/');
            if (parts.Length == 0 || parts.Length > 3 || Array.Exists(parts, p => p.Length == 0))
                throw Invalid(text, "expected os/arch[/variant]");
            Platform platform;
            if (parts.Length == 1)
            {
                if (KnownArchitectures.Contains(parts[0])) platform = new Platform { Os = "linux", Architecture = parts[0] };
                else if (KnownOs.Contains(parts[0])) platform = new Platform { Os = parts[0], Architecture = HostArchitecture };
                else throw Invalid(text, $"'{parts[0]}' is neither an OS nor an architecture");
            }
            else
            {
                if (!KnownOs.Contains(parts[0])) throw Invalid(text, $"'{parts[0]}' is not an OS name (linux, windows, …)");
                if (!KnownArchitectures.Contains(parts[1])) throw Invalid(text, $"'{parts[1]}' is not an architecture name (amd64, arm64, arm, 386, ppc64le, s390x, riscv64, …)");
                platform = new Platform { Os = parts[0], Architecture = parts[1], Variant = parts.Length == 3 ? parts[2] : null };
            }
            platform = Normalize(platform);
            if (platform.Variant != null && !IsKnownVariant(platform.Architecture, platform.Variant))
                throw Invalid(text, $"'{platform.Variant}' is not a variant of {platform.Architecture}");
            return platform;
        }

        private static bool IsKnownVariant(string architecture, string variant) => architecture switch
        {
            "arm" => variant is "v5" or "v6" or "v7" or "v8",
            "arm64" => Regex.IsMatch(variant, @"^v(8|9)(\.[0-9])?$", RegexOptions.CultureInvariant),
            "amd64" => variant is "v2" or "v3" or "v4",
            _ => VariantSyntax.IsMatch(variant),
        };

        private static ImageModuleException Invalid(string? text, string reason) =>
            new("InvalidPlatform", ErrorKind.InvalidArgument,
                $"Invalid platform '{text}': {reason}. Give os/arch[/variant], e.g. linux/amd64, linux/arm64 or linux/arm/v7.", text);

        /// <summary>
        /// The platform images are chosen for when none is asked: $env:DOCKER_DEFAULT_PLATFORM as docker reads it, else
        /// linux on this machine's architecture — on Windows and macOS too, where Docker Desktop runs Linux containers
        /// (an engine is asked for its own platform instead: EngineStore.DefaultPlatformAsync).
        /// </summary>
        public static Platform Default => FromEnvironment(Environment.GetEnvironmentVariable) ?? Host;

        /// <summary>
        /// <see cref="Default"/> for choices that must not fail (which image of an index a listing shows): a
        /// DOCKER_DEFAULT_PLATFORM that is not a platform counts as unset here. (It was this machine's OS, which pulled
        /// windows images on Windows.)
        /// </summary>
        public static Platform Current
        {
            get
            {
                try
                {
                    return Default;
                }
                catch (ImageModuleException)
                {
                    return Host;
                }
            }
        }

        /// <summary>DOCKER_DEFAULT_PLATFORM parsed, or null when it is not set; a value that is not a platform is InvalidPlatform naming the variable.</summary>
        public static Platform? FromEnvironment(Func<string, string?> environment)
        {
            var text = environment(DefaultPlatformVariable);
            if (string.IsNullOrWhiteSpace(text)) return null;
            try
            {
                return Parse(text!);
            }
            catch (ImageModuleException e)
            {
                throw new ImageModuleException(e.ErrorId, e.Kind, $"{DefaultPlatformVariable}: {e.Message}", text, e);
            }
        }

        /// <summary>linux on the architecture this process runs on, in OCI/GOARCH terms.</summary>
        public static Platform Host => Normalize(new Platform { Os = "linux", Architecture = HostArchitecture });

        private static string HostArchitecture => RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
        };

        /// <summary>Canonical spelling as containerd's platforms.Normalize does: x86_64→amd64, aarch64→arm64 (variant v8 implied).</summary>
        public static Platform Normalize(Platform p)
        {
            var arch = p.Architecture switch { "x86_64" or "x86-64" => "amd64", "aarch64" => "arm64", "i386" => "386", "armhf" => "arm", "armel" => "arm", var a => a };
            var os = p.Os == "macos" ? "darwin" : p.Os;
            var variant = p.Variant;
            if (arch == "arm64" && variant == "v8") variant = null;
            if (arch == "arm" && string.IsNullOrEmpty(variant)) variant = p.Architecture == "armel" ? "v6" : "v7";
            if (arch == "amd64" && variant == "v1") variant = null;
            return p with { Os = os, Architecture = arch, Variant = string.IsNullOrEmpty(variant) ? null : variant };
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
