using System;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Registry;
using ImageModule.Store;

namespace ImageModule.Transfer
{
    /// <summary>What Copy-Image did: the named manifest (or index) at the destination.</summary>
    public sealed record CopiedImage(string Source, string Destination, string Digest, string MediaType, long Size);

    /// <summary>
    /// Copies one image between any two locations (skopeo copy): registry, store, OCI layout, archives. Registry →
    /// registry streams blob by blob through this process and never touches the store; layouts and registries get
    /// digests unchanged. One copy function underneath (<see cref="ImageCopier"/>, the archive reader and writer).
    /// </summary>
    public sealed class ImageTransfer
    {
        private readonly RegistryClients _sourceRegistries;
        private readonly RegistryClients _destinationRegistries;
        private readonly Func<OciStore> _store;
        private readonly Func<Engine.EngineStore> _engine;

        /// <param name="engine">The engine docker-daemon: means.</param>
        public ImageTransfer(RegistryClients sourceRegistries, RegistryClients destinationRegistries, Func<OciStore> store, Func<Engine.EngineStore> engine)
        {
            _sourceRegistries = sourceRegistries;
            _destinationRegistries = destinationRegistries;
            _store = store;
            _engine = engine;
        }

        public async Task<CopiedImage> CopyAsync(ImageLocation source, ImageLocation destination, Platform? platform, bool allPlatforms,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            if (source.IsArchive && destination.IsArchive)
                throw new ImageModuleException("CopyNotSupported", ErrorKind.InvalidArgument, "Copy between two archives is not supported; copy into the store or a layout first.", destination.Text);
            if (source.IsArchive) return await FromArchiveAsync(source, destination, progress, cancellationToken).ConfigureAwait(false);
            if (source.Kind == LocationKind.Engine) return await FromEngineAsync(source, destination, platform, progress, cancellationToken).ConfigureAwait(false);

            using var from = OpenSource(source, out var sourceReference);
            if (destination.IsArchive) return await ToArchiveAsync(from, source, sourceReference, destination, platform, progress, cancellationToken).ConfigureAwait(false);
            if (destination.Kind == LocationKind.Engine) return await ToEngineAsync(from, source, sourceReference, destination, platform, progress, cancellationToken).ConfigureAwait(false);
            using var to = OpenDestination(destination, DefaultName(source, sourceReference), out var destinationReference, out var ingest);
            using (ingest)
            {
                var copied = await ImageCopier.CopyAsync(from.Target, sourceReference, to.Target, destinationReference, platform, progress, cancellationToken, allPlatforms).ConfigureAwait(false);
                return new CopiedImage(source.Text, destination.Text, copied.Digest.ToString(), copied.MediaType, copied.Size);
            }
        }

        /// <summary>docker-daemon: → anywhere but an archive: docker save streamed into the destination, the ID kept.</summary>
        private async Task<CopiedImage> FromEngineAsync(ImageLocation source, ImageLocation destination, Platform? platform, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            if (destination.IsArchive || destination.Kind == LocationKind.Engine)
                throw new ImageModuleException("CopyNotSupported", ErrorKind.InvalidArgument, $"Copy from an engine to {destination.Text} is not supported; use Save-Image -Engine, or copy into the store first.", destination.Text);
            using var to = OpenDestination(destination, source.Reference, out var destinationReference, out var ingest);
            using (ingest)
            {
                var options = new LoadOptions { Name = destinationReference, TempDirectory = _store().StagingDirectory };
                var loaded = await _engine().SaveToAsync(new[] { source.Reference! }, to.Target, options, progress, cancellationToken, platform).ConfigureAwait(false);
                var first = loaded.FirstOrDefault() ?? throw new ImageNotFoundException(source.Text);
                return new CopiedImage(source.Text, destination.Text, first.Manifest.Digest.ToString(), first.Manifest.MediaType, first.Manifest.Size);
            }
        }

        /// <summary>anywhere → docker-daemon:: one docker-archive streamed into docker load, no temporary file.</summary>
        private async Task<CopiedImage> ToEngineAsync(Opened from, ImageLocation source, string sourceReference, ImageLocation destination, Platform? platform,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var root = await from.Target.ResolveAsync(sourceReference, cancellationToken).ConfigureAwait(false);
            var name = ImageReference.Parse(destination.Reference!).ToString();
            await _engine().LoadFromAsync(from.Target, new[] { new SaveItem(new[] { name }, root) }, progress, cancellationToken, platform).ConfigureAwait(false);
            return new CopiedImage(source.Text, destination.Text, root.Digest.ToString(), root.MediaType, root.Size);
        }

        private async Task<CopiedImage> FromArchiveAsync(ImageLocation source, ImageLocation destination, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            using var to = OpenDestination(destination, source.Reference, out var destinationReference, out var ingest);
            using (ingest)
            {
                var loaded = await ArchiveLoader.LoadAsync(source.Path!, to.Target, new LoadOptions { Name = destinationReference }, progress, cancellationToken).ConfigureAwait(false);
                var first = loaded.FirstOrDefault() ?? throw new ImageNotFoundException(source.Text, $"{source.Path} holds no image.");
                return new CopiedImage(source.Text, destination.Text, first.Manifest.Digest.ToString(), first.Manifest.MediaType, first.Manifest.Size);
            }
        }

        private static async Task<CopiedImage> ToArchiveAsync(Opened from, ImageLocation source, string sourceReference, ImageLocation destination, Platform? platform,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var root = await from.Target.ResolveAsync(sourceReference, cancellationToken).ConfigureAwait(false);
            var name = destination.Reference ?? DefaultName(source, sourceReference);
            var names = name != null && ImageReference.TryParse(name, out var parsed, out _) && parsed!.Tag != null ? new[] { parsed.ToString() } : Array.Empty<string>();
            var options = new SaveOptions { Format = destination.Kind == LocationKind.OciArchive ? SaveFormat.Oci : SaveFormat.DockerAndOci, Platform = platform };
            await ArchiveWriter.SaveAsync(from.Target, new[] { new SaveItem(names, root) }, destination.Path!, options, progress, cancellationToken).ConfigureAwait(false);
            return new CopiedImage(source.Text, destination.Text, root.Digest.ToString(), root.MediaType, root.Size);
        }

        /// <summary>The name a copy gets when the destination does not give one: the source's, if it has one.</summary>
        private static string? DefaultName(ImageLocation source, string sourceReference) =>
            source.Kind == LocationKind.Registry || source.Kind == LocationKind.Store ? source.Reference : null;

        private Opened OpenSource(ImageLocation location, out string reference)
        {
            switch (location.Kind)
            {
                case LocationKind.Registry:
                {
                    var parsed = ImageReference.Parse(location.Reference!);
                    reference = parsed.Digest?.ToString() ?? parsed.Tag!;
                    return new Opened(_sourceRegistries.OpenForPull(parsed));
                }
                case LocationKind.Store:
                    reference = location.Reference!;
                    return new Opened(_store());
                case LocationKind.OciLayout:
                {
                    var layout = new OciStore(location.Path!) { NamesVerbatim = true };
                    if (!layout.Layout.Exists) throw new ImageNotFoundException(location.Text, $"{location.Path} is not an OCI image layout (no oci-layout file).");
                    reference = location.Reference ?? OnlyEntry(layout, location);
                    return new Opened(layout);
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(location));
            }
        }

        private static string OnlyEntry(OciStore layout, ImageLocation location)
        {
            var entries = layout.Layout.ReadIndex().Manifests;
            if (entries.Count != 1)
                throw new ImageModuleException("AmbiguousLayoutImage", ErrorKind.InvalidArgument, $"{location.Path} holds {entries.Count} images; name one: oci:{location.Path}:<ref>.", location.Text);
            return entries[0].Digest.ToString();
        }

        private Opened OpenDestination(ImageLocation location, string? sourceName, out string reference, out IDisposable? ingest)
        {
            ingest = null;
            switch (location.Kind)
            {
                case LocationKind.Registry:
                {
                    var parsed = ImageReference.Parse(location.Reference!);
                    reference = parsed.ToString();
                    return new Opened(_destinationRegistries.Open(parsed));
                }
                case LocationKind.Store:
                {
                    var store = _store();
                    reference = ImageReference.Parse(location.Reference!).ToString();
                    ingest = store.BeginIngest();
                    return new Opened(store, ownsTarget: false);
                }
                case LocationKind.OciLayout:
                {
                    var tag = sourceName != null && ImageReference.TryParse(sourceName, out var parsed, out _) ? parsed!.Tag : null;
                    reference = location.Reference ?? tag ?? "latest";
                    var layout = new OciStore(location.Path!) { NamesVerbatim = true };
                    ingest = layout.BeginIngest();
                    return new Opened(layout);
                }
                default:
                    throw new ArgumentOutOfRangeException(nameof(location));
            }
        }

        /// <summary>An opened end of a copy, disposed after it when it was opened for it.</summary>
        private sealed class Opened : IDisposable
        {
            private readonly bool _owns;
            public Opened(ITarget target, bool ownsTarget = true) { Target = target; _owns = ownsTarget; }
            public ITarget Target { get; }
            public void Dispose() { if (_owns && Target is IDisposable d) d.Dispose(); }
        }
    }
}
