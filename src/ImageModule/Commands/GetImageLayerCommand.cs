using System.Management.Automation;

namespace ImageModule.Commands
{
    /// <summary>Lists an image's layers with their history (docker history), newest first.</summary>
    [Cmdlet(VerbsCommon.Get, "ImageLayer", DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(ImageLayer))]
    public sealed class GetImageLayerCommand : ImageSelectionCmdlet
    {
        protected override void ProcessRecord()
        {
            foreach (var image in SelectedImages())
            {
                ForEachItem(image, () =>
                {
                    var store = StoreOf(image);
                    WriteObject(Run((_, ct) => store.GetLayersAsync(image, ct)), enumerateCollection: true);
                });
            }
        }
    }
}
