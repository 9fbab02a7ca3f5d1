using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// An asked-for platform (-Platform, DOCKER_DEFAULT_PLATFORM for pulls) holds for single-platform images too: their
    /// config's os/architecture must match, as docker refuses a pull whose image "does not match the specified
    /// platform". Without a platform asked, any image is taken as it is.
    /// </summary>
    public static class PlatformCheck
    {
        /// <summary>Configs larger than this are not read for their platform (a config is a few KiB; this is a guard, not a limit).</summary>
        private const long MaxConfigBytes = 4 << 20;

        /// <summary>PlatformNotFound unless <paramref name="config"/> is for <paramref name="wanted"/> (configs that name no platform pass).</summary>
        public static void Ensure(Platform wanted, ImageConfig config, string image)
        {
            if (config.Os.Length == 0 || config.Architecture.Length == 0) return;
            if (!wanted.Matches(config.Platform))
                throw NotFound(image, wanted, $"it is a single-platform image for {Platform.Normalize(config.Platform)}");
        }

        /// <summary>As <see cref="Ensure(Platform, ImageConfig, string)"/> for a manifest in <paramref name="source"/>: reads its config.</summary>
        public static async Task EnsureAsync(Platform wanted, IContentStore source, byte[] manifestBytes, string image, CancellationToken cancellationToken)
        {
            var manifest = OciJson.Deserialize<Manifest>(manifestBytes, $"manifest of {image}");
            if (manifest.Config.Size > MaxConfigBytes || (manifest.Config.MediaType != MediaTypes.OciConfig && manifest.Config.MediaType != MediaTypes.DockerConfig)) return;
            using var stream = await source.FetchAsync(manifest.Config, cancellationToken).ConfigureAwait(false);
            var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, 81920, cancellationToken).ConfigureAwait(false);
            Ensure(wanted, OciJson.Deserialize<ImageConfig>(buffer.ToArray(), $"config of {image}"), image);
        }

        /// <summary>PlatformNotFound for an index without <paramref name="wanted"/>, listing what it has.</summary>
        public static ImageModuleException NotInIndex(string image, Platform wanted, ImageIndex index) =>
            NotFound(image, wanted, "it has " + string.Join(", ", index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && m.Platform != null).Select(m => m.Platform!.ToString()).DefaultIfEmpty("no platforms")));

        private static ImageModuleException NotFound(string image, Platform wanted, string reason) =>
            new(ContentErrors.PlatformNotFound, ErrorKind.ObjectNotFound, $"{image} has no image for {wanted}: {reason}.", image);
    }
}
