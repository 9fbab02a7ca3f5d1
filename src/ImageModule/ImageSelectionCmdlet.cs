using System.Collections.Generic;
using System.Management.Automation;

namespace ImageModule.Commands
{
    /// <summary>Base of cmdlets that act on images named by -Name or piped in as Image objects.</summary>
    public abstract class ImageSelectionCmdlet : StoreCmdlet
    {
        protected const string ByName = "ByName";
        protected const string ByInputObject = "ByInputObject";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image[] InputObject { get; set; } = new Image[0];

        /// <summary>The images this record selects: piped objects as they are, names each resolved to exactly one image.</summary>
        protected IEnumerable<Image> SelectedImages()
        {
            if (ParameterSetName == ByInputObject)
            {
                foreach (var image in InputObject) yield return image;
                yield break;
            }
            foreach (var name in Name)
            {
                var image = SingleOrError(name);
                if (image != null) yield return image;
            }
        }

        /// <summary>The manifest (or index) descriptor of an image, from the store it lives in.</summary>
        protected Oci.Descriptor ManifestOf(Image image)
        {
            var store = StoreOf(image);
            return Run((_, ct) => store.Content.ResolveAsync(image.Name ?? image.Digest ?? image.Id, ct));
        }
    }
}
