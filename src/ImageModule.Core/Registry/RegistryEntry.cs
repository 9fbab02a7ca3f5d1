namespace ImageModule.Registry
{
    /// <summary>
    /// A repository of a registry's catalog, or one of its tags (Find-Image -Registry, -ListTags). Name is the full
    /// reference ("localhost:5000/team/app:1"), so a listing piped into Install-Image, Copy-Image or
    /// Remove-RegistryImage means the image it shows, on the registry it came from.
    /// </summary>
    public sealed record RegistryEntry(string Registry, string Repository, string? Tag)
    {
        public string Name => Registry + "/" + Repository + (Tag is null ? "" : ":" + Tag);

        public override string ToString() => Name;
    }
}
