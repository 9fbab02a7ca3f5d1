using System.Linq;
using System.Text.Json;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// What a copy checks before it writes or names anything: every manifest parses as a manifest (or index) of the
    /// right shape, and every config is an image config (JSON object, rootfs of layers, one diff ID per layer). A store
    /// that named an image whose config is not one would hold an image no command can list or remove.
    /// </summary>
    public static class ImageValidation
    {
        /// <summary>A config is a few KiB; images with long histories reach a few hundred. More is not a config.</summary>
        public const long MaxConfigBytes = 8L << 20;

        public static ImageIndex Index(byte[] bytes, Descriptor descriptor)
        {
            var root = Object(bytes, descriptor, "InvalidManifest", "index");
            if (!root.TryGetProperty("manifests", out var list) || list.ValueKind != JsonValueKind.Array)
                throw Invalid("InvalidManifest", descriptor, "index", "it has no \"manifests\" list");
            var index = Parse<ImageIndex>(bytes, descriptor, "InvalidManifest", "index");
            if (index.SchemaVersion != 2) throw Invalid("InvalidManifest", descriptor, "index", $"schemaVersion is {index.SchemaVersion}, not 2");
            return index;
        }

        public static Manifest Manifest(byte[] bytes, Descriptor descriptor)
        {
            var root = Object(bytes, descriptor, "InvalidManifest", "manifest");
            if (!root.TryGetProperty("config", out var config) || config.ValueKind != JsonValueKind.Object)
                throw Invalid("InvalidManifest", descriptor, "manifest", "it has no config");
            if (root.TryGetProperty("layers", out var layers) && layers.ValueKind != JsonValueKind.Array)
                throw Invalid("InvalidManifest", descriptor, "manifest", "its \"layers\" is not a list");
            var manifest = Parse<Manifest>(bytes, descriptor, "InvalidManifest", "manifest");
            if (manifest.SchemaVersion != 2) throw Invalid("InvalidManifest", descriptor, "manifest", $"schemaVersion is {manifest.SchemaVersion}, not 2");
            foreach (var blob in new[] { manifest.Config }.Concat(manifest.Layers))
            {
                if (blob is null || string.IsNullOrEmpty(blob.Digest.Algorithm)) throw Invalid("InvalidManifest", descriptor, "manifest", "a descriptor has no digest");
                if (blob.Size < 0) throw Invalid("InvalidManifest", descriptor, "manifest", $"{blob.Digest} has a negative size");
            }
            if (manifest.Config.MediaType != MediaTypes.OciConfig && manifest.Config.MediaType != MediaTypes.DockerConfig)
                throw Invalid("InvalidConfig", descriptor, "manifest", $"its config is a {(manifest.Config.MediaType.Length > 0 ? manifest.Config.MediaType : "blob without media type")}, not an image config");
            if (manifest.Config.Size > MaxConfigBytes)
                throw Invalid("InvalidConfig", descriptor, "manifest", $"its config declares {manifest.Config.Size} bytes, more than the {MaxConfigBytes} an image config may have");
            return manifest;
        }

        public static ImageConfig Config(byte[] bytes, Descriptor config, Manifest manifest)
        {
            var root = Object(bytes, config, "InvalidConfig", "image config");
            if (!root.TryGetProperty("rootfs", out var rootfs) || rootfs.ValueKind != JsonValueKind.Object)
                throw Invalid("InvalidConfig", config, "image config", "it has no rootfs");
            var parsed = Parse<ImageConfig>(bytes, config, "InvalidConfig", "image config");
            if (parsed.RootFs.Type != "layers") throw Invalid("InvalidConfig", config, "image config", $"its rootfs type is '{parsed.RootFs.Type}', not 'layers'");
            if (parsed.RootFs.DiffIds.Count != manifest.Layers.Count)
                throw Invalid("InvalidConfig", config, "image config", $"it lists {parsed.RootFs.DiffIds.Count} layer diff IDs for {manifest.Layers.Count} layers");
            return parsed;
        }

        private static JsonElement Object(byte[] bytes, Descriptor descriptor, string errorId, string what)
        {
            try
            {
                using var doc = JsonDocument.Parse(bytes);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) throw Invalid(errorId, descriptor, what, "it is not a JSON object");
                return doc.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw Invalid(errorId, descriptor, what, "it is not JSON: " + e.Message);
            }
        }

        private static T Parse<T>(byte[] bytes, Descriptor descriptor, string errorId, string what)
        {
            try
            {
                return OciJson.Deserialize<T>(bytes, $"{what} {descriptor.Digest}");
            }
            catch (ImageModuleException e) when (e.ErrorId == "InvalidJson")
            {
                throw Invalid(errorId, descriptor, what, e.Message);
            }
        }

        private static ImageModuleException Invalid(string errorId, Descriptor descriptor, string what, string why) =>
            new(errorId, ErrorKind.InvalidData, $"The {what} {descriptor.Digest} is not valid: {why}. Nothing was copied or named.", descriptor.Digest.ToString());
    }
}
