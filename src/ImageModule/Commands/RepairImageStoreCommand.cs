using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// Repairs what Test-ImageStore finds, each step after ShouldProcess: rebuilds a damaged index.json from the recorded
    /// names, sets corrupt blobs aside and fetches missing ones again (from -SourcePath archives or layouts, or the
    /// registry repository a blob was pulled from), rebuilds the cache, deletes staging leftovers, and removes the names
    /// of images that still cannot be read. Writes the problems found, each with what was done about it.
    /// </summary>
    [Cmdlet(VerbsDiagnostic.Repair, "ImageStore", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
    [OutputType(typeof(StoreProblem))]
    public sealed class RepairImageStoreCommand : RegistryCmdlet
    {
        private readonly List<(string Name, IContentStore Source)> _archives = new();
        private readonly List<IDisposable> _opened = new();
        private readonly List<string> _temporary = new();

        /// <summary>Archives (docker-archive, oci-archive) or OCI layout directories that hold the missing or corrupt blobs.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [Alias("FullName")]
        [ValidateNotNullOrEmpty]
        public string[] SourcePath { get; set; } = new string[0];

        /// <summary>Do not ask registries for lost blobs, even those a blob was pulled from.</summary>
        [Parameter]
        public SwitchParameter Offline { get; set; }

        private readonly List<string> _sources = new();

        protected override void ProcessRecord()
        {
            foreach (var p in SourcePath) _sources.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
        }

        protected override void EndProcessing()
        {
            var store = EmbeddedStoreOnly();
            var problems = Run((progress, ct) => StoreChecker.CheckAsync(store, progress, ct)).ToList();

            // 1. A damaged index.json first: every other check depends on the names.
            foreach (var p in problems.Where(p => p.Kind == StoreProblemKind.IndexUnreadable))
            {
                if (!ShouldProcess(p.Target, "Rebuild index.json from the recorded names")) continue;
                var count = Run((_, ct) => StoreRepair.RebuildIndexAsync(store, ct));
                Resolve(p, $"index.json rebuilt with {count} entr{(count == 1 ? "y" : "ies")}");
                var again = Run((progress, ct) => StoreChecker.CheckAsync(store, progress, ct));
                problems.AddRange(again.Where(a => a.Kind != StoreProblemKind.IndexUnreadable));
            }

            // 2. Corrupt blobs aside, lost blobs fetched again.
            var kept = new HashSet<string>();
            foreach (var p in problems.Where(p => p.Kind == StoreProblemKind.BlobCorrupt || p.Kind == StoreProblemKind.BlobMissing))
            {
                var digest = Digest.Parse(p.Target);
                if (p.Kind == StoreProblemKind.BlobCorrupt)
                {
                    if (!ShouldProcess(p.Target, "Move the corrupt blob to .imagemodule/quarantine")) continue;
                    if (StoreRepair.Quarantine(store, digest)) WriteVerbose($"{p.Target} moved to {store.Layout.QuarantineDirectory}");
                    if (p.Images.Count == 0) { Resolve(p, "corrupt blob no image uses, moved to quarantine"); continue; }
                }
                if (p.Blob is null || p.Blob.Size < 0) continue;
                if (!ShouldProcess(p.Target, $"Fetch the blob again for {string.Join(", ", p.Images)}")) continue;
                var sources = SourcesFor(store, p.Blob).ToList(); // opened here, on the pipeline thread
                var fetched = Run((_, ct) => StoreRepair.FetchAgainAsync(store, p.Blob, sources, WriteVerboseLater, ct));
                FlushVerbose();
                if (fetched.From != null) Resolve(p, $"fetched again from {fetched.From}");
                else if (fetched.Failure is { } failure)
                {
                    // The source may still have it (a registry down for now): removing the names would lose the image
                    // for good, so they stay, Incomplete, until a later repair fetches the blob or -Offline gives up on it.
                    foreach (var image in p.Images) kept.Add(image);
                    p.Resolution = $"not fetched ({failure.ErrorId}); names kept";
                    WriteError(new ImageModuleException(failure.ErrorId, failure.Kind,
                        $"{failure.Message}. The images that need it keep their names ({string.Join(", ", p.Images)}): run Repair-ImageStore again when the source is back, or with -Offline to remove them.",
                        p.Target, failure), p.Target);
                }
            }

            // 3. The cache and staging.
            foreach (var p in problems.Where(p => p.Kind == StoreProblemKind.CacheInvalid))
            {
                if (!ShouldProcess(p.Target, "Delete the cache (rebuilt from the blobs by the next listing)")) continue;
                StoreRepair.RebuildCache(store);
                Resolve(p, "cache deleted; rebuilt from the blobs");
            }
            foreach (var p in problems.Where(p => p.Kind == StoreProblemKind.StagingLeftover))
            {
                if (!ShouldProcess(p.Target, "Delete the staging leftover")) continue;
                ForEachItem(p.Target, () =>
                {
                    StoreRepair.DeleteStaging(p.Target);
                    Resolve(p, "deleted");
                });
            }

            // 4. Names whose image still cannot be read are removed (their blobs are collected with the last name).
            var removed = new List<string>();
            foreach (var image in Run((_, ct) => store.ListAsync(ct)).Where(i => i.Status != ImageStatus.Ok && !kept.Contains(i.ToString()) && !(i.Digest != null && kept.Contains(i.Digest))))
            {
                if (!ShouldProcess(image.ToString(), $"Remove the image name ({image.Status}: {image.Problem})")) continue;
                ForEachItem(image, () =>
                {
                    Run((_, ct) => store.RemoveAsync(image, true, ct));
                    removed.Add(image.ToString());
                });
            }
            foreach (var p in problems.Where(p => !p.Repaired && p.Images.Count > 0 && p.Images.All(removed.Contains)))
                Resolve(p, $"could not be recovered; removed {string.Join(", ", p.Images)}");

            CleanUp();
            WriteObject(problems, enumerateCollection: true);
        }

        private void Resolve(StoreProblem problem, string what)
        {
            problem.Resolution = what;
            problem.Repaired = true;
            WriteVerbose($"{problem.Kind} {problem.Target}: {what}");
        }

        /// <summary>-SourcePath archives (each loaded once into a staging store), then the registries the blob was pulled from.</summary>
        private IEnumerable<(string Name, IContentStore Source)> SourcesFor(OciStore store, Descriptor blob)
        {
            if (_archives.Count == 0 && _sources.Count > 0)
            {
                foreach (var path in _sources)
                {
                    var staging = new OciStore(Path.Combine(store.Layout.TempDirectory, "repair-" + Guid.NewGuid().ToString("N").Substring(0, 12)));
                    _temporary.Add(staging.Location);
                    try
                    {
                        ArchiveLoader.LoadAsync(path, staging, new LoadOptions { TempDirectory = staging.Layout.TempDirectory }, null, CancellationToken).GetAwaiter().GetResult();
                        _archives.Add((path, staging));
                    }
                    catch (Exception e) when (e is ImageModuleException || e is IOException || e is UnauthorizedAccessException)
                    {
                        WriteVerboseLater($"{path} cannot be read as a source: {e.Message}");
                    }
                }
            }
            foreach (var archive in _archives) yield return archive;
            if (Offline) yield break;
            foreach (var origin in store.BlobOrigins.RepositoriesOf(blob.Digest).Reverse())
            {
                if (!ImageReference.TryParse(origin, out var reference, out _)) continue;
                var repository = Clients.OpenForPull(reference!);
                _opened.Add(repository);
                yield return (origin, repository);
            }
        }

        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _verbose = new();
        private void WriteVerboseLater(string message) => _verbose.Enqueue(message);

        private void FlushVerbose()
        {
            while (_verbose.TryDequeue(out var message)) WriteVerbose(message);
        }

        private void CleanUp()
        {
            FlushVerbose();
            foreach (var d in _opened) d.Dispose();
            _opened.Clear();
            foreach (var dir in _temporary)
            {
                try { Directory.Delete(dir, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            _temporary.Clear();
        }

        protected override void DisposeResources()
        {
            CleanUp();
            base.DisposeResources();
        }
    }
}
