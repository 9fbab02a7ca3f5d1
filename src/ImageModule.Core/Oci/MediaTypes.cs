namespace ImageModule.Oci
{
    /// <summary>Media types of the OCI image spec (media-types.md) and Docker's image manifest v2 schema 2.</summary>
    public static class MediaTypes
    {
        public const string OciIndex = "application/vnd.oci.image.index.v1+json";
        public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
        public const string OciConfig = "application/vnd.oci.image.config.v1+json";
        public const string OciLayer = "application/vnd.oci.image.layer.v1.tar";
        public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
        public const string OciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
        public const string OciLayerNondistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar";
        public const string OciLayerNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
        public const string OciLayerNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
        public const string OciEmpty = "application/vnd.oci.empty.v1+json";

        public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
        public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
        public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
        public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
        public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar";
        public const string DockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";

        public static bool IsIndex(string? mediaType) => mediaType == OciIndex || mediaType == DockerManifestList;

        public static bool IsManifest(string? mediaType) => mediaType == OciManifest || mediaType == DockerManifest;

        public static bool IsGzipLayer(string? mediaType) =>
            mediaType == OciLayerGzip || mediaType == DockerLayerGzip || mediaType == DockerForeignLayerGzip || mediaType == OciLayerNondistributableGzip;

        public static bool IsZstdLayer(string? mediaType) => mediaType == OciLayerZstd || mediaType == OciLayerNondistributableZstd;

        /// <summary>A config media type of a container image (what podman and skopeo accept as one), not an artifact's.</summary>
        public static bool IsImageConfig(string? mediaType) => mediaType == OciConfig || mediaType == DockerConfig;

        /// <summary>A media type of a filesystem layer (a tar, plain or compressed), as the image spec and Docker define them.</summary>
        public static bool IsLayer(string? mediaType) =>
            mediaType == OciLayer || mediaType == DockerLayer || mediaType == OciLayerNondistributable || IsGzipLayer(mediaType) || IsZstdLayer(mediaType);

        /// <summary>Every manifest media type a client should list in an Accept header.</summary>
        public static readonly string[] ManifestAccept = { OciIndex, OciManifest, DockerManifestList, DockerManifest };
    }
}
