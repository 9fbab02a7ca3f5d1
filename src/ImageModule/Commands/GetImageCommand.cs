using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;

namespace ImageModule.Commands
{
    /// <summary>Lists images (docker images / docker image inspect).</summary>
    [Cmdlet(VerbsCommon.Get, "Image", DefaultParameterSetName = ByName)]
    [OutputType(typeof(Image))]
    public sealed class GetImageCommand : StoreCmdlet
    {
        private const string ByName = "ByName";
        private const string ById = "ById";
        private const string ByDigest = "ByDigest";
        private readonly List<Image> _found = new();
        private readonly HashSet<string> _seen = new();

        [Parameter(Position = 0, ParameterSetName = ByName, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[]? Name { get; set; }

        [Parameter(Mandatory = true, ParameterSetName = ById, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageIdCompleter))]
        public string[] Id { get; set; } = new string[0];

        [Parameter(Mandatory = true, ParameterSetName = ByDigest, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public string[] Digest { get; set; } = new string[0];

        /// <summary>Only untagged images (docker images --filter dangling=true).</summary>
        [Parameter(ParameterSetName = ByName)]
        public SwitchParameter Dangling { get; set; }

        protected override void ProcessRecord()
        {
            switch (ParameterSetName)
            {
                case ById:
                    foreach (var id in Id)
                    {
                        var matches = MatchId(id);
                        if (matches.Count == 0) WriteError(new ImageNotFoundException(id), id);
                        Add(matches);
                    }
                    break;
                case ByDigest:
                    foreach (var digest in Digest)
                    {
                        var matches = Images.Where(i => i.Digest == digest || i.RepoDigests.Contains(digest) || (i.Name != null && i.Name.EndsWith("@" + digest, System.StringComparison.Ordinal))).ToList();
                        if (matches.Count == 0) WriteError(new ImageNotFoundException(digest), digest);
                        Add(matches);
                    }
                    break;
                default:
                    if (Name is null) Add(Images.Where(i => !Dangling || i.Dangling));
                    else foreach (var name in Name) Add(MatchOrError(name).Where(i => !Dangling || i.Dangling));
                    break;
            }
        }

        private void Add(IEnumerable<Image> images)
        {
            foreach (var image in images)
            {
                if (_seen.Add(image.Name ?? image.Digest ?? image.Id)) _found.Add(image);
            }
        }

        // Newest first, like docker images; emitted at the end so several -Name values come out in one sorted list.
        protected override void EndProcessing()
        {
            WriteObject(_found.OrderByDescending(i => i.Created).ThenBy(i => i.Name, System.StringComparer.Ordinal), enumerateCollection: true);
            var damaged = _found.Where(i => i.Status != ImageStatus.Ok).Select(i => $"{i} ({i.Status})").Distinct().ToList();
            if (damaged.Count > 0)
                WriteWarning($"{damaged.Count} image(s) are damaged: {string.Join(", ", damaged)}. Their Problem property says what is wrong; Test-ImageStore checks the whole store and Repair-ImageStore repairs it.");
        }
    }
}
