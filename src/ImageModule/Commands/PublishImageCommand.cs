using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Content;
using ImageModule.Engine;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>Pushes an image from the store to a registry (docker push); blobs the registry has are not sent again.</summary>
    [Cmdlet(VerbsData.Publish, "Image", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(PublishedImage))]
    public sealed class PublishImageCommand : RegistryCmdlet
    {
        private const string ByName = "ByName";
        private const string ByInputObject = "ByInputObject";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string Name { get; set; } = "";

        [Parameter(Mandatory = true, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image? InputObject { get; set; }

        /// <summary>Where to push, e.g. registry.example.com/team/app:1.0 (default: the image's own name).</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? Destination { get; set; }

        private readonly List<Image> _pending = new();

        protected override void ProcessRecord()
        {
            var image = InputObject ?? SingleOrError(Name);
            if (image is null) return;
            // One -Destination names one image: with several piped images each push would overwrite the last. The
            // images are held until the input ends, so a second one refuses the lot before anything is pushed.
            if (Destination != null && MyInvocation.ExpectingInput)
            {
                if (!_pending.Exists(i => i.Id == image.Id)) _pending.Add(image);
                return;
            }
            Push(image);
        }

        protected override void EndProcessing()
        {
            if (_pending.Count > 1)
            {
                ThrowTerminatingError(ToErrorRecord(new ImageModuleException("OneDestinationSeveralImages", ErrorKind.InvalidArgument,
                    $"{_pending.Count} images ({string.Join(", ", _pending.Select(i => i.Name ?? i.ShortId).Take(5))}) were piped to one -Destination {Destination}; each would overwrite the one before. Push them one at a time, or without -Destination to their own names.", Destination)));
            }
            foreach (var image in _pending) Push(image);
        }

        private void Push(Image image)
        {
            ForEachItem(image, () =>
            {
                var destination = ImageReference.Parse(Destination ?? image.Name ?? throw new InvalidReferenceException(image.Id, "an unnamed image needs -Destination"));
                if (!ShouldProcess(destination.ToString(), $"Push {image.Name ?? image.ShortId}")) return;
                if (StoreOf(image) is EngineStore engine)
                {
                    // An engine image is pushed by the engine (docker push), named as the destination first.
                    if (image.Name != destination.ToString()) Run((_, ct) => engine.TagAsync(image, destination, ct));
                    ProgressActivity = $"Pushing {destination} from {engine.Kind}";
                    var digest = Run((progress, ct) => engine.PushAsync(destination, GivenCredential ?? new DockerCredentialStore().Get(destination.Registry), progress, ct));
                    WriteObject(new PublishedImage(destination.ToString(), digest ?? "", 0, image.Id));
                    return;
                }
                var source = StoreOf(image).Content;
                using var repository = OpenRepository(destination);
                ProgressActivity = $"Pushing {destination}";
                var pushed = Run((progress, ct) => ImageCopier.CopyAsync(source, image.Name ?? image.Digest!, repository, destination.Tag ?? "latest", null, progress, ct, allPlatforms: true));
                WriteObject(new PublishedImage(destination.ToString(), pushed.Digest.ToString(), pushed.Size, image.Id));
            });
        }
    }
}
