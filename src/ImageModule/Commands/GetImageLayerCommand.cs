using System.Management.Automation;

namespace ImageModule.Commands
{
    /// <summary>Lists an image's layers with their history (docker history), newest first.</summary>
    [Cmdlet(VerbsCommon.Get, "ImageLayer", DefaultParameterSetName = ByName)]
    [OutputType(typeof(ImageLayer))]
    public sealed class GetImageLayerCommand : StoreCmdlet
    {
        private const string ByName = "ByName";
        private const string ByInputObject = "ByInputObject";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image[] InputObject { get; set; } = new Image[0];

        protected override void ProcessRecord()
        {
            if (ParameterSetName == ByInputObject)
            {
                foreach (var image in InputObject) WriteLayers(image);
                return;
            }
            foreach (var name in Name)
            {
                var image = SingleOrError(name);
                if (image != null) WriteLayers(image);
            }
        }

        private void WriteLayers(Image image) => ForEachItem(image, () =>
        {
            var store = StoreOf(image);
            WriteObject(Run((_, ct) => store.GetLayersAsync(image, ct)), enumerateCollection: true);
        });
    }
}
