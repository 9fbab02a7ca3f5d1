using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Filesystem;

namespace ImageModule.Commands
{
    /// <summary>Lists the files of an image's final filesystem, with the layer that last wrote each one (what dive shows).</summary>
    [Cmdlet(VerbsCommon.Get, "ImageFile", DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(ImageFile))]
    public sealed class GetImageFileCommand : ImageSelectionCmdlet
    {
        /// <summary>Only paths matching this wildcard, e.g. 'usr/lib/*' or '*.so'.</summary>
        [Parameter(Position = 1)]
        [SupportsWildcards]
        public string[]? Path { get; set; }

        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        protected override void ProcessRecord()
        {
            var patterns = Path?.Select(p => new WildcardPattern(p.TrimStart('/'), WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant)).ToList();
            foreach (var image in UsableImages())
            {
                ForEachItem(image, () =>
                {
                    var manifest = ManifestOf(image);
                    var store = ContentOf(image);
                    var platform = PlatformParameter(Platform);
                    var files = Run((_, ct) => ImageFilesystem.ListFilesAsync(store, manifest, platform, ct));
                    var imageName = image.Name ?? image.ShortId;
                    foreach (var file in files)
                    {
                        if (patterns != null && !patterns.Any(p => p.IsMatch(file.Path.TrimStart('/')))) continue;
                        // Which image a file belongs to, so several images' files list grouped by image.
                        var item = PSObject.AsPSObject(file);
                        item.Properties.Add(new PSNoteProperty("ImageName", imageName));
                        WriteObject(item);
                    }
                });
            }
        }
    }
}
