using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;

namespace ImageModule.Commands
{
    /// <summary>Removes images by name, ID or from the pipeline (docker rmi), or every dangling image (docker image prune).</summary>
    [Cmdlet(VerbsCommon.Remove, "Image", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByInputObject)]
    [OutputType(typeof(Image))]
    public sealed class RemoveImageCommand : StoreCmdlet
    {
        private const string ByName = "ByName";
        private const string ById = "ById";
        private const string ByInputObject = "ByInputObject";
        private const string DanglingSet = "Dangling";

        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ByName, ValueFromPipeline = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[] Name { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageIdCompleter))]
        public string[] Id { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ByInputObject, ValueFromPipeline = true)]
        public Image[] InputObject { get; set; } = new Image[0];

        /// <summary>Removes every untagged image (docker image prune).</summary>
        [Parameter(Mandatory = true, ParameterSetName = DanglingSet)]
        public SwitchParameter Dangling { get; set; }

        /// <summary>Removes an ID that several names point at, with all its names (docker rmi -f).</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Writes each removed image to the pipeline.</summary>
        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case ByName:
                    foreach (var name in Name) RemoveByName(name);
                    break;
                case ById:
                    foreach (var id in Id) RemoveById(id);
                    break;
                case DanglingSet:
                    foreach (var image in Images.Where(i => i.Dangling).ToList()) RemoveRow(image);
                    break;
                default:
                    foreach (var image in InputObject) RemoveRow(image);
                    break;
            }
        }

        /// <summary>
        /// A positional value is a name first, then an ID prefix (docker rmi's order); taken as an ID it gets the same
        /// guard as -Id, so a short hex value never removes several names without -Force.
        /// </summary>
        private void RemoveByName(string name)
        {
            IReadOnlyList<Image> rows;
            bool byId;
            try
            {
                rows = Match(name, out byId);
            }
            catch (InvalidReferenceException e)
            {
                WriteError(e, name);
                return;
            }
            if (rows.Count == 0)
            {
                if (!WildcardPattern.ContainsWildcardCharacters(name)) WriteError(new ImageNotFoundException(name), name);
                return;
            }
            if (byId)
            {
                RemoveIdRows(name, rows);
                return;
            }
            foreach (var image in rows) RemoveRow(image);
        }

        private void RemoveById(string id)
        {
            var rows = MatchId(id);
            if (rows.Count == 0)
            {
                WriteError(new ImageNotFoundException(id), id);
                return;
            }
            RemoveIdRows(id, rows);
        }

        private void RemoveIdRows(string id, IReadOnlyList<Image> rows)
        {
            var ids = rows.Select(r => r.Id).Distinct().ToList();
            if (ids.Count > 1)
            {
                WriteError(new ImageModuleException("AmbiguousImageId", ErrorKind.InvalidArgument, $"'{id}' matches {ids.Count} images; give more of the ID.", id), id);
                return;
            }
            if (rows.Count(r => !r.Dangling) > 1 && !Force)
            {
                WriteError(new ImageModuleException("ImageHasMultipleNames", ErrorKind.InvalidOperation,
                    $"Image {rows[0].ShortId} is referenced by {rows.Count} names ({string.Join(", ", rows.Select(r => r.Name))}); remove them by name or use -Force.", id), id);
                return;
            }
            foreach (var row in rows) RemoveRow(row);
        }

        private void RemoveRow(Image image)
        {
            var what = image.Name ?? $"{image.ShortId} (untagged)";
            if (!ShouldProcess($"{what} in {image.Location}", "Remove image")) return;
            ForEachItem(image, () =>
            {
                var store = StoreOf(image);
                Run((_, ct) => store.RemoveAsync(image, Force, ct));
                WriteVerbose($"Removed {what}");
                if (store is Store.OciStore oci && oci.LastCollection is { } collected)
                {
                    if (collected.SkippedBecause != null) WriteWarning($"Removed {what}, but {collected.SkippedBecause}. Repair or remove the unreadable image.");
                    else WriteVerbose($"Deleted {collected.Blobs} unused blob(s), {collected.Bytes} bytes");
                }
                if (PassThru) WriteObject(image);
            });
            Invalidate();
        }
    }
}
