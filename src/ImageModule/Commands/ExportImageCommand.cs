using System;
using System.IO;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Filesystem;

namespace ImageModule.Commands
{
    /// <summary>Writes an image's flattened filesystem, all layers applied with whiteouts honoured, as one tar (crane export).</summary>
    [Cmdlet(VerbsData.Export, "Image", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(FileInfo))]
    public sealed class ExportImageCommand : ImageSelectionCmdlet
    {
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var image in UsableImages())
            {
                var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
                if (File.Exists(path) && !Force)
                {
                    WriteError(new ImageModuleException("FileExists", ErrorKind.ResourceExists, $"'{path}' already exists; use -Force to overwrite it.", path), path);
                    continue;
                }
                if (OutputPaths.MissingParent(path) is { } missing)
                {
                    WriteError(missing, path);
                    continue;
                }
                if (!ShouldProcess(path, $"Export the filesystem of {image}")) continue;
                ForEachItem(image, () =>
                {
                    var manifest = ManifestOf(image);
                    var store = ContentOf(image);
                    var platform = PlatformParameter(Platform);
                    var temp = OpenEmbeddedStore().StagingBeside(path);
                    try
                    {
                        using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
                        {
                            ProgressActivity = $"Exporting {image} to {path}";
                            Run((progress, ct) => ImageFilesystem.ExportAsync(store, manifest, output, platform, progress, ct));
                            output.Flush(true);
                        }
                        if (File.Exists(path)) File.Delete(path);
                        File.Move(temp, path);
                    }
                    finally
                    {
                        if (File.Exists(temp)) File.Delete(temp);
                    }
                    WriteObject(OutputPaths.Item(this, path));
                });
            }
        }
    }
}
