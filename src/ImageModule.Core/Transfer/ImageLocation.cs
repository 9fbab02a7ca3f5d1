using System;
using ImageModule.References;

namespace ImageModule.Transfer
{
    public enum LocationKind
    {
        /// <summary>A registry repository: docker://host/repo:tag, or a bare reference.</summary>
        Registry,
        /// <summary>The module's own store (or -StorePath): store:name:tag.</summary>
        Store,
        /// <summary>An OCI image layout directory: oci:path[:ref].</summary>
        OciLayout,
        /// <summary>A docker save tar: docker-archive:path[:ref].</summary>
        DockerArchive,
        /// <summary>An OCI layout in a tar: oci-archive:path[:ref].</summary>
        OciArchive,
        /// <summary>An image in a Docker engine (or podman's API): docker-daemon:name:tag or an image ID.</summary>
        Engine,
    }

    /// <summary>
    /// Where an image is, in skopeo's transport syntax (docker://, docker-daemon:, oci:, oci-archive:, docker-archive:) plus store:
    /// for the module's own store; a bare reference means a registry, as crane copy takes it.
    /// </summary>
    public sealed record ImageLocation(LocationKind Kind, string? Path, string? Reference, string Text)
    {
        public static ImageLocation Parse(string text)
        {
            if (string.IsNullOrWhiteSpace(text)) throw new InvalidReferenceException(text ?? "", "an image location cannot be empty");
            if (text.StartsWith("docker://", StringComparison.Ordinal)) return Registry(text.Substring(9), text);
            if (text.StartsWith("store:", StringComparison.Ordinal)) return new(LocationKind.Store, null, Checked(text.Substring(6), text), text);
            if (text.StartsWith("docker-daemon:", StringComparison.Ordinal)) return new(LocationKind.Engine, null, text.Substring(14), text);
            foreach (var (prefix, kind) in new[] { ("oci:", LocationKind.OciLayout), ("oci-archive:", LocationKind.OciArchive), ("docker-archive:", LocationKind.DockerArchive) })
            {
                if (!text.StartsWith(prefix, StringComparison.Ordinal)) continue;
                var (path, reference) = SplitPath(text.Substring(prefix.Length));
                if (path.Length == 0) throw new InvalidReferenceException(text, $"{prefix} needs a path");
                return new(kind, path, reference, text);
            }
            foreach (var other in UnsupportedTransports)
                if (text.StartsWith(other, StringComparison.Ordinal))
                    throw new ImageModuleException("TransportNotSupported", ErrorKind.InvalidArgument,
                        $"The {other} transport is not supported by Copy-Image; use docker://, store:, docker-daemon:, oci:, oci-archive: or docker-archive:.", text);
            return Registry(text, text);
        }

        private static ImageLocation Registry(string reference, string text) => new(LocationKind.Registry, null, Checked(reference, text), text);

        private static string Checked(string reference, string text)
        {
            if (!ImageReference.TryParse(reference, out _, out var reason)) throw new InvalidReferenceException(text, reason ?? "not an image reference");
            return reference;
        }

        /// <summary>skopeo transports that are not ours: named, so they fail clearly instead of parsing as a reference.</summary>
        private static readonly string[] UnsupportedTransports = { "containers-storage:", "dir:", "ostree:", "sif:" };

        /// <summary>path[:ref], where a Windows drive letter ("C:\") is part of the path.</summary>
        private static (string Path, string? Reference) SplitPath(string rest)
        {
            var start = rest.Length > 2 && char.IsLetter(rest[0]) && rest[1] == ':' && (rest[2] == '\\' || rest[2] == '/') ? 2 : 0;
            var colon = rest.IndexOf(':', start);
            return colon < 0 ? (rest, null) : (rest.Substring(0, colon), rest.Substring(colon + 1).Length == 0 ? null : rest.Substring(colon + 1));
        }

        public bool IsArchive => Kind == LocationKind.DockerArchive || Kind == LocationKind.OciArchive;

        public override string ToString() => Text;
    }
}
