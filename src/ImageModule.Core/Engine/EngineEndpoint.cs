using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;

namespace ImageModule.Engine
{
    /// <summary>
    /// Where an engine's API is: a unix socket, a Windows named pipe or TCP (optionally TLS). Resolved from a name
    /// ("Docker", "Podman") the way the docker and podman CLIs find their engines, or from an explicit URI.
    /// </summary>
    public sealed record EngineEndpoint
    {
        public const string Docker = "Docker";
        public const string Podman = "Podman";

        /// <summary>"Docker" or "Podman": what Image.StoreKind says for images of this engine.</summary>
        public string Kind { get; init; } = Docker;
        public Uri Uri { get; init; } = new("unix:///var/run/docker.sock");
        /// <summary>Directory holding ca.pem, cert.pem and key.pem for tcp:// with TLS (DOCKER_CERT_PATH, else the docker config directory).</summary>
        public string? CertPath { get; init; }
        /// <summary>Verify the engine's certificate against ca.pem (DOCKER_TLS_VERIFY).</summary>
        public bool TlsVerify { get; init; }
        /// <summary>Speak TLS to a tcp:// engine (DOCKER_TLS_VERIFY, DOCKER_TLS, DOCKER_CERT_PATH or an https:// URI).</summary>
        public bool Tls { get; init; }
        public bool UsesTls => Tls || TlsVerify;

        /// <summary>The URI as users write it (unix:///path, npipe:////./pipe/name, tcp://host:port).</summary>
        public string Location => Uri.Scheme == "unix" ? "unix://" + Uri.AbsolutePath : Uri.OriginalString;

        public override string ToString() => Location;

        /// <summary>Resolves "Docker", "Podman" (case-insensitive) or a unix://, npipe://, tcp:// URI.</summary>
        public static EngineEndpoint Resolve(string nameOrUri) => Resolve(nameOrUri, Environment.GetEnvironmentVariable);

        /// <summary>As <see cref="Resolve(string)"/>, reading environment variables through <paramref name="environment"/> (tests).</summary>
        public static EngineEndpoint Resolve(string nameOrUri, Func<string, string?> environment)
        {
            if (string.IsNullOrWhiteSpace(nameOrUri)) throw InvalidEngine(nameOrUri, "an engine name or URI is required");
            var text = nameOrUri.Trim();
            if (string.Equals(text, Docker, StringComparison.OrdinalIgnoreCase))
            {
                var host = environment("DOCKER_HOST");
                var uri = string.IsNullOrEmpty(host)
                    ? (RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "npipe:////./pipe/docker_engine" : "unix:///var/run/docker.sock")
                    : host!;
                return FromUri(uri, Docker, environment);
            }
            if (string.Equals(text, Podman, StringComparison.OrdinalIgnoreCase))
            {
                return FromUri(PodmanSocket(environment), Podman, environment);
            }
            if (text.IndexOf("://", StringComparison.Ordinal) > 0)
            {
                // An explicit URI is taken for podman when its path says so (podman.sock), else for a Docker engine.
                var kind = text.IndexOf("podman", StringComparison.OrdinalIgnoreCase) >= 0 ? Podman : Docker;
                return FromUri(text, kind, environment);
            }
            throw InvalidEngine(text, "use Docker, Podman or a unix://, npipe:// or tcp:// URI");
        }

        private static string PodmanSocket(Func<string, string?> environment)
        {
            // podman's own lookup: CONTAINER_HOST, then the rootless socket under XDG_RUNTIME_DIR, then the rootful one.
            var containerHost = environment("CONTAINER_HOST");
            if (!string.IsNullOrEmpty(containerHost) && containerHost!.StartsWith("unix://", StringComparison.Ordinal)) return containerHost;
            var candidates = new List<string>();
            var runtimeDir = environment("XDG_RUNTIME_DIR");
            if (!string.IsNullOrEmpty(runtimeDir)) candidates.Add(Path.Combine(runtimeDir!, "podman", "podman.sock"));
            candidates.Add("/run/podman/podman.sock");
            foreach (var candidate in candidates)
            {
                if (File.Exists(candidate)) return "unix://" + candidate;
            }
            // Neither exists: name the first, so the "unreachable" error points where podman would listen.
            return "unix://" + candidates[0];
        }

        private static EngineEndpoint FromUri(string text, string kind, Func<string, string?> environment)
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) throw InvalidEngine(text, "not a valid URI");
            switch (uri.Scheme)
            {
                case "unix":
                case "npipe":
                    return new EngineEndpoint { Kind = kind, Uri = uri };
                case "tcp":
                case "http":
                case "https":
                {
                    // The docker CLI's rules: DOCKER_TLS_VERIFY set to anything (even "0") means TLS with the engine's
                    // certificate verified; DOCKER_TLS means TLS unverified. DOCKER_CERT_PATH alone also means TLS, as in
                    // the Go client's FromEnv (the CLI would speak plain HTTP and send nothing it could be verified with).
                    var certPath = environment("DOCKER_CERT_PATH");
                    var verify = !string.IsNullOrEmpty(environment("DOCKER_TLS_VERIFY"));
                    var useTls = verify || !string.IsNullOrEmpty(environment("DOCKER_TLS")) || !string.IsNullOrEmpty(certPath) || uri.Scheme == "https";
                    if (useTls && string.IsNullOrEmpty(certPath)) certPath = DockerConfigDirectory(environment);
                    return new EngineEndpoint
                    {
                        Kind = kind,
                        Uri = uri,
                        CertPath = useTls && !string.IsNullOrEmpty(certPath) ? certPath : null,
                        TlsVerify = verify,
                        Tls = useTls,
                    };
                }
                case "ssh":
                    throw InvalidEngine(text, "ssh:// engines are not supported; forward the socket (ssh -L) and give its unix:// path");
                default:
                    throw InvalidEngine(text, $"unsupported scheme '{uri.Scheme}'");
            }
        }

        /// <summary>Where the docker CLI looks for ca.pem, cert.pem and key.pem by default: DOCKER_CONFIG, else ~/.docker.</summary>
        private static string? DockerConfigDirectory(Func<string, string?> environment)
        {
            var config = environment("DOCKER_CONFIG");
            if (!string.IsNullOrEmpty(config)) return config;
            // Go's os.UserHomeDir: USERPROFILE on Windows, HOME elsewhere.
            var home = environment(RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "USERPROFILE" : "HOME");
            return string.IsNullOrEmpty(home) ? null : Path.Combine(home!, ".docker");
        }

        private static ImageModuleException InvalidEngine(string text, string reason) =>
            new(EngineErrors.InvalidEngine, ErrorKind.InvalidArgument, $"Invalid engine '{text}': {reason}.", text);
    }
}
