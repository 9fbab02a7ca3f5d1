using System.Linq;
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
        /// <summary>PlatformNotFound unless <paramref name="config"/> is for <paramref name="wanted"/> (configs that name no platform pass).</summary>
        public static void Ensure(Platform wanted, ImageConfig config, string image) => Ensure(wanted, config.Platform, image);

        /// <summary>PlatformNotFound unless an image for <paramref name="have"/> is for <paramref name="wanted"/> (an image that names no platform passes).</summary>
        public static void Ensure(Platform wanted, Platform have, string image)
        {
            if (string.IsNullOrEmpty(have.Os) || string.IsNullOrEmpty(have.Architecture)) return;
            if (!wanted.Matches(have))
                throw NotFound(image, wanted, $"it is a single-platform image for {Platform.Normalize(have)}");
        }

        /// <summary>PlatformNotFound for an index without <paramref name="wanted"/>, listing what it has.</summary>
        public static ImageModuleException NotInIndex(string image, Platform wanted, ImageIndex index) =>
            NotFound(image, wanted, "it has " + string.Join(", ", index.Manifests.Where(m => MediaTypes.IsManifest(m.MediaType) && m.Platform != null).Select(m => m.Platform!.ToString()).DefaultIfEmpty("no platforms")));

        private static ImageModuleException NotFound(string image, Platform wanted, string reason) =>
            new(ContentErrors.PlatformNotFound, ErrorKind.ObjectNotFound, $"{image} has no image for {wanted}: {reason}.", image);
    }
}
