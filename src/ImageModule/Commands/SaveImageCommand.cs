using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Archive;

namespace ImageModule.Commands
{
    /// <summary>
    /// Writes images to one archive (docker save): by default a tar that is both a docker-archive and an OCI layout,
    /// so docker, podman, skopeo and umoci all load it. Shared layers are stored once, as they are (never recompressed).
    /// </summary>
    [Cmdlet(VerbsData.Save, "Image", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(FileInfo), typeof(DirectoryInfo))]
    public sealed class SaveImageCommand : ImageSelectionCmdlet
    {
        private readonly List<Image> _images = new();

        /// <summary>The archive to write (a directory for -Format OciDirectory).</summary>
        [Parameter(Mandatory = true, Position = 1)]
        [ValidateNotNullOrEmpty]
        public string Path { get; set; } = "";

        [Parameter]
        public SaveFormat Format { get; set; } = SaveFormat.DockerAndOci;

        /// <summary>Gzip the whole archive (e.g. -Path images.tar.gz).</summary>
        [Parameter]
        public SwitchParameter Compress { get; set; }

        /// <summary>For multi-platform images, the platform to save (default: all that are present).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        /// <summary>Overwrite an existing file.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord() => _images.AddRange(UsableImages());

        protected override void EndProcessing()
        {
            if (_images.Count == 0) return;
            var path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path);
            if ((File.Exists(path) || Directory.Exists(path)) && !Force)
            {
                ThrowTerminatingError(ToErrorRecord(new ImageModuleException("FileExists", ErrorKind.ResourceExists, $"'{path}' already exists; use -Force to overwrite it.", path)));
            }
            if (OutputPaths.MissingParent(path) is { } missing) ThrowTerminatingError(ToErrorRecord(missing));
            var names = string.Join(", ", _images.Select(i => i.Name ?? i.ShortId).Distinct());
            if (!ShouldProcess(path, $"Save {names}")) return;

            // A failure (a damaged blob, a full disk) is this archive's error, written like any other per-item error with
            // a stable id; the archive writer has already removed its temporary output.
            ForEachItem(path, () =>
            {
                // One entry per manifest, carrying every name the user selected for it.
                var items = _images.GroupBy(i => i.Digest ?? i.Id).Select(g =>
                {
                    var first = g.First();
                    var references = g.Where(i => i.Name != null).Select(i => i.Name!).Distinct().ToList();
                    return new SaveItem(references, ManifestOf(first));
                }).ToList();
                var source = ContentOf(_images[0]);
                var options = new SaveOptions
                {
                    Format = Format,
                    Compress = Compress,
                    Overwrite = Force,
                    Platform = PlatformParameter(Platform),
                    // Work in progress is owned by this process's lease in the store, so a killed save leaves nothing that outlives the next one.
                    TempDirectory = OpenEmbeddedStore().StagingDirectory,
                    TempTarget = OpenEmbeddedStore().StagingBeside(path),
                };
                ProgressActivity = $"Saving {names} to {path}";
                var written = Run((progress, ct) => ArchiveWriter.SaveAsync(source, items, path, options, progress, ct));
                WriteObject(OutputPaths.Item(this, written));
            });
        }
    }
}
