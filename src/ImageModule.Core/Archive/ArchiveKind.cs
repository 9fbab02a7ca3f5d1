namespace ImageModule.Archive
{
    /// <summary>What an archive holds, from its entry names.</summary>
    public enum ArchiveKind
    {
        Unknown,
        /// <summary>`docker save` before Docker 25: manifest.json plus &lt;id&gt;/layer.tar, &lt;id&gt;/json, VERSION.</summary>
        DockerArchiveLegacy,
        /// <summary>Docker 25+ (and ours): manifest.json and an OCI layout in one tar.</summary>
        DockerArchive,
        /// <summary>A tar of an OCI image layout (oci-layout, index.json, blobs/…).</summary>
        OciArchive,
        /// <summary>An OCI image layout directory on disk.</summary>
        OciLayoutDirectory,
        /// <summary>A plain filesystem tarball (`docker import`).</summary>
        RootfsTarball,
    }
}
