using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Commands
{
    /// <summary>
    /// Finds images: searches Docker Hub (or a registry offering the search API) for a term (docker search), lists
    /// the tags of a repository (-Name … -ListTags) or a registry's catalog (-Registry), following pagination.
    /// Wildcards filter tags and catalog entries.
    /// </summary>
    [Cmdlet(VerbsCommon.Find, "Image", DefaultParameterSetName = SearchSet)]
    [OutputType(typeof(ImageSearchResult), ParameterSetName = new[] { SearchSet })]
    [OutputType(typeof(RegistryEntry), ParameterSetName = new[] { TagsSet, CatalogSet })]
    public sealed class FindImageCommand : RemoteRegistryCmdlet
    {
        private const string SearchSet = "Search";
        private const string TagsSet = "Tags";
        private const string CatalogSet = "Catalog";

        /// <summary>Text to search for (docker search TERM). Without it, -Registry lists that registry's catalog.</summary>
        /// <remarks>
        /// Not mandatory: "Find-Image -Registry host" fits this set and the catalog set, and PowerShell then takes the
        /// default set; a mandatory -Term would make it prompt for a term the user never meant to give.
        /// </remarks>
        [Parameter(Position = 0, ParameterSetName = SearchSet)]
        [ValidateNotNullOrEmpty]
        public string Term { get; set; } = "";

        /// <summary>At most this many results (1-100; docker's default 25).</summary>
        [Parameter(ParameterSetName = SearchSet)]
        [ValidateRange(1, ImageSearch.MaxLimit)]
        public int Limit { get; set; } = 25;

        /// <summary>Only official images (docker search --filter is-official=true).</summary>
        [Parameter(ParameterSetName = SearchSet)]
        public SwitchParameter IsOfficial { get; set; }

        /// <summary>Only images with at least this many stars (docker search --filter stars=N).</summary>
        [Parameter(ParameterSetName = SearchSet)]
        [ValidateRange(0, int.MaxValue)]
        public int MinimumStars { get; set; }

        /// <summary>A repository, e.g. localhost:5000/team/app (a tag, if given, is ignored).</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = TagsSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = new string[0];

        /// <summary>List the repository's tags (docker has no equivalent; skopeo list-tags, crane ls).</summary>
        [Parameter(Mandatory = true, ParameterSetName = TagsSet)]
        public SwitchParameter ListTags { get; set; }

        /// <summary>A registry host[:port] whose catalog to list (crane catalog), or to search instead of Docker Hub.</summary>
        [Parameter(Mandatory = true, ParameterSetName = CatalogSet)]
        [Parameter(ParameterSetName = SearchSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(RegistryCompleter))]
        public string Registry { get; set; } = "";

        /// <summary>Only results matching this wildcard.</summary>
        [Parameter(ParameterSetName = TagsSet)]
        [Parameter(ParameterSetName = CatalogSet)]
        [SupportsWildcards]
        public string? Filter { get; set; }

        /// <summary>Page size asked of the registry (results are complete either way).</summary>
        [Parameter(ParameterSetName = TagsSet)]
        [Parameter(ParameterSetName = CatalogSet)]
        [ValidateRange(1, 10000)]
        public int PageSize { get; set; } = 1000;

        protected override void ProcessRecord()
        {
            if (ParameterSetName == SearchSet && Term.Length == 0 && string.IsNullOrEmpty(Registry))
            {
                ThrowTerminatingError(ToErrorRecord(new ImageModuleException("SearchTermMissing", ErrorKind.InvalidArgument,
                    "Give a search term (Find-Image nginx), a repository with -ListTags, or a -Registry whose catalog to list.")));
            }
            if (ParameterSetName == SearchSet && Term.Length > 0)
            {
                ForEachItem(Term, () =>
                {
                    var registry = string.IsNullOrEmpty(Registry) ? ImageReference.DockerHub : RegistryName.Normalize(Registry);
                    var settings = RegistrySettings.Load().For(registry);
                    var results = Run((_, ct) => ImageSearch.SearchAsync(registry, Term, Limit, IsOfficial, MinimumStars, settings, ct));
                    // Another registry's names are relative to it: qualified, so a result piped on means that registry.
                    WriteObject(registry == ImageReference.DockerHub ? results : results.Select(r => r with { Name = registry + "/" + r.Name }), enumerateCollection: true);
                });
                return;
            }
            var filter = Filter is null ? null : new WildcardPattern(Filter, WildcardOptions.IgnoreCase);
            if (ParameterSetName == CatalogSet || ParameterSetName == SearchSet)
            {
                ForEachItem(Registry, () =>
                {
                    // Any repository name gives a client for the registry; the catalog is registry-wide.
                    using var registry = OpenRepository(ImageReference.Parse(Registry.TrimEnd('/') + "/catalog"));
                    var repositories = Run((_, ct) => registry.ListCatalogAsync(PageSize, ct));
                    var host = registry.Reference.Registry;
                    WriteObject(repositories.Where(r => filter is null || filter.IsMatch(r)).Select(r => new RegistryEntry(host, r, null)), enumerateCollection: true);
                });
                return;
            }
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    var reference = ImageReference.Parse(name).WithoutTagOrDigest();
                    using var repository = OpenRepository(reference);
                    var tags = Run((_, ct) => repository.ListTagsAsync(PageSize, ct));
                    WriteObject(tags.Where(t => filter is null || filter.IsMatch(t)).Select(t => new RegistryEntry(reference.Registry, reference.Repository, t)), enumerateCollection: true);
                });
            }
        }
    }
}
