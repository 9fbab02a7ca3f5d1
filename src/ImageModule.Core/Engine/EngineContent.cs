using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Engine
{
    /// <summary>
    /// The engine seen as an <see cref="ITarget"/>. The Docker engine API (and podman's compatible one) has no call
    /// for one blob or one manifest: images only leave as a whole archive (GET /images/get) and arrive as one
    /// (POST /images/load). So content moves with <see cref="EngineStore.SaveToAsync"/> and
    /// <see cref="EngineStore.LoadFromAsync"/>, streamed; the blob-level calls here say so with a stable error.
    /// </summary>
    internal sealed class EngineContent : ITarget
    {
        private readonly EngineStore _engine;

        public EngineContent(EngineStore engine) => _engine = engine;

        public Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken) => throw Unsupported("read a blob");
        public Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken) => throw Unsupported("read a blob");
        public Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken) => throw Unsupported("write a blob");
        public Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken) => throw Unsupported("read a manifest");
        public Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken) => throw Unsupported("name a manifest");

        private ImageModuleException Unsupported(string what) =>
            new(EngineErrors.EngineBlobAccessUnsupported, ErrorKind.InvalidOperation,
                $"The {_engine.Kind} engine at {_engine.Location} cannot {what} on its own; it moves whole images. Copy the image into the store first (Copy-EngineImage), then work on the copy.",
                _engine.Location);
    }
}
