using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Archive;
using ImageModule.Engine;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// Moves images between a container engine (Docker, podman) and the embedded store, streamed as one archive
    /// (GET /images/get into the store; the store into POST /images/load), image IDs unchanged. Engine images piped
    /// in go to the store; store images piped in go to -Engine. By name: from -Engine to the store, or with
    /// -ToEngine from the store to -Engine.
    /// </summary>
    [Cmdlet(VerbsCommon.Copy, "EngineImage", SupportsShouldProcess = true, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(Image))]
    public sealed class CopyEngineImageCommand : ImageSelectionCmdlet
    {
        private readonly List<Image> _selected = new();

        /// <summary>With -Name: the names are in the store and go to -Engine (default: from -Engine to the store).</summary>
        [Parameter(ParameterSetName = ByName)]
        public SwitchParameter ToEngine { get; set; }

        /// <summary>The engine named when -Engine is not given (and no session default is set).</summary>
        private string EngineName => UsesEngine ? Engine! : EngineEndpoint.Docker;

        // -Name looks names up where they are: the engine, or with -ToEngine the store.
        protected override IImageStore OpenStore() => ToEngine ? OpenEmbeddedStore() : OpenEngine(EngineName);

        protected override void ProcessRecord() => _selected.AddRange(SelectedImages());

        protected override void EndProcessing()
        {
            // One archive per source store: layers shared by the images travel once.
            foreach (var group in _selected.GroupBy(i => (i.StoreKind, i.Location)).ToList())
            {
                var images = group.GroupBy(i => i.Name ?? i.Id).Select(g => g.First()).ToList();
                var source = StoreOf(images[0]);
                if (source is EngineStore engine) CopyToStore(engine, images);
                else CopyToEngine(source, images);
            }
        }

        private void CopyToStore(EngineStore engine, IReadOnlyList<Image> images)
        {
            var store = OpenEmbeddedStoreForCopy();
            var names = images.Select(i => i.Name ?? i.Id).ToList();
            var what = string.Join(", ", images.Select(i => i.Name ?? i.ShortId));
            if (!ShouldProcess(store.Location, $"Copy {what} from {engine.Kind} engine {engine.Location}")) return;
            ForEachItem(what, () =>
            {
                IReadOnlyList<LoadedImage> loaded;
                using (store.BeginIngest())
                {
                    var options = new LoadOptions { TempDirectory = store.StagingDirectory };
                    store.Layout.EnsureCreated();
                    ProgressActivity = $"Copying {what} from {engine.Kind} into the store";
                    loaded = Run((progress, ct) => engine.SaveToAsync(names, store.Content, options, progress, ct));
                    foreach (var unnamed in loaded.Where(l => l.Reference is null)) Run((_, ct) => store.KeepUnnamedAsync(unnamed.Manifest, ct));
                }
                var ids = new HashSet<string>(images.Select(i => i.Id));
                var listed = Run((_, ct) => store.ListAsync(ct));
                var wanted = new HashSet<string>(images.Where(i => i.Name != null).Select(i => i.Name!));
                foreach (var image in listed.Where(i => ids.Contains(i.Id) && (i.Name is null || wanted.Contains(i.Name) || wanted.Count == 0)))
                    WriteObject(image);
            });
        }

        private void CopyToEngine(IImageStore source, IReadOnlyList<Image> images)
        {
            var engine = OpenEngine(EngineName);
            var what = string.Join(", ", images.Select(i => i.Name ?? i.ShortId));
            if (!ShouldProcess($"{engine.Kind} engine {engine.Location}", $"Copy {what} from {source.Location}")) return;
            ForEachItem(what, () =>
            {
                var items = images.GroupBy(i => i.Digest ?? i.Id).Select(g =>
                    new SaveItem(g.Where(i => i.Name != null).Select(i => i.Name!).Distinct().ToList(), ManifestOf(g.First()))).ToList();
                ProgressActivity = $"Loading {what} into {engine.Kind}";
                Run((progress, ct) => engine.LoadFromAsync(source.Content, items, progress, ct));
                var ids = new HashSet<string>(images.Select(i => i.Id));
                var names = new HashSet<string>(images.Where(i => i.Name != null).Select(i => i.Name!));
                var listed = Run((_, ct) => engine.ListAsync(ct));
                foreach (var image in listed.Where(i => ids.Contains(i.Id) && (i.Name is null || names.Contains(i.Name))))
                    WriteObject(image);
            });
        }

        /// <summary>The destination store of an engine → store copy: -StorePath, else the default store.</summary>
        private OciStore OpenEmbeddedStoreForCopy() => Store as OciStore ?? OpenEmbeddedStore();
    }
}
