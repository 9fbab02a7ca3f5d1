using System;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Engine;
using ImageModule.Store;
using ImageModule.Transfer;

namespace ImageModule.Commands
{
    /// <summary>
    /// Copies an image between registries, the store, OCI layouts and archives (skopeo copy, crane copy). Registry to
    /// registry goes blob by blob without touching the store; digests are kept.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "Image", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(CopiedImage))]
    public sealed class CopyImageCommand : RegistryCmdlet
    {
        private const string ByLocation = "ByLocation";
        private const string ByInputObject = "ByInputObject";

        /// <summary>docker://host/repo:tag (or a bare reference), store:name:tag, docker-daemon:name:tag (the engine -Engine names, default Docker), oci:dir[:ref], oci-archive:file[:ref], docker-archive:file[:ref].</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByLocation, ValueFromPipelineByPropertyName = true)]
        [Alias("Name")]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageLocationCompleter))]
        public string Source { get; set; } = "";

        /// <summary>An image from Get-Image: copied from the store or engine it was listed from.</summary>
        /// <remarks>
        /// Its set is the default because PowerShell binds piped input to the default set's parameters first: else an
        /// Image's Name property would bind to -Source and the copy would look the name up on a registry. Position 0
        /// lets "Copy-Image a b" fall through (a string is no Image) to the location set.
        /// </remarks>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image? InputObject { get; set; }

        /// <summary>Where the copy goes, in the same syntax as -Source.</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageLocationCompleter))]
        public string Destination { get; set; } = "";

        /// <summary>os/arch[/variant] to take from a multi-platform image, and to require of a single-platform one (default: DOCKER_DEFAULT_PLATFORM, else linux on this machine's architecture).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
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
            var target = (object?)InputObject ?? Source;
            ForEachItem(target, () =>
            {
                var destination = Resolved(ImageLocation.Parse(Destination));
                var source = InputObject is null ? Resolved(ImageLocation.Parse(Source)) : LocationOf(InputObject);
                var platform = PlatformParameter(Platform);
                if (!ShouldProcess(destination.Text, $"Copy {source.Text}")) return;
                Func<OciStore> store = OpenEmbeddedStore;
                Func<EngineStore> engine = () => OpenEngine(UsesEngine ? Engine! : "Docker");
                if (InputObject != null)
                {
                    // A piped image is copied from where it was listed, whatever this command's own store or engine.
                    var from = StoreOf(InputObject);
                    if (from is EngineStore fromEngine) engine = () => fromEngine;
                    else if (from is OciStore fromStore)
                    {
                        if (destination.Kind == LocationKind.Store && fromStore.Location != OpenEmbeddedStore().Location)
                            throw new ImageModuleException("CopyNotSupported", ErrorKind.InvalidArgument,
                                $"{InputObject} lives in {fromStore.Location}; copy it into another store with -StorePath on Copy-Image and store:… as the source.", destination.Text);
                        store = () => fromStore;
                    }
                }
                var transfer = new ImageTransfer(
                    ClientsWith(ToRegistryCredential(SourceCredential) ?? GivenCredential),
                    ClientsWith(ToRegistryCredential(DestinationCredential) ?? GivenCredential),
                    store,
                    engine);
                ProgressActivity = $"Copying {source.Text} to {destination.Text}";
                var copied = Run((progress, ct) => transfer.CopyAsync(source, destination, platform, AllPlatforms, progress, ct));
                if (destination.Kind == LocationKind.Store) Invalidate();
                WriteObject(copied);
            });
        }

        /// <summary>The location of a piped image: store:name (or its digest when unnamed), or docker-daemon:name (or ID).</summary>
        private static ImageLocation LocationOf(Image image)
        {
            if (image.StoreKind == EmbeddedStore)
            {
                var reference = image.Name ?? image.Digest ?? image.Id;
                return new ImageLocation(LocationKind.Store, null, reference, "store:" + reference);
            }
            var engineReference = image.Name ?? image.Id;
            return new ImageLocation(LocationKind.Engine, null, engineReference, "docker-daemon:" + engineReference);
        }

        /// <summary>
        /// A relative layout or archive path is relative to the current PowerShell location ($PWD), as every path a
        /// cmdlet takes; the process directory is something else once the user has run Set-Location.
        /// </summary>
        private ImageLocation Resolved(ImageLocation location) =>
            location.Path is null ? location : location with { Path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(location.Path) };
    }
}
