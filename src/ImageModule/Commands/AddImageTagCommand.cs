using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.References;

namespace ImageModule.Commands
{
    /// <summary>Gives an image another name (docker tag).</summary>
    [Cmdlet(VerbsCommon.Add, "ImageTag", DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(Image))]
    public sealed class AddImageTagCommand : StoreCmdlet
    {
        private const string ByName = "ByName";
        private const string ByInputObject = "ByInputObject";

        /// <summary>The image to tag: a name, tag or ID.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string Name { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image? InputObject { get; set; }

        /// <summary>The new name, e.g. localhost:5000/app:1.2 (docker.io/library and :latest are implied as in docker).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Tag { get; set; } = "";

        protected override void ProcessRecord()
        {
            ImageReference target;
            try
            {
                target = ImageReference.Parse(Tag);
            }
            catch (InvalidReferenceException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, Tag));
                return;
            }
            if (target.Digest != null)
            {
                ThrowTerminatingError(ToErrorRecord(new InvalidReferenceException(Tag, "a new name cannot contain a digest"), Tag));
                return;
            }
            var source = InputObject ?? SingleOrError(Name);
            if (source is null) return;
            ForEachItem(source, () =>
            {
                var store = StoreOf(source);
                var tagged = Run((_, ct) => store.TagAsync(source, target, ct));
                Invalidate();
                WriteObject(tagged);
            });
        }
    }
}
