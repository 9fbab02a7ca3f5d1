namespace ImageModule.Registry
{
    /// <summary>A user name and secret for one registry. ToString never shows the secret.</summary>
    public sealed class RegistryCredential
    {
        public RegistryCredential(string userName, string password)
        {
            UserName = userName;
            Password = password;
        }

        public string UserName { get; }
        public string Password { get; }

        public override string ToString() => $"{UserName} (password hidden)";
    }
}
