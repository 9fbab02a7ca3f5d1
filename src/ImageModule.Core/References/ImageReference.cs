using System;
using ImageModule.Oci;

namespace ImageModule.References
{
    // Temporary stand-in; replaced by the full grammar implementation from the references branch.
    public sealed record ImageReference
    {
        private ImageReference(string registry, string repository, string? tag, Digest? digest)
        {
            Registry = registry; Repository = repository; Tag = tag; Digest = digest;
        }

        public string Registry { get; }
        public string Repository { get; }
        public string? Tag { get; }
        public Digest? Digest { get; }

        public static ImageReference Parse(string text, bool defaultTag = true)
        {
            if (!TryParse(text, out var r, out var reason, defaultTag)) throw new InvalidReferenceException(text ?? "", reason!);
            return r!;
        }

        public static bool TryParse(string text, out ImageReference? reference, out string? reason, bool defaultTag = true)
        {
            reference = null; reason = null;
            if (string.IsNullOrWhiteSpace(text)) { reason = "empty"; return false; }
            Digest? digest = null;
            var at = text.IndexOf('@');
            var rest = text;
            if (at >= 0)
            {
                if (!Oci.Digest.TryParse(text.Substring(at + 1), out var d, out reason)) return false;
                digest = d; rest = text.Substring(0, at);
            }
            string? tag = null;
            var colon = rest.LastIndexOf(':');
            if (colon > rest.LastIndexOf('/')) { tag = rest.Substring(colon + 1); rest = rest.Substring(0, colon); }
            var slash = rest.IndexOf('/');
            string registry = "docker.io", repo = rest;
            if (slash > 0) { var first = rest.Substring(0, slash); if (first.Contains(".") || first.Contains(":") || first == "localhost") { registry = first; repo = rest.Substring(slash + 1); } }
            if (registry == "docker.io" && !repo.Contains("/")) repo = "library/" + repo;
            if (repo != repo.ToLowerInvariant()) { reason = "repository name must be lowercase"; return false; }
            if (tag == null && digest == null && defaultTag) tag = "latest";
            reference = new ImageReference(registry, repo, tag, digest);
            return true;
        }

        public string Name => Registry + "/" + Repository;
        public bool IsDockerHub => Registry == "docker.io";
        public string RegistryHost => IsDockerHub ? "registry-1.docker.io" : Registry;
        public string FamiliarName => IsDockerHub ? (Repository.StartsWith("library/", StringComparison.Ordinal) ? Repository.Substring(8) : Repository) : Name;
        public string FamiliarString => FamiliarName + Suffix;
        public static bool IsValidTag(string tag) => !string.IsNullOrEmpty(tag) && tag.Length <= 128;
        public ImageReference WithTag(string tag) => new(Registry, Repository, tag, null);
        public ImageReference WithDigest(Digest digest) => new(Registry, Repository, Tag, digest);
        public ImageReference WithoutTagOrDigest() => new(Registry, Repository, null, null);
        private string Suffix => (Tag != null ? ":" + Tag : "") + (Digest != null ? "@" + Digest : "");
        public override string ToString() => Name + Suffix;
    }
}
