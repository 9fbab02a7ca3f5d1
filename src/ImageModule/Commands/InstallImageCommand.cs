using System.Linq;
using System.Management.Automation;
using ImageModule.Content;
using ImageModule.References;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>Pulls images from a registry into the store (docker pull): by tag or digest, one platform of a multi-platform image.</summary>
    [Cmdlet(VerbsLifecycle.Install, "Image")]
    [OutputType(typeof(Image))]
    public sealed class InstallImageCommand : RegistryCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        /// <summary>os/arch[/variant] to pick from a multi-platform image (default: this machine's).</summary>
        [Parameter]
        public string? Platform { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    var reference = ImageReference.Parse(name);
                    var platform = Platform is null ? null : Oci.Platform.Parse(Platform);
                    var store = Store;
                    using var repository = OpenRepository(reference);
                    using (store is OciStore oci ? oci.BeginIngest() : null)
                    {
                        var sourceRef = reference.Digest?.ToString() ?? reference.Tag!;
                        Run((progress, ct) => ImageCopier.CopyAsync(repository, sourceRef, store.Content, reference.ToString(), platform, progress, ct));
                    }
                    Invalidate();
                    var image = Images.FirstOrDefault(i => i.Name == reference.ToString());
                    if (image != null) WriteObject(image);
                });
            }
        }
    }
}
