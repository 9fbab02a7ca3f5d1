using System.Management.Automation;
using System.Net;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>Base of cmdlets that talk to a registry: -Credential, and a repository client for a reference.</summary>
    public abstract class RegistryCmdlet : StoreCmdlet
    {
        /// <summary>User name and password (or token) for the registry. Never written to any output stream.</summary>
        [Parameter]
        [Credential]
        public PSCredential? Credential { get; set; }

        /// <summary>
        /// One time limit for this command, in seconds: replaces the connect, response and idle timeouts of every
        /// registry it talks to (the per-registry ones are set with Set-ImageRegistrySetting).
        /// </summary>
        [Parameter]
        [ValidateRange(0.1, 3600)]
        public double TimeoutSeconds { get; set; }

        protected RegistryCredential? GivenCredential => ToRegistryCredential(Credential);

        internal static RegistryCredential? ToRegistryCredential(PSCredential? credential) =>
            credential != null && credential != PSCredential.Empty
                ? new RegistryCredential(credential.UserName, new NetworkCredential(string.Empty, credential.Password).Password)
                : null;

        private RegistryClients? _clients;

        /// <summary>
        /// Repositories opened with the registry settings file, -Credential for the named registry (else the login
        /// Connect-ImageRegistry or docker login stored), and the store's record of blob origins for mounts.
        /// </summary>
        protected RegistryClients Clients => _clients ??= ClientsWith(GivenCredential);

        protected RegistryClients ClientsWith(RegistryCredential? credential) =>
            new(RegistrySettings.Load(), credential, new DockerCredentialStore().Get, !UsesEngine && Store is Store.OciStore oci ? oci.BlobOrigins : null)
            {
                Timeout = TimeoutSeconds > 0 ? System.TimeSpan.FromSeconds(TimeoutSeconds) : null,
            };

        protected RegistryRepository OpenRepository(ImageReference reference) => Clients.Open(reference);
    }
}
