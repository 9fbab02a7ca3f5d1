using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Engine;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>Base of cmdlets that act on images named by -Name or piped in as Image objects.</summary>
    public abstract class ImageSelectionCmdlet : StoreCmdlet
    {
        protected const string ByName = "ByName";
        protected const string ByInputObject = "ByInputObject";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
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

        /// <summary>
        /// The selected images whose blobs can be read: a damaged one (Status Incomplete or Corrupt) is reported as
        /// ImageDamaged, saying what is wrong and how to repair it, and skipped; the rest of the pipeline goes on.
        /// </summary>
        protected IEnumerable<Image> UsableImages() => SelectedImages().Where(image =>
        {
            if (image.Status == ImageStatus.Ok) return true;
            WriteError(DamagedImage.Error(image.ToString(), image.Status, image.Problem), image);
            return false;
        });

        /// <summary>The manifest (or index) descriptor of an image, in the content <see cref="ContentOf"/> gives.</summary>
        protected Oci.Descriptor ManifestOf(Image image)
        {
            var content = ContentOf(image);
            // In an engine's copy the image is unnamed: it is found by its ID, then by its manifest digest there.
            var key = content is OciStore copy && StoreOf(image) is EngineStore
                ? Run((_, ct) => copy.ListAsync(ct)).First(i => i.Id == image.Id).Digest!
                : image.Name ?? image.Digest ?? image.Id;
            return Run((_, ct) => content.ResolveAsync(key, ct));
        }

        private readonly Dictionary<string, OciStore> _engineCopies = new();

        /// <summary>
        /// Blobs and manifests of an image, for commands that read layers (save, export, expand, list files). An
        /// engine hands out images only as a whole archive, so an engine image is first streamed (GET /images/get)
        /// into a temporary OCI layout beside the store — one per engine and command, deleted when the command ends.
        /// </summary>
        protected ITarget ContentOf(Image image)
        {
            var store = StoreOf(image);
            if (!(store is EngineStore engine)) return store.Content;
            if (!_engineCopies.TryGetValue(engine.Location, out var copy))
            {
                var temp = OpenEmbeddedStore().StagingDirectory;
                copy = new OciStore(Path.Combine(temp, "engine-" + Guid.NewGuid().ToString("N").Substring(0, 12)));
                _engineCopies[engine.Location] = copy;
            }
            if (!Run((_, ct) => copy.ListAsync(ct)).Any(i => i.Id == image.Id))
            {
                var options = new LoadOptions { TempDirectory = copy.StagingDirectory };
                // Saved by ID the archive names nothing, so the copy keeps the image unnamed and finds it by ID.
                var activity = ProgressActivity;
                ProgressActivity = $"Reading {image} from {engine.Kind}";
                Run(async (progress, ct) =>
                {
                    foreach (var loaded in await engine.SaveToAsync(new[] { image.Id }, copy, options, progress, ct).ConfigureAwait(false))
                        await copy.KeepUnnamedAsync(loaded.Manifest, ct).ConfigureAwait(false);
                });
                ProgressActivity = activity;
            }
            return copy;
        }

        protected override void DisposeResources()
        {
            foreach (var copy in _engineCopies.Values)
            {
                try { Directory.Delete(copy.Location, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            _engineCopies.Clear();
            base.DisposeResources();
        }
    }
}
