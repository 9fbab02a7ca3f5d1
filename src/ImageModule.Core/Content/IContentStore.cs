using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// Content-addressed blobs and manifests. The local store, a registry repository, an archive and an engine
    /// all look like this, so copying an image is one function (<see cref="ImageCopier"/>) over two of them.
    /// </summary>
    public interface IContentStore
    {
        Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken);

        /// <summary>Opens the content. The stream verifies size and digest as it is read and throws at the end if they differ.</summary>
        Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken);

        /// <summary>Stores content; it becomes visible only after its size and digest were verified.</summary>
        Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken);
    }

    /// <summary>A content store whose manifests can be found by name (a tag or a full reference).</summary>
    public interface ITarget : IContentStore
    {
        /// <summary>Finds the manifest or index a reference names; throws <see cref="ImageNotFoundException"/> if none.</summary>
        Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken);

        /// <summary>Points a reference at a manifest or index already present in this store.</summary>
        Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken);
    }

    /// <summary>
    /// A destination that checks every blob's size and digest itself before keeping it (a registry does, by the
    /// distribution spec: a PUT whose body does not match its digest= is refused), so a copy into it need not hash the
    /// source as well.
    /// </summary>
    public interface IChecksPushedContent
    {
    }

    /// <summary>A source that can open a blob without checking it as it is read, for a destination that checks it.</summary>
    public interface IUncheckedFetch
    {
        Task<Stream> FetchUncheckedAsync(Descriptor target, CancellationToken cancellationToken);
    }

    /// <summary>
    /// A store that can take a file already written and hashed by the caller (in <see cref="StagingDirectory"/>, on the
    /// store's own file system) by renaming it into place, instead of copying and hashing it again.
    /// </summary>
    public interface IAdoptsBlobFiles
    {
        /// <summary>Where to write files meant for <see cref="AdoptAsync"/>; the caller deletes what it does not hand over.</summary>
        string StagingDirectory { get; }

        /// <summary>
        /// Makes <paramref name="path"/> the blob <paramref name="descriptor"/>: the caller vouches that its content has that
        /// digest and size (it hashed it while writing it). The file is fsynced and moved; afterwards it is gone.
        /// </summary>
        Task AdoptAsync(Descriptor descriptor, string path, CancellationToken cancellationToken);
    }

    /// <summary>A source that serves a blob from a byte offset (HTTP Range), for resuming a download.</summary>
    public interface IRangeFetch
    {
        /// <summary>The bytes of <paramref name="blob"/> from <paramref name="offset"/> on, unverified (the caller hashes the whole).</summary>
        Task<Stream> FetchFromAsync(Descriptor blob, long offset, CancellationToken cancellationToken);
    }

    /// <summary>A destination that may hold the first bytes of a blob a killed process was downloading.</summary>
    public interface IResumesBlobs
    {
        /// <summary>Takes what a dead process left of <paramref name="blob"/>, or null. Ask after ExistsAsync said it is absent.</summary>
        ResumableBlob? TakeResumable(Descriptor blob);

        /// <summary>Writes a download (a pull) so that, should this process die, the next pull of the blob can resume it.</summary>
        Task PushResumableAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken);

        /// <summary>Writes the blob from <paramref name="head"/> and the rest, verified over the whole; deletes the head.</summary>
        Task PushResumingAsync(Descriptor expected, ResumableBlob head, Stream rest, IProgress<long>? bytesWritten, CancellationToken cancellationToken);
    }

    /// <summary>A file holding the first <see cref="Length"/> bytes of a blob.</summary>
    public sealed record ResumableBlob(string Path, long Length);
}
