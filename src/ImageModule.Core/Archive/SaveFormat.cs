namespace ImageModule.Archive
{
    /// <summary>What <see cref="ArchiveWriter"/> writes.</summary>
    public enum SaveFormat
    {
        /// <summary>One tar that is both a docker-archive (manifest.json, repositories) and an OCI layout, as Docker 25+ writes it.</summary>
        DockerAndOci,
        /// <summary>An oci-archive: a tar of an OCI image layout only.</summary>
        Oci,
        /// <summary>The pre-Docker-25 docker-archive: uncompressed &lt;id&gt;/layer.tar, &lt;id&gt;/json, VERSION, for very old loaders.</summary>
        DockerLegacy,
        /// <summary>An OCI image layout directory instead of a tar.</summary>
        OciDirectory,
    }
}
