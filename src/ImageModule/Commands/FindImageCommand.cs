using System.Linq;
using System.Management.Automation;
using ImageModule.References;

namespace ImageModule.Commands
{
    /// <summary>
    /// Lists what a registry holds: the tags of a repository (-Name … -ListTags) or the registry's catalog of
    /// repositories (-Registry), following pagination. Wildcards filter the results.
    /// </summary>
    [Cmdlet(VerbsCommon.Find, "Image", DefaultParameterSetName = TagsSet)]
    [OutputType(typeof(string))]
    public sealed class FindImageCommand : RegistryCmdlet
    {
        private const string TagsSet = "Tags";
        private const string CatalogSet = "Catalog";

        /// <summary>A repository, e.g. localhost:5000/team/app (a tag, if given, is ignored).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TagsSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        /// <summary>List the repository's tags (docker has no equivalent; skopeo list-tags, crane ls).</summary>
        [Parameter(Mandatory = true, ParameterSetName = TagsSet)]
        public SwitchParameter ListTags { get; set; }

        /// <summary>A registry host[:port] whose catalog to list (crane catalog).</summary>
        [Parameter(Mandatory = true, ParameterSetName = CatalogSet)]
        [ValidateNotNullOrEmpty]
        public string Registry { get; set; } = "";

        /// <summary>Only results matching this wildcard.</summary>
        [Parameter]
        [SupportsWildcards]
        public string? Filter { get; set; }

        /// <summary>Page size asked of the registry (results are complete either way).</summary>
        [Parameter]
        [ValidateRange(1, 10000)]
        public int PageSize { get; set; } = 1000;

        protected override void ProcessRecord()
        {
            var filter = Filter is null ? null : new WildcardPattern(Filter, WildcardOptions.IgnoreCase);
            if (ParameterSetName == CatalogSet)
            {
                ForEachItem(Registry, () =>
                {
                    // Any repository name gives a client for the registry; the catalog is registry-wide.
                    using var registry = OpenRepository(ImageReference.Parse(Registry.TrimEnd('/') + "/catalog"));
                    var repositories = Run((_, ct) => registry.ListCatalogAsync(PageSize, ct));
                    WriteObject(repositories.Where(r => filter is null || filter.IsMatch(r)), enumerateCollection: true);
                });
                return;
            }
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    using var repository = OpenRepository(ImageReference.Parse(name).WithoutTagOrDigest());
                    var tags = Run((_, ct) => repository.ListTagsAsync(PageSize, ct));
                    WriteObject(tags.Where(t => filter is null || filter.IsMatch(t)), enumerateCollection: true);
                });
            }
        }
    }
}
