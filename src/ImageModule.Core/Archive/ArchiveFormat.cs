using System;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Filesystem;

namespace ImageModule.Archive
{
    /// <summary>The detected shape of an archive file or directory: compression (by magic bytes) and content kind (by entry names).</summary>
    public sealed record ArchiveFormat(ArchiveKind Kind, ArchiveCompression Compression)
    {
        private static readonly Regex LegacyLayer = new("^[0-9a-f]{64}/(layer\\.tar|json|VERSION)$", RegexOptions.CultureInvariant);
        private static readonly Regex LegacyTopLevel = new("^[0-9a-f]{64}(\\.json|\\.tar)$", RegexOptions.CultureInvariant);

        // A rootfs tarball is decided once this many entries passed without an image-archive marker.
        private const int RootfsDecisionEntries = 64;

        public bool IsImageArchive => Kind != ArchiveKind.Unknown && Kind != ArchiveKind.RootfsTarball;

        /// <summary>Detects the format of a file or directory. Reads entry headers only (seeks past content when the tar is uncompressed).</summary>
        public static async Task<ArchiveFormat> DetectAsync(string path, CancellationToken cancellationToken = default)
        {
            if (Directory.Exists(path))
            {
                var isLayout = File.Exists(Path.Combine(path, "index.json")) && File.Exists(Path.Combine(path, "oci-layout"));
                return new ArchiveFormat(isLayout ? ArchiveKind.OciLayoutDirectory : ArchiveKind.Unknown, ArchiveCompression.None);
            }
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: false);
            return await DetectAsync(file, cancellationToken).ConfigureAwait(false);
        }

        /// <summary>Detects the format of an archive stream (consumes it).</summary>
        public static async Task<ArchiveFormat> DetectAsync(Stream stream, CancellationToken cancellationToken = default)
        {
            using var content = Decompression.Open(stream, out var compression);
            var reader = new TarReader(content);
            bool manifestJson = false, indexJson = false, ociLayout = false, blobs = false, legacy = false;
            var entries = 0;
            try
            {
                TarHeader? h;
                while ((h = await reader.NextAsync(cancellationToken).ConfigureAwait(false)) != null)
                {
                    entries++;
                    var name = EntryName(h.Name);
                    switch (name)
                    {
                        case "manifest.json": manifestJson = true; break;
                        case "index.json": indexJson = true; break;
                        case "oci-layout": ociLayout = true; break;
                        case "repositories": case "VERSION": legacy = true; break;
                        default:
                            if (name.StartsWith("blobs/", StringComparison.Ordinal)) blobs = true;
                            else if (LegacyLayer.IsMatch(name) || LegacyTopLevel.IsMatch(name)) legacy = true;
                            break;
                    }
                    var marked = manifestJson || indexJson || ociLayout || blobs || legacy;
                    if (!marked && entries >= RootfsDecisionEntries) return new ArchiveFormat(ArchiveKind.RootfsTarball, compression);
                }
            }
            catch (ImageModuleException e) when ((e.ErrorId == ArchiveErrors.CorruptTar || e.ErrorId == ArchiveErrors.Truncated) && entries == 0)
            {
                return new ArchiveFormat(ArchiveKind.Unknown, compression);
            }
            var kind = manifestJson && (indexJson || blobs) ? ArchiveKind.DockerArchive
                : manifestJson ? ArchiveKind.DockerArchiveLegacy
                : indexJson ? ArchiveKind.OciArchive
                : entries > 0 && !(ociLayout || blobs || legacy) ? ArchiveKind.RootfsTarball
                : ArchiveKind.Unknown;
            return new ArchiveFormat(kind, compression);
        }

        /// <summary>Archive entry name without "./" or leading/trailing slashes, as docker-archive paths are compared.</summary>
        internal static string EntryName(string name)
        {
            var n = name.Replace('\\', '/');
            while (n.StartsWith("./", StringComparison.Ordinal)) n = n.Substring(2);
            return n.Trim('/');
        }
    }
}
