using System.Management.Automation;
using ImageModule.References;

namespace ImageModule.Commands
{
    /// <summary>
    /// Deletes an image from a registry (crane delete, regctl manifest delete): the manifest a tag or digest names,
    /// and with it every tag on that manifest. The registry must allow deletion.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "RegistryImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    public sealed class RemoveRegistryImageCommand : RegistryCmdlet
    {
        /// <summary>host/repository:tag or host/repository@digest.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        protected override void ProcessRecord()
        {
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    var reference = ImageReference.Parse(name);
                    using var repository = OpenRepository(reference);
                    var manifest = Run((_, ct) => repository.ResolveAsync(reference.Digest?.ToString() ?? reference.Tag!, ct));
                    var target = reference.WithoutTagOrDigest().WithDigest(manifest.Digest).ToString();
                    if (!ShouldProcess(target, $"Delete {reference} (every tag on {manifest.Digest.Short} goes with it)")) return;
                    Run((_, ct) => repository.DeleteAsync(manifest.Digest, ct));
                });
            }
        }
    }
}
