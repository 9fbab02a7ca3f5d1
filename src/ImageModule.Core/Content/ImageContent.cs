using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>A single-platform image as read from a content store: its manifest (bytes and parsed) and config.</summary>
    public sealed record ResolvedImage(Descriptor ManifestDescriptor, byte[] ManifestBytes, Manifest Manifest, byte[] ConfigBytes, ImageConfig Config);

    /// <summary>Reads manifests and configs out of a content store, choosing one platform of an index.</summary>
    public static class ImageContent
    {
        public static async Task<byte[]> FetchBytesAsync(IContentStore store, Descriptor d, CancellationToken ct)
        {
            using var s = await store.FetchAsync(d, ct).ConfigureAwait(false);
            var ms = new MemoryStream(d.Size > 0 && d.Size < int.MaxValue ? (int)d.Size : 0);
            await s.CopyToAsync(ms, 81920, ct).ConfigureAwait(false);
            return ms.ToArray();
        }

        /// <summary>
        /// Resolves a manifest or index descriptor to one image. <paramref name="platform"/> is what the user asked for:
        /// an index must have it and a single image must be for it (PlatformNotFound). Without it an index gives
        /// <paramref name="preferred"/> (e.g. an engine's own platform; default <see cref="Platform.Default"/>), or its only
        /// image, and a single image is taken as it is.
        /// </summary>
        public static async Task<ResolvedImage> ResolveAsync(IContentStore store, Descriptor d, Platform? platform, CancellationToken ct, Platform? preferred = null)
        {
            for (var depth = 0; depth < 4; depth++)
            {
                var bytes = await FetchBytesAsync(store, d, ct).ConfigureAwait(false);
                var mediaType = string.IsNullOrEmpty(d.MediaType) ? OciJson.PeekMediaType(bytes) : d.MediaType;
                if (MediaTypes.IsIndex(mediaType))
                {
                    var index = OciJson.Deserialize<ImageIndex>(bytes, "image index");
                    var want = platform ?? preferred ?? Platform.Default;
                    var candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && want.Matches(m.Platform)).ToList();
                    if (candidates.Count == 0 && platform is null && index.Manifests.Count(m => MediaTypes.IsManifest(m.MediaType)) == 1) candidates = index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)).ToList();
                    if (candidates.Count == 0 && platform != null) throw PlatformCheck.NotInIndex($"Index {d.Digest}", platform, index);
                    Descriptor? chosen = null;
                    foreach (var c in candidates) if (await store.ExistsAsync(c, ct).ConfigureAwait(false)) { chosen = c; break; }
                    d = chosen ?? throw new ImageModuleException(ContentErrors.PlatformNotFound, ErrorKind.ObjectNotFound, $"Index {d.Digest} has no manifest for {want} in this store", d.Digest.ToString());
                    continue;
                }
                if (!MediaTypes.IsManifest(mediaType))
                    throw new ImageModuleException(ContentErrors.UnsupportedManifest, ErrorKind.InvalidData, $"Unsupported manifest media type '{mediaType}'", d.Digest.ToString());
                var manifest = OciJson.Deserialize<Manifest>(bytes, "image manifest");
                var configBytes = await FetchBytesAsync(store, manifest.Config, ct).ConfigureAwait(false);
                var config = OciJson.Deserialize<ImageConfig>(configBytes, "image config");
                if (platform != null) PlatformCheck.Ensure(platform, config, $"Image {d.Digest}");
                return new ResolvedImage(d with { MediaType = mediaType! }, bytes, manifest, configBytes, config);
            }
            throw new ImageModuleException(ContentErrors.UnsupportedManifest, ErrorKind.InvalidData, "Image indexes nested too deeply", d.Digest.ToString());
        }
    }
}
