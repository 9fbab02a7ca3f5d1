using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Store
{
    /// <summary>
    /// The names: index.json, one entry per name (ref.name = the full normalised reference, or the reference as
    /// given when <see cref="NamesVerbatim"/>) plus unnamed entries for dangling images. Every change is a
    /// read-modify-write under the store lock, written to a temp file and renamed.
    /// </summary>
    internal sealed class NameIndex
    {
        private readonly OciLayout _layout;

        public NameIndex(OciLayout layout, bool namesVerbatim)
        {
            _layout = layout;
            NamesVerbatim = namesVerbatim;
        }

        public bool NamesVerbatim { get; }

        public IReadOnlyList<Descriptor> Entries => _layout.ReadIndex().Manifests;

        /// <summary>The exclusive store lock: every change of index.json and the collector hold it.</summary>
        public Task<StoreLock> LockAsync(CancellationToken cancellationToken) => StoreLock.AcquireAsync(_layout, StoreLockMode.Exclusive, cancellationToken);

        /// <summary>Refuses to name a manifest unless every blob it reaches is present and complete. Caller holds the lock.</summary>
        private void CheckComplete(Descriptor manifest, string what)
        {
            try
            {
                Reachability.Walk(_layout, manifest, new HashSet<Digest>(), requireComplete: true);
            }
            catch (ImageModuleException e) when (e.ErrorId == Reachability.IncompleteId || e.ErrorId == Reachability.UnreadableId)
            {
                throw new ImageModuleException(Reachability.IncompleteId, ErrorKind.ObjectNotFound,
                    $"Cannot name {what} ({manifest.Digest}) in {_layout.Root}: {e.Message}. It was removed or never completely written; pull or import it again.", what, e);
            }
        }

        internal static ImageReference? NameOf(Descriptor entry)
        {
            var refName = entry.Annotation(AnnotationKeys.RefName);
            if (string.IsNullOrEmpty(refName)) return null;
            return ImageReference.TryParse(refName!, out var reference, out _, defaultTag: false) ? reference : null;
        }

        /// <summary>The entry an image row came from: by its name, else (an unnamed row) by its manifest digest.</summary>
        public Descriptor? Find(Image image)
        {
            var index = _layout.ReadIndex();
            if (image.Name != null)
            {
                var byName = index.Manifests.FirstOrDefault(e => NameOf(e)?.ToString() == image.Name);
                if (byName != null) return byName;
            }
            return index.Manifests.FirstOrDefault(e => e.Digest.ToString() == image.Digest);
        }

        /// <summary>
        /// Resolves a full reference, a bare ref.name annotation as other tools write it, a manifest digest, or a
        /// pinned reference's digest.
        /// </summary>
        public Descriptor Resolve(string reference)
        {
            var index = _layout.ReadIndex();
            var exact = index.Manifests.FirstOrDefault(e => e.Annotation(AnnotationKeys.RefName) == reference);
            if (exact != null) return exact;
            if (ImageReference.TryParse(reference, out var parsed, out _))
            {
                var full = parsed!.ToString();
                var byName = index.Manifests.FirstOrDefault(e => NameOf(e)?.ToString() == full);
                if (byName != null) return byName;
                if (parsed.Digest is { } pinned)
                {
                    var byDigest = index.Manifests.FirstOrDefault(e => e.Digest == pinned);
                    if (byDigest != null) return byDigest;
                }
            }
            if (Digest.TryParse(reference, out var digest))
            {
                var byDigest = index.Manifests.FirstOrDefault(e => e.Digest == digest);
                if (byDigest != null) return byDigest;
            }
            throw new ImageNotFoundException(reference);
        }

        /// <summary>Adds an unnamed entry for a manifest unless one names it already. Caller holds the lock.</summary>
        public void KeepUnnamedLocked(Descriptor manifest)
        {
            var index = _layout.ReadIndex();
            if (index.Manifests.Any(e => e.Digest == manifest.Digest)) return;
            CheckComplete(manifest, "an unnamed image");
            var entries = index.Manifests.ToList();
            entries.Add(new Descriptor(manifest.MediaType, manifest.Digest, manifest.Size) { Platform = manifest.Platform });
            _layout.WriteIndex(index with { Manifests = entries, MediaType = index.MediaType ?? MediaTypes.OciIndex });
        }

        /// <summary>The name as it is written into ref.name.</summary>
        public string FullName(string reference) => NamesVerbatim ? reference : ImageReference.Parse(reference).ToString();

        /// <summary>
        /// Points a name at a manifest. A name that pointed elsewhere moves; the old image stays, unnamed, if nothing
        /// else names it. Caller holds the lock.
        /// </summary>
        public void TagLocked(Descriptor manifest, string full)
        {
            CheckComplete(manifest, full);
            var index = _layout.ReadIndex();
            var entries = index.Manifests.ToList();
            var previous = NamesVerbatim
                ? entries.FindIndex(e => e.Annotation(AnnotationKeys.RefName) == full)
                : entries.FindIndex(e => NameOf(e)?.ToString() == full);
            var annotations = new Dictionary<string, string> { [AnnotationKeys.RefName] = full };
            if (!NamesVerbatim) annotations[AnnotationKeys.ContainerdImageName] = full;
            var named = new Descriptor(manifest.MediaType, manifest.Digest, manifest.Size) { Annotations = annotations, Platform = manifest.Platform };
            if (previous >= 0)
            {
                var old = entries[previous];
                entries[previous] = named;
                // docker leaves the image a moved tag used to name as <none>:<none>; so do we.
                if (old.Digest != manifest.Digest && !entries.Any(e => e.Digest == old.Digest))
                    entries.Add(new Descriptor(old.MediaType, old.Digest, old.Size) { Platform = old.Platform });
            }
            else
            {
                entries.Add(named);
            }
            // Once named, an unnamed entry for the same manifest is redundant.
            entries.RemoveAll(e => e.Digest == manifest.Digest && NameOf(e) is null && e.Annotation(AnnotationKeys.RefName) is null);
            _layout.WriteIndex(index with { Manifests = entries, MediaType = index.MediaType ?? MediaTypes.OciIndex });
        }

        /// <summary>Removes an image row's entries (by name, or unnamed by digest); returns the entries left. Caller holds the lock.</summary>
        public IReadOnlyList<Descriptor> RemoveLocked(Image image)
        {
            var index = _layout.ReadIndex();
            var kept = new List<Descriptor>(index.Manifests.Count);
            var removed = false;
            foreach (var entry in index.Manifests)
            {
                var matches = image.Name != null
                    ? NameOf(entry)?.ToString() == image.Name
                    : entry.Digest.ToString() == image.Digest;
                if (matches) removed = true;
                else kept.Add(entry);
            }
            if (!removed) throw new ImageNotFoundException(image.ToString());
            _layout.WriteIndex(index with { Manifests = kept });
            return kept;
        }
    }
}
