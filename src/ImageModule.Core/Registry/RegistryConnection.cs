namespace ImageModule.Registry
{
    /// <summary>A stored registry login, as Connect-ImageRegistry reports it: never the secret.</summary>
    public sealed record RegistryConnection(string Registry, string UserName, string ConfigPath);
}
