using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.References;

namespace ImageModule.Store
{
    /// <summary>
    /// A place images live: the embedded OCI-layout store or an engine (Docker, podman). Cmdlets talk only to this,
    /// so every local-image cmdlet works on either.
    /// </summary>
    public interface IImageStore
    {
        /// <summary>Directory of the store or URI of the engine.</summary>
        string Location { get; }

        /// <summary>Every image, one row per name (dangling images once, with Name null).</summary>
        Task<IReadOnlyList<Image>> ListAsync(CancellationToken cancellationToken);

        /// <summary>Gives an existing image another name; moves the name if it pointed elsewhere (the old image may become dangling).</summary>
        Task<Image> TagAsync(Image source, ImageReference name, CancellationToken cancellationToken);

        /// <summary>
        /// Removes one row: the name (if any) and, when no name points at the image any more, the image itself and its
        /// unreferenced blobs. With <paramref name="force"/> an Id with several names is removed with all of them.
        /// </summary>
        Task RemoveAsync(Image image, bool force, CancellationToken cancellationToken);

        Task<IReadOnlyList<ImageLayer>> GetLayersAsync(Image image, CancellationToken cancellationToken);

        /// <summary>Content access for copying images in and out (pull, push, save, load).</summary>
        ITarget Content { get; }
    }
}
