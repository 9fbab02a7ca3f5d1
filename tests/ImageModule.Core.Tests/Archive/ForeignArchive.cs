using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json.Nodes;
using ImageModule.Filesystem;
using ImageModule.Oci;

namespace ImageModule.Tests.Archive
{
    /// <summary>
    /// Writes image archives the way other tools write them, as JSON text we control (so a test can put null, odd
    /// media types or bad names where those tools do): Docker 25's docker-archive + OCI layout, BuildKit's zero-layer
    /// images, Helm charts pushed as OCI artifacts, legacy docker save.
    /// </summary>
    internal sealed class ForeignArchive
    {
        private readonly List<(string Name, byte[] Content)> _entries = new();

        public static byte[] Json(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

        public static string DigestOf(byte[] content) => Digest.Compute(content).ToString();

        public static string BlobPath(byte[] content) => "blobs/sha256/" + Digest.Compute(content).Hex;

        public static JsonObject Descriptor(string mediaType, byte[] content) =>
            new() { ["mediaType"] = mediaType, ["digest"] = DigestOf(content), ["size"] = content.Length };

        public ForeignArchive Add(string name, byte[] content) { _entries.Add((name, content)); return this; }

        public ForeignArchive Blob(byte[] content) => Add(BlobPath(content), content);

        public byte[] ToTar() => ArchiveTestData.Tar(_entries.Select(e => (new TarHeader { Name = e.Name, Mode = 0x1A4 }, (byte[]?)e.Content)).ToArray());

        public string WriteTo(string directory, string name = "archive.tar")
        {
            Directory.CreateDirectory(directory);
            var path = Path.Combine(directory, name);
            File.WriteAllBytes(path, ToTar());
            return path;
        }

        /// <summary>A one-file layer (uncompressed tar, its gzip) for the image the documents below describe.</summary>
        public static (byte[] Tar, byte[] Gzip) Layer(string file = "hello.txt", string text = "hello")
        {
            var tar = ArchiveTestData.Tar((new TarHeader { Name = file, Mode = 0x1A4 }, Encoding.UTF8.GetBytes(text)));
            return (tar, TestImages.Gzip(tar));
        }

        /// <summary>A config as docker and BuildKit write it, every optional field filled in.</summary>
        public static JsonObject Config(params byte[][] layerTars) => new()
        {
            ["created"] = "2024-02-01T10:00:00Z",
            ["author"] = "someone",
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["config"] = new JsonObject
            {
                ["User"] = "app",
                ["ExposedPorts"] = new JsonObject { ["80/tcp"] = new JsonObject() },
                ["Env"] = new JsonArray("PATH=/bin", "A=1"),
                ["Entrypoint"] = new JsonArray("/bin/sh"),
                ["Cmd"] = new JsonArray("-c", "true"),
                ["Volumes"] = new JsonObject { ["/data"] = new JsonObject() },
                ["WorkingDir"] = "/",
                ["Labels"] = new JsonObject { ["org.example"] = "yes" },
                ["StopSignal"] = "SIGTERM",
                ["OnBuild"] = new JsonArray("RUN true"),
                ["Shell"] = new JsonArray("/bin/sh", "-c"),
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(layerTars.Select(t => (JsonNode)DigestOf(t)).ToArray()) },
            ["history"] = new JsonArray(layerTars.Select(_ => (JsonNode)new JsonObject { ["created"] = "2024-02-01T10:00:00Z", ["created_by"] = "COPY hello.txt /", ["comment"] = "buildkit.dockerfile.v0" }).ToArray()),
        };

        public static JsonObject Manifest(byte[] config, params byte[][] layerGzips) => new()
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = Descriptor(MediaTypes.OciConfig, config),
            ["layers"] = new JsonArray(layerGzips.Select(l => (JsonNode)Descriptor(MediaTypes.OciLayerGzip, l)).ToArray()),
            ["annotations"] = new JsonObject { ["org.opencontainers.image.created"] = "2024-02-01T10:00:00Z" },
        };

        /// <summary>index.json of Docker 25's docker save: tag-only ref.name plus the full name for containerd.</summary>
        public static JsonObject Index(byte[] manifest, string? fullName, string? refName) => new()
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray(new JsonObject
            {
                ["mediaType"] = MediaTypes.OciManifest,
                ["digest"] = DigestOf(manifest),
                ["size"] = manifest.Length,
                ["annotations"] = Annotations(fullName, refName),
                ["platform"] = new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" },
            }),
        };

        private static JsonObject Annotations(string? fullName, string? refName)
        {
            var a = new JsonObject();
            if (fullName != null) a["io.containerd.image.name"] = fullName;
            if (refName != null) a["org.opencontainers.image.ref.name"] = refName;
            return a;
        }

        /// <summary>manifest.json of docker save (Docker 25 points it at blobs/).</summary>
        public static JsonArray DockerManifest(string configPath, IEnumerable<string> layerPaths, params string[] repoTags) => new(new JsonObject
        {
            ["Config"] = configPath,
            ["RepoTags"] = repoTags.Length == 0 ? null : new JsonArray(repoTags.Select(t => (JsonNode)t).ToArray()),
            ["Layers"] = new JsonArray(layerPaths.Select(p => (JsonNode)p).ToArray()),
        });

        /// <summary>A Docker 25 docker save of one image: blobs, index.json, manifest.json, oci-layout.</summary>
        public static ForeignArchive Docker25(JsonObject config, Func<byte[], JsonObject> manifest, Func<byte[], JsonObject> index, byte[][] layerBlobs, string[] repoTags)
        {
            var configBytes = Json(config);
            var manifestBytes = Json(manifest(configBytes));
            var archive = new ForeignArchive();
            foreach (var l in layerBlobs) archive.Blob(l);
            archive.Blob(configBytes).Blob(manifestBytes);
            archive.Add("index.json", Json(index(manifestBytes)));
            // Without tags: an OCI archive as skopeo and umoci write it (no manifest.json).
            if (repoTags.Length > 0) archive.Add("manifest.json", Json(DockerManifest(BlobPath(configBytes), layerBlobs.Select(BlobPath), repoTags)));
            archive.Add("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
            return archive;
        }
    }
}
