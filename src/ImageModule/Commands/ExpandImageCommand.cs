using System.IO;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Filesystem;

namespace ImageModule.Commands
{
    /// <summary>Unpacks an image's filesystem into a directory (umoci unpack --rootless), safely: nothing is written outside it.</summary>
    [Cmdlet(VerbsData.Expand, "Image", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(DirectoryInfo))]
    public sealed class ExpandImageCommand : ImageSelectionCmdlet
    {
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string DestinationPath { get; set; } = "";

        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        /// <summary>Unpack into a directory that is not empty.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var image in UsableImages())
            {
                var destination = SessionState.Path.GetUnresolvedProviderPathFromPSPath(DestinationPath);
                if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any() && !Force)
                {
                    WriteError(new ImageModuleException("DestinationNotEmpty", ErrorKind.ResourceExists, $"'{destination}' is not empty; use -Force to unpack into it.", destination), destination);
                    continue;
                }
                if (!ShouldProcess(destination, $"Expand the filesystem of {image}")) continue;
                ForEachItem(image, () =>
                {
                    var manifest = ManifestOf(image);
                    var store = ContentOf(image);
                    var warnings = new System.Collections.Concurrent.ConcurrentQueue<string>();
                    var options = new ExpandOptions { Platform = PlatformParameter(Platform), Warning = warnings.Enqueue, StagingPath = OpenEmbeddedStore().StagingBeside(destination) };
                    ProgressActivity = $"Expanding {image} into {destination}";
                    Run((progress, ct) => ImageFilesystem.ExpandAsync(store, manifest, destination, options, progress, ct));
                    foreach (var warning in warnings) WriteWarning(warning);
                    WriteObject(OutputPaths.Item(this, destination));
                });
            }
        }
    }
}
