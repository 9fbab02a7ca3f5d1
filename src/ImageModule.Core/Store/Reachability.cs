using System.Collections.Generic;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Walks what a root (an index.json entry) reaches by reading the blobs themselves: a document's type comes from its
    /// own bytes (its mediaType, else its shape), never from the descriptor that points at it, so an entry recorded
    /// with an empty or wrong mediaType is walked all the same. Used by naming (everything must be there) and by the
    /// collector (nothing may be guessed).
    /// </summary>
    internal static class Reachability
    {
        /// <summary>
        /// Adds every digest <paramref name="root"/> reaches to <paramref name="reached"/>. Throws
        /// <see cref="ImageModuleException"/> (<c>RootUnreadable</c>) when the root, or a child manifest that is present,
        /// cannot be read, does not match its digest or is not a manifest or index. With <paramref name="requireComplete"/>
        /// (naming) a missing or short manifest, config or layer is an error too (<c>ImageIncomplete</c>); an index needs
        /// at least one complete child.
        /// </summary>
        public static void Walk(OciLayout layout, Descriptor root, ISet<Digest> reached, bool requireComplete)
        {
            WalkDocument(layout, root, reached, requireComplete, depth: 0, isRoot: true);
        }

        /// <returns>Whether the document was present and walked.</returns>
        private static bool WalkDocument(OciLayout layout, Descriptor d, ISet<Digest> reached, bool requireComplete, int depth, bool isRoot)
        {
            reached.Add(d.Digest);
            if (!layout.HasBlob(d))
            {
                // A child of an index may be absent by design (one platform of a multi-platform image was pulled).
                if (isRoot) throw Unreadable(d, requireComplete ? "its manifest is missing or incomplete" : "its manifest blob is missing");
                return false;
            }
            if (depth > 4) throw Unreadable(d, "indexes are nested too deeply");
            byte[] bytes;
            try { bytes = layout.ReadBlob(d); }
            catch (ImageModuleException e) { throw Unreadable(d, e.Message); }
            var kind = OciJson.PeekMediaType(bytes);
            try
            {
                if (MediaTypes.IsIndex(kind))
                {
                    var index = OciJson.Deserialize<ImageIndex>(bytes, $"index {d.Digest}");
                    var complete = 0;
                    foreach (var child in index.Manifests ?? new List<Descriptor>())
                    {
                        if (WalkDocument(layout, child, reached, requireComplete, depth + 1, isRoot: false)) complete++;
                    }
                    if (requireComplete && complete == 0) throw Incomplete(d, "none of the index's manifests is in the store");
                    return true;
                }
                if (MediaTypes.IsManifest(kind))
                {
                    var manifest = OciJson.Deserialize<Manifest>(bytes, $"manifest {d.Digest}");
                    Blob(layout, manifest.Config, "config", reached, requireComplete);
                    foreach (var layer in manifest.Layers ?? new List<Descriptor>()) Blob(layout, layer, "layer", reached, requireComplete);
                    if (manifest.Subject != null) reached.Add(manifest.Subject.Digest);
                    return true;
                }
            }
            catch (ImageModuleException e) when (e.ErrorId != IncompleteId && e.ErrorId != UnreadableId)
            {
                throw Unreadable(d, e.Message);
            }
            throw Unreadable(d, kind is null ? "it is not a manifest or index" : $"its media type '{kind}' is not a manifest or index");
        }

        private static void Blob(OciLayout layout, Descriptor blob, string role, ISet<Digest> reached, bool requireComplete)
        {
            reached.Add(blob.Digest);
            if (!requireComplete || IsForeign(blob)) return;
            if (!layout.HasBlob(blob)) throw Incomplete(blob, $"its {role} {blob.Digest} is missing or incomplete");
            if (role == "config")
            {
                try { layout.ReadBlob(blob); }
                catch (ImageModuleException e) { throw Incomplete(blob, $"its config {blob.Digest} cannot be read: {e.Message}"); }
            }
        }

        /// <summary>Layers that registries may refuse to serve (Windows base layers): not required to be present.</summary>
        private static bool IsForeign(Descriptor blob) =>
            blob.MediaType != null && (blob.MediaType.Contains("foreign") || blob.MediaType.Contains("nondistributable"));

        public const string UnreadableId = "RootUnreadable";
        public const string IncompleteId = "ImageIncomplete";

        private static ImageModuleException Unreadable(Descriptor d, string why) =>
            new(UnreadableId, ErrorKind.InvalidData, $"{d.Digest}: {why}", d.Digest.ToString());

        private static ImageModuleException Incomplete(Descriptor d, string why) =>
            new(IncompleteId, ErrorKind.ObjectNotFound, why, d.Digest.ToString());
    }
}
