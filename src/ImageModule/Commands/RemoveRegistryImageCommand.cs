using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>
    /// Deletes an image from a registry (crane delete, regctl manifest delete). A tag is deleted alone where the
    /// registry supports it (OCI distribution 1.1); otherwise — CNCF distribution among them — the manifest goes, and
    /// with it every other tag on it, which the confirmation names. The registry must allow deletion.
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "RegistryImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
    public sealed class RemoveRegistryImageCommand : RemoteRegistryCmdlet
    {
        /// <summary>How many tags are asked for their digest to find the other tags on a manifest.</summary>
        private const int MaxTagsChecked = 200;

        /// <summary>host/repository:tag or host/repository@digest.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        protected override void ProcessRecord()
        {
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    var reference = ImageReference.Parse(name);
                    using var repository = OpenRepository(reference);
                    var manifest = Run((_, ct) => repository.ResolveAsync(reference.Digest?.ToString() ?? reference.Tag!, ct));
                    var others = Run((_, ct) => OtherTagsAsync(repository, manifest.Digest, reference.Digest is null ? reference.Tag : null, ct));
                    var target = reference.Digest is null ? reference.ToString() : reference.WithoutTagOrDigest().WithDigest(manifest.Digest).ToString();
                    if (!ShouldProcess(target, Action(reference, manifest.Digest, others))) return;
                    if (reference.Digest is null && Run((_, ct) => repository.TryDeleteTagAsync(reference.Tag!, ct)))
                    {
                        WriteVerbose($"Deleted the tag {reference}; {manifest.Digest.Short} stays with its other tags.");
                        return;
                    }
                    if (reference.Digest is null)
                        WriteVerbose($"{reference.Registry} cannot delete a tag alone; deleting the manifest {manifest.Digest.Short}.");
                    Run((_, ct) => repository.DeleteAsync(manifest.Digest, ct));
                });
            }
        }

        /// <summary>The confirmation text: what goes, including the tags that share the manifest.</summary>
        private static string Action(ImageReference reference, Digest digest, OtherTags others)
        {
            var list = others.Tags.Count == 0 ? "" : string.Join(", ", others.Tags.Take(10)) + (others.Tags.Count > 10 ? $" and {others.Tags.Count - 10} more" : "");
            var unchecked_ = others.Complete ? "" : $" (only the first {MaxTagsChecked} tags were checked)";
            if (reference.Digest != null)
                return others.Tags.Count == 0
                    ? $"Delete the manifest {digest.Short}{unchecked_}"
                    : $"Delete the manifest {digest.Short} and its tags {list}{unchecked_}";
            return others.Tags.Count == 0
                ? $"Delete {reference.Tag} (manifest {digest.Short}){unchecked_}"
                : $"Delete {reference.Tag}; a registry that cannot delete a tag alone (CNCF distribution cannot) deletes the manifest {digest.Short}, and with it the tags {list}{unchecked_}";
        }

        private sealed record OtherTags(IReadOnlyList<string> Tags, bool Complete);

        /// <summary>Tags of the repository (but <paramref name="except"/>) that resolve to the same manifest.</summary>
        private static async Task<OtherTags> OtherTagsAsync(RegistryRepository repository, Digest digest, string? except, CancellationToken ct)
        {
            var tags = await repository.ListTagsAsync(1000, ct).ConfigureAwait(false);
            var checkedTags = tags.Where(t => t != except).Take(MaxTagsChecked).ToList();
            var same = new List<string>();
            foreach (var tag in checkedTags)
            {
                try
                {
                    if ((await repository.ResolveAsync(tag, ct).ConfigureAwait(false)).Digest == digest) same.Add(tag);
                }
                catch (ImageNotFoundException) { } // deleted since the listing
            }
            return new OtherTags(same, tags.Count(t => t != except) <= MaxTagsChecked);
        }
    }
}
