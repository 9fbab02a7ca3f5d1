using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Content;
using ImageModule.Engine;
using ImageModule.Registry;
using ImageModule.References;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>
    /// Pulls images from a registry into the store (docker pull): by tag or digest, one platform of a multi-platform
    /// image or all of them, or every tag of a repository. Mirrors in the registry settings are tried first.
    /// </summary>
    [Cmdlet(VerbsLifecycle.Install, "Image")]
    [OutputType(typeof(Image))]
    public sealed class InstallImageCommand : RegistryCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(ImageNameCompleter))]
        public string[] Name { get; set; } = new string[0];

        /// <summary>os/arch[/variant] to pick from a multi-platform image, and to require of a single-platform one (default: DOCKER_DEFAULT_PLATFORM, else linux on this machine's architecture).</summary>
        [Parameter]
        [ArgumentCompleter(typeof(PlatformCompleter))]
        public string? Platform { get; set; }

        /// <summary>Keep every platform of a multi-platform image (the whole index), digests unchanged.</summary>
        [Parameter]
        public SwitchParameter AllPlatforms { get; set; }

        /// <summary>Pull every tag of the repository (docker pull -a).</summary>
        [Parameter]
        public SwitchParameter AllTags { get; set; }

        /// <summary>-Platform, else DOCKER_DEFAULT_PLATFORM (as docker pull reads it), checked before any image is pulled.</summary>
        private Oci.Platform? AskedPlatform => AllPlatforms ? PlatformParameter(Platform) : PlatformParameter(Platform, orEnvironment: true);

        protected override void BeginProcessing()
        {
            base.BeginProcessing();
            _ = AskedPlatform;
        }

        protected override void ProcessRecord()
        {
            foreach (var name in Name)
            {
                ForEachItem(name, () =>
                {
                    var named = ImageReference.Parse(name, defaultTag: !AllTags);
                    if (AllTags && (named.Tag != null || named.Digest != null))
                        throw new ImageModuleException("AllTagsWithTag", ErrorKind.InvalidArgument, $"-AllTags pulls every tag of a repository; give {named.FamiliarName} without a tag or digest.", name);
                    var references = AllTags ? TagsOf(named) : new[] { named };
                    foreach (var reference in references) ForEachItem(reference.ToString(), () => Pull(reference));
                });
            }
        }

        private IEnumerable<ImageReference> TagsOf(ImageReference repository)
        {
            using var source = OpenRepository(repository);
            return Run((_, ct) => source.ListTagsAsync(1000, ct)).Where(ImageReference.IsValidTag).Select(repository.WithTag).ToList();
        }

        private void Pull(ImageReference reference)
        {
            if (UsesEngine)
            {
                // The engine pulls (docker pull), with -Credential or the stored login for the registry.
                var engine = (EngineStore)Store;
                var asked = AskedPlatform;
                ProgressActivity = $"Pulling {reference} into {engine.Kind}";
                Run((progress, ct) => engine.PullAsync(reference, GivenCredential ?? new DockerCredentialStore().Get(reference.Registry), progress, ct, asked));
                Invalidate();
                var pulled = Images.FirstOrDefault(i => i.Name == reference.ToString() || i.RepoDigests.Contains(reference.ToString()));
                if (pulled != null) WriteObject(pulled);
                return;
            }
            var platform = AskedPlatform;
            var store = Store;
            using var source = Clients.OpenForPull(reference);
            using (store is OciStore oci ? oci.BeginIngest() : null)
            {
                var sourceRef = reference.Digest?.ToString() ?? reference.Tag!;
                ProgressActivity = $"Pulling {reference}";
                Run((progress, ct) => ImageCopier.CopyAsync(source, sourceRef, store.Content, reference.ToString(), platform, progress, ct, AllPlatforms));
            }
            if (source.Current.Reference.Registry != reference.Registry) WriteVerbose($"Pulled {reference} through the mirror {source.Current.Reference.Registry}.");
            Invalidate();
            var image = Images.FirstOrDefault(i => i.Name == reference.ToString());
            if (image != null) WriteObject(image);
        }
    }
}
