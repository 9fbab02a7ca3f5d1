using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Collections.ObjectModel;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Compression;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Engine;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// Loads images from an archive or OCI layout directory (docker load), or makes a one-layer image from a
    /// filesystem tarball (docker import). The format is detected from the content, not the file name.
    /// </summary>
    [Cmdlet(VerbsData.Import, "Image", DefaultParameterSetName = PathSet)]
    [OutputType(typeof(Image))]
    public sealed class ImportImageCommand : StoreCmdlet
    {
        private const string PathSet = "Path";
        private const string LiteralPathSet = "LiteralPath";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Path { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
        [Alias("PSPath", "FullName")]
        [ValidateNotNullOrEmpty]
        public string[] LiteralPath { get; set; } = new string[0];

        /// <summary>Name for a filesystem tarball, or a new name for a single-image archive.</summary>
        [Parameter(Position = 1)]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>Dockerfile instructions applied to a filesystem tarball's config: 'ENV A=1', 'CMD ["/bin/sh"]', 'WORKDIR /app', …</summary>
        [Parameter]
        public string[] Change { get; set; } = new string[0];

        /// <summary>Platform of a filesystem tarball (default: DOCKER_DEFAULT_PLATFORM, else linux on this machine's architecture; with -Engine, the engine's); of an image archive, the one platform to keep (docker load --platform).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        /// <summary>Commit message recorded in the history of a filesystem tarball import.</summary>
        [Parameter]
        public string? Message { get; set; }

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _ = PlatformParameter(Platform, orEnvironment: true);
            if (Name != null && !ImageReference.TryParse(Name, out _, out var reason))
                ThrowTerminatingError(ToErrorRecord(new InvalidReferenceException(Name, reason!), Name));
        }

        protected override void ProcessRecord()
        {
            foreach (var path in ResolvePaths()) ForEachItem(path, () => ImportChecked(path));
        }

        /// <summary>
        /// A decompressor that meets corrupt data throws InvalidDataException, which is no IOException: named here as
        /// the archive's fault, so it stays one item's non-terminating error and the next path is still imported.
        /// </summary>
        private void ImportChecked(string path)
        {
            try
            {
                Import(path);
            }
            catch (InvalidDataException e)
            {
                throw new ImageModuleException(ArchiveErrors.CorruptTar, ErrorKind.InvalidData, $"'{path}' is corrupt: {e.Message}", path, e);
            }
        }

        private IEnumerable<string> ResolvePaths()
        {
            if (ParameterSetName == LiteralPathSet)
            {
                foreach (var p in LiteralPath) yield return SessionState.Path.GetUnresolvedProviderPathFromPSPath(p);
                yield break;
            }
            foreach (var p in Path)
            {
                Collection<string>? resolved = null;
                try
                {
                    resolved = GetResolvedProviderPathFromPSPath(p, out _);
                }
                catch (ItemNotFoundException e)
                {
                    WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, p));
                }
                if (resolved is null) continue;
                foreach (var r in resolved) yield return r;
            }
        }

        private void Import(string path)
        {
            var store = Store;
            if (store is EngineStore engine)
            {
                ImportIntoEngine(path, engine);
                return;
            }
            IReadOnlyList<LoadedImage> loaded;
            using (store is OciStore ingesting ? ingesting.BeginIngest() : null)
            {
                loaded = Load(path, store.Content);
                if (store is OciStore oci)
                {
                    foreach (var unnamed in loaded.Where(l => l.Reference is null)) Run((_, ct) => oci.KeepUnnamedAsync(unnamed.Manifest, ct));
                }
            }
            Invalidate();
            var digests = new HashSet<string>(loaded.Select(l => l.Manifest.Digest.ToString()));
            var names = new HashSet<string>(loaded.Where(l => l.Reference != null).Select(l => ImageReference.Parse(l.Reference!).ToString()));
            Report(path, Images.Where(i => i.Name != null ? names.Contains(i.Name) : digests.Contains(i.Digest ?? "")));
        }

        /// <summary>
        /// docker load / docker import into an engine: the archive or rootfs is read (and checked) into a staging
        /// layout beside the store, then streamed to the engine as one docker-archive; the staging copy is deleted.
        /// </summary>
        private void ImportIntoEngine(string path, EngineStore engine)
        {
            var staging = new OciStore(System.IO.Path.Combine(OpenEmbeddedStore().StagingDirectory, "import-" + Guid.NewGuid().ToString("N").Substring(0, 12)));
            try
            {
                // docker import: the engine's platform when none is asked.
                var loaded = Load(path, staging.Content, PlatformParameter(Platform, orEnvironment: true) ?? Run((_, ct) => engine.DefaultPlatformAsync(ct)));
                var items = loaded.Select(l => new SaveItem(l.Reference is null ? Array.Empty<string>() : new[] { ImageReference.Parse(l.Reference).ToString() }, l.Manifest)).ToList();
                foreach (var unnamed in loaded.Where(l => l.Reference is null)) Run((_, ct) => staging.KeepUnnamedAsync(unnamed.Manifest, ct));
                var ids = new HashSet<string>(Run((_, ct) => staging.ListAsync(ct)).Select(i => i.Id));
                ProgressActivity = $"Loading {System.IO.Path.GetFileName(path)} into {engine.Kind}";
                Run((progress, ct) => engine.LoadFromAsync(staging, items, progress, ct));
                Invalidate();
                var names = new HashSet<string>(items.SelectMany(i => i.References));
                Report(path, Images.Where(i => i.Name != null ? names.Contains(i.Name) : ids.Contains(i.Id)));
            }
            finally
            {
                try { Directory.Delete(staging.Location, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }

        /// <param name="rootfsPlatform">The platform a filesystem tarball's image is made for (default: -Platform, DOCKER_DEFAULT_PLATFORM, linux on this machine's architecture).</param>
        private IReadOnlyList<LoadedImage> Load(string path, ITarget target, Oci.Platform? rootfsPlatform = null)
        {
            ProgressActivity = $"Importing {path}";
            var asked = PlatformParameter(Platform);
            var platform = rootfsPlatform ?? PlatformParameter(Platform, orEnvironment: true);
            var format = Directory.Exists(path)
                ? new ArchiveFormat(ArchiveKind.OciLayoutDirectory, ArchiveCompression.None)
                : Run((_, ct) => ArchiveFormat.DetectAsync(path, ct));
            if (format.Kind == ArchiveKind.RootfsTarball)
            {
                // The filesystem is spooled in the store's staging area (owned by this process), not the system temp folder.
                var options = new RootfsImportOptions { Name = Name, Changes = Change, Platform = platform, Message = Message, TempDirectory = OpenEmbeddedStore().StagingDirectory };
                return new[] { Run((progress, ct) => RootfsImporter.ImportAsync(path, target, options, progress, ct)) };
            }
            if (Change.Length > 0 || Message != null)
                WriteWarning($"-Change and -Message apply to filesystem tarballs; '{path}' is an image archive ({format.Kind}), so they were ignored.");
            return Run((progress, ct) => ArchiveLoader.LoadAsync(path, target, new LoadOptions { Name = Name, Platform = asked }, progress, ct));
        }

        private void Report(string path, IEnumerable<Image> images)
        {
            foreach (var image in images)
            {
                WriteVerbose($"Loaded {image.Name ?? image.ShortId} from {path}");
                WriteObject(image);
            }
        }
    }
}
