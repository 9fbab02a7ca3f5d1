using System.Management.Automation;
using ImageModule.Store;
using ImageModule.Transfer;

namespace ImageModule.Commands
{
    /// <summary>
    /// Copies an image between registries, the store, OCI layouts and archives (skopeo copy, crane copy). Registry to
    /// registry goes blob by blob without touching the store; digests are kept.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "Image", SupportsShouldProcess = true)]
    [OutputType(typeof(CopiedImage))]
    public sealed class CopyImageCommand : RegistryCmdlet
    {
        /// <summary>docker://host/repo:tag (or a bare reference), store:name:tag, docker-daemon:name:tag (the engine -Engine names, default Docker), oci:dir[:ref], oci-archive:file[:ref], docker-archive:file[:ref].</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        public string Source { get; set; } = "";

        /// <summary>Where the copy goes, in the same syntax as -Source.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Destination { get; set; } = "";

        /// <summary>os/arch[/variant] to take from a multi-platform image (default: this machine's).</summary>
        [Parameter]
        public string? Platform { get; set; }

        /// <summary>Copy every platform of a multi-platform image and the index itself (skopeo copy --all).</summary>
        [Parameter]
        public SwitchParameter AllPlatforms { get; set; }

        /// <summary>Credential for the source registry (else -Credential, else the stored login).</summary>
        [Parameter]
        [Credential]
        public PSCredential? SourceCredential { get; set; }

        /// <summary>Credential for the destination registry (else -Credential, else the stored login).</summary>
        [Parameter]
        [Credential]
        public PSCredential? DestinationCredential { get; set; }

        protected override void ProcessRecord()
        {
            ForEachItem(Source, () =>
            {
                var source = ImageLocation.Parse(Source);
                var destination = ImageLocation.Parse(Destination);
                var platform = PlatformParameter(Platform);
                if (!ShouldProcess(destination.Text, $"Copy {source.Text}")) return;
                var transfer = new ImageTransfer(
                    ClientsWith(ToRegistryCredential(SourceCredential) ?? GivenCredential),
                    ClientsWith(ToRegistryCredential(DestinationCredential) ?? GivenCredential),
                    OpenEmbeddedStore,
                    () => OpenEngine(UsesEngine ? Engine! : "Docker"));
                var copied = Run((progress, ct) => transfer.CopyAsync(source, destination, platform, AllPlatforms, progress, ct));
                if (destination.Kind == LocationKind.Store) Invalidate();
                WriteObject(copied);
            });
        }
    }
}
