using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>Logs in to a registry (docker login): checks the credentials, then stores them in the docker config file.</summary>
    [Cmdlet(VerbsCommunications.Connect, "ImageRegistry")]
    [OutputType(typeof(RegistryConnection))]
    public sealed class ConnectImageRegistryCommand : RemoteRegistryCmdlet
    {
        /// <summary>Registry host[:port]; docker.io for Docker Hub.</summary>
        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RegistryCompleter))]
        public string Registry { get; set; } = "";

        protected override void ProcessRecord()
        {
            var credential = GivenCredential;
            if (credential is null)
            {
                var prompted = Host.UI.PromptForCredential("Connect-ImageRegistry", $"Credentials for {Registry}", "", Registry);
                if (prompted is null) return;
                Credential = prompted;
                credential = GivenCredential!;
            }
            ForEachItem(Registry, () =>
            {
                var registry = ImageReference.Parse(Registry.TrimEnd('/') + "/login-check").Registry;
                using (var repository = ClientsWith(credential).Open(ImageReference.Parse(registry + "/login-check")))
                {
                    Run((_, ct) => repository.PingAsync(ct));
                }
                var store = new DockerCredentialStore();
                store.Store(registry, credential);
                WriteObject(new RegistryConnection(registry, credential.UserName, store.ConfigPath));
            });
        }
    }

    /// <summary>Logs out of a registry (docker logout): forgets the stored credentials.</summary>
    [Cmdlet(VerbsCommunications.Disconnect, "ImageRegistry", SupportsShouldProcess = true)]
    public sealed class DisconnectImageRegistryCommand : ImageCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RegistryCompleter))]
        public string Registry { get; set; } = "";

        protected override void ProcessRecord()
        {
            ForEachItem(Registry, () =>
            {
                var registry = ImageReference.Parse(Registry.TrimEnd('/') + "/login-check").Registry;
                var store = new DockerCredentialStore();
                if (!ShouldProcess(registry, $"Remove the stored login from {store.ConfigPath}")) return;
                if (!store.Erase(registry))
                    WriteError(new ImageModuleException("NotConnected", ErrorKind.ObjectNotFound, $"No login for {registry} is stored in {store.ConfigPath}.", registry), registry);
            });
        }
    }
}
