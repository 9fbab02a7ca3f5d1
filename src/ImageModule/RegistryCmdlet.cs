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

        protected RegistryCredential? GivenCredential =>
            Credential != null && Credential != PSCredential.Empty
                ? new RegistryCredential(Credential.UserName, new NetworkCredential(string.Empty, Credential.Password).Password)
                : null;

        protected RegistryRepository OpenRepository(ImageReference reference)
        {
            var credential = GivenCredential;
            // Without -Credential, the login Connect-ImageRegistry (or docker login) stored is used.
            credential ??= new DockerCredentialStore().Get(reference.Registry);
            return new RegistryRepository(reference, credential);
        }
    }
}
