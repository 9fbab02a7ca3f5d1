using System.Collections.Generic;

namespace ImageModule.Oci
{
    /// <summary>
    /// What makes a manifest a container image rather than another artifact stored the same way (a Helm chart, a
    /// signature, an SBOM): its config is an image config and every layer is a filesystem tar. skopeo and podman refuse
    /// to treat anything else as an image, and so do we: an artifact is refused with <see cref="NotAnImage"/> rather than
    /// kept as an image with no layers that every image cmdlet would then misread.
    /// </summary>
    public static class ImageRules
    {
        public const string NotAnImage = "NotAnImage";

        /// <summary>Throws <see cref="NotAnImage"/> when <paramref name="manifest"/> describes an artifact, not an image.</summary>
        public static void RequireImage(Manifest manifest, Digest manifestDigest, string where)
        {
            var configType = manifest.Config.MediaType;
            if (!MediaTypes.IsImageConfig(configType))
            {
                var kind = manifest.ArtifactType ?? configType;
                throw new ImageModuleException(NotAnImage, ErrorKind.InvalidData,
                    $"{where}: {manifestDigest} is not a container image but an artifact of type '{kind}' (config media type '{configType}'); only images can be imported",
                    manifestDigest.ToString());
            }
            for (var i = 0; i < manifest.Layers.Count; i++)
            {
                var layerType = manifest.Layers[i].MediaType;
                if (!MediaTypes.IsLayer(layerType))
                    throw new ImageModuleException(NotAnImage, ErrorKind.InvalidData,
                        $"{where}: layer {i + 1} of {manifestDigest} has media type '{layerType}', which is not an image layer; only images can be imported",
                        manifestDigest.ToString());
            }
        }

        /// <summary>The config's diff IDs must name the manifest's layers one for one (config.md, rootfs).</summary>
        public static string? LayerCountProblem(Manifest manifest, ImageConfig config) =>
            manifest.Layers.Count == config.RootFs.DiffIds.Count ? null
                : $"the manifest lists {manifest.Layers.Count} layers but the config has {config.RootFs.DiffIds.Count} diff IDs";
    }
}
