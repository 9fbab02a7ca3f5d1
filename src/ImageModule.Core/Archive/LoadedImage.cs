using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>One image an archive added to a target: the name it was tagged with (null when the archive named none) and its manifest.</summary>
    public sealed record LoadedImage(string? Reference, Descriptor Manifest);
}
