namespace ImageModule.Registry
{
    /// <summary>What a push produced: the name and the manifest digest the registry now serves.</summary>
    public sealed record PublishedImage(string Name, string Digest, long ManifestSize, string Id);
}
