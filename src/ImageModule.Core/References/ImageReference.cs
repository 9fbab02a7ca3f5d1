using System;
using System.Text.RegularExpressions;
using ImageModule.Oci;

namespace ImageModule.References
{
    /// <summary>
    /// An image reference, registry[:port]/path[:tag][@digest], parsed by the distribution reference grammar and
    /// normalised the way docker does ("alpine" is docker.io/library/alpine:latest).
    /// </summary>
    public sealed record ImageReference
    {
        public const string DockerHub = "docker.io";
        private const int MaxNameLength = 255;
        private const int MaxTagLength = 128;

        // Path components: lowercase alphanumerics separated by '.', '_', '__' or any run of '-' (distribution's grammar).
        private static readonly Regex PathComponent = new("^[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*$", RegexOptions.CultureInvariant);
        private static readonly Regex TagPattern = new("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", RegexOptions.CultureInvariant);
        // A domain is dot-separated labels or a bracketed IPv6 literal, with an optional port.
        private static readonly Regex Domain = new("^(?:(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])(?:\\.(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]))*|\\[[0-9A-Fa-f:.]+(?:%[A-Za-z0-9]+)?\\])(?::[0-9]+)?$", RegexOptions.CultureInvariant);

        private ImageReference(string registry, string repository, string? tag, Digest? digest)
        {
            Registry = registry;
            Repository = repository;
            Tag = tag;
            Digest = digest;
        }

        public string Registry { get; }
        public string Repository { get; }
        public string? Tag { get; }
        public Digest? Digest { get; }

        public static ImageReference Parse(string text, bool defaultTag = true)
        {
            if (!TryParse(text, out var reference, out var reason, defaultTag)) throw new InvalidReferenceException(text ?? "", reason!);
            return reference!;
        }

        public static bool TryParse(string text, out ImageReference? reference, out string? reason, bool defaultTag = true)
        {
            reference = null;
            reason = Validate(text, out var registry, out var repository, out var tag, out var digest);
            if (reason != null) return false;
            if (tag is null && digest is null && defaultTag) tag = "latest";
            reference = new ImageReference(registry!, repository!, tag, digest);
            return true;
        }

        private static string? Validate(string text, out string? registry, out string? repository, out string? tag, out Digest? digest)
        {
            registry = repository = tag = null;
            digest = null;
            if (string.IsNullOrEmpty(text)) return "the reference is empty";
            if (text.Trim() != text || text.IndexOfAny(new[] { ' ', '\t', '\n', '\r' }) >= 0) return "a reference cannot contain whitespace";

            var rest = text;
            var at = rest.IndexOf('@');
            if (at >= 0)
            {
                var digestText = rest.Substring(at + 1);
                if (digestText.Length == 0) return "'@' must be followed by a digest such as sha256:<64 hex>";
                if (!Oci.Digest.TryParse(digestText, out var parsed, out var digestReason)) return "invalid digest: " + digestReason;
                digest = parsed;
                rest = rest.Substring(0, at);
            }

            var lastSlash = rest.LastIndexOf('/');
            var lastColon = rest.LastIndexOf(':');
            if (lastColon > lastSlash)
            {
                tag = rest.Substring(lastColon + 1);
                rest = rest.Substring(0, lastColon);
                if (tag.Length == 0) return "':' must be followed by a tag";
                if (tag.Length > MaxTagLength) return $"the tag is {tag.Length} characters long; at most {MaxTagLength} are allowed";
                if (!TagPattern.IsMatch(tag)) return $"tag '{tag}' may contain only letters, digits, '_', '.' and '-', and cannot start with '.' or '-'";
            }
            if (rest.Length == 0) return "the repository name is missing";

            var firstSlash = rest.IndexOf('/');
            string path;
            if (firstSlash > 0 && LooksLikeRegistry(rest.Substring(0, firstSlash)))
            {
                registry = rest.Substring(0, firstSlash);
                path = rest.Substring(firstSlash + 1);
                if (!Domain.IsMatch(registry)) return $"'{registry}' is not a valid registry host[:port]";
                // The grammar allows any digits; a URI (and a socket) only 1-65535.
                var colon = registry.LastIndexOf(':');
                if (colon > registry.LastIndexOf(']') && (!int.TryParse(registry.Substring(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) || port < 1 || port > 65535))
                    return $"the port in '{registry}' is not between 1 and 65535";
                if (registry == "index.docker.io" || registry == "registry-1.docker.io") registry = DockerHub;
            }
            else
            {
                registry = DockerHub;
                path = rest;
            }
            if (path.Length == 0) return "the repository name is missing";
            if (path.StartsWith("/", StringComparison.Ordinal) || path.EndsWith("/", StringComparison.Ordinal)) return "the repository name cannot start or end with '/'";
            foreach (var component in path.Split('/'))
            {
                if (component.Length == 0) return "the repository name cannot contain '//'";
                if (component.ToLowerInvariant() == component && !PathComponent.IsMatch(component))
                    return $"'{component}' is not a valid repository path component (lowercase letters and digits, separated by '.', '_', '__' or '-')";
                if (component.ToLowerInvariant() != component) return "repository name must be lowercase";
            }
            if (registry == DockerHub && path.IndexOf('/') < 0) path = "library/" + path;
            if (registry.Length + 1 + path.Length > MaxNameLength) return $"the name is longer than {MaxNameLength} characters";
            repository = path;
            return null;
        }

        // distribution's rule: the first component names a registry when it has a '.' or ':' or is "localhost";
        // an uppercase letter also rules out a repository (those are lowercase), so it must be a host.
        private static bool LooksLikeRegistry(string component) =>
            component.IndexOf('.') >= 0 || component.IndexOf(':') >= 0 || component == "localhost"
            || component.StartsWith("[", StringComparison.Ordinal) || component.ToLowerInvariant() != component;

        public static bool IsValidTag(string tag) => !string.IsNullOrEmpty(tag) && TagPattern.IsMatch(tag);

        /// <summary>registry/repository, e.g. docker.io/library/alpine.</summary>
        public string Name => Registry + "/" + Repository;

        public bool IsDockerHub => Registry == DockerHub;

        /// <summary>The host to contact: Docker Hub's API lives at registry-1.docker.io.</summary>
        public string RegistryHost => IsDockerHub ? "registry-1.docker.io" : Registry;

        /// <summary>docker's short form: "alpine", "user/app", "localhost:5000/app".</summary>
        public string FamiliarName
        {
            get
            {
                if (!IsDockerHub) return Name;
                return Repository.StartsWith("library/", StringComparison.Ordinal) && Repository.IndexOf('/', 8) < 0 ? Repository.Substring(8) : Repository;
            }
        }

        public string FamiliarString => FamiliarName + Suffix;

        public ImageReference WithTag(string tag)
        {
            if (!IsValidTag(tag)) throw new InvalidReferenceException(tag, $"'{tag}' is not a valid tag");
            return new ImageReference(Registry, Repository, tag, null);
        }

        public ImageReference WithDigest(Digest digest) => new(Registry, Repository, Tag, digest);

        public ImageReference WithoutTagOrDigest() => new(Registry, Repository, null, null);

        private string Suffix => (Tag != null ? ":" + Tag : "") + (Digest is { } d ? "@" + d : "");

        public override string ToString() => Name + Suffix;
    }
}
