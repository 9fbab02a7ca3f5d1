using System.Management.Automation;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>
    /// Base of cmdlets that talk only to a registry and never to a local store (Find-Image, Connect-ImageRegistry,
    /// Remove-RegistryImage): -Credential, no -StorePath or -Engine — a parameter they would ignore is not offered, and
    /// a session default such as $PSDefaultParameterValues['*-Image*:Engine'] does not apply to them.
    /// </summary>
    public abstract class RemoteRegistryCmdlet : ImageCmdlet
    {
        /// <summary>User name and password (or token) for the registry. Never written to any output stream.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        protected RegistryCredential? GivenCredential => RegistryCmdlet.ToRegistryCredential(Credential);

        private RegistryClients? _clients;

        /// <summary>Repositories opened with the registry settings file and -Credential (else the stored login).</summary>
        protected RegistryClients Clients => _clients ??= ClientsWith(GivenCredential);

        protected static RegistryClients ClientsWith(RegistryCredential? credential) =>
            new(RegistrySettings.Load(), credential, new DockerCredentialStore().Get, null);

        protected RegistryRepository OpenRepository(ImageReference reference) => Clients.Open(reference);
    }
}
