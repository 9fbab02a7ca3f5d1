using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using ImageModule.Completion;
using ImageModule.Engine;
using ImageModule.References;
using ImageModule.Store;

namespace ImageModule.Commands
{
    /// <summary>Base of every cmdlet that works on local images: picks the store and finds images by name, ID or digest.</summary>
    public abstract class StoreCmdlet : ImageCmdlet
    {
        /// <summary>The value of -Engine that names the embedded store (so a session default engine can be overridden).</summary>
        public const string EmbeddedStore = "Store";

        private IImageStore? _store;
        private IReadOnlyList<Image>? _images;
        private readonly Dictionary<string, EngineStore> _engines = new(StringComparer.Ordinal);

        /// <summary>The embedded store's directory; default $env:IMAGEMODULE_STORE or the per-user data directory.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? StorePath { get; set; }

        /// <summary>
        /// Work on a container engine's images instead of the embedded store: Docker ($env:DOCKER_HOST or the default
        /// socket), Podman (its API socket), a unix://, npipe:// or tcp:// URI, or Store for the embedded store.
        /// Session default: $PSDefaultParameterValues['*-Image*:Engine'] = 'Docker'.
        /// </summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(EngineCompleter))]
        public string? Engine { get; set; }

        protected IImageStore Store => _store ??= OpenStore();

        /// <summary>True when -Engine names an engine (not the embedded store).</summary>
        protected bool UsesEngine => Engine != null && !string.Equals(Engine, EmbeddedStore, StringComparison.OrdinalIgnoreCase);

        protected virtual IImageStore OpenStore()
        {
            if (!UsesEngine) return OpenEmbeddedStore();
            if (StorePath != null)
            {
                ThrowTerminatingError(ToErrorRecord(new ImageModuleException("StoreAndEngine", ErrorKind.InvalidArgument,
                    $"-StorePath and -Engine {Engine} name two different stores; give one (-Engine Store selects the embedded store).", Engine)));
            }
            return OpenEngine(Engine!);
        }

        /// <summary>The embedded store, for commands that work on its files (Test-/Repair-ImageStore); -Engine is refused.</summary>
        protected OciStore EmbeddedStoreOnly()
        {
            if (UsesEngine)
                ThrowTerminatingError(ToErrorRecord(new ImageModuleException("EngineNotSupported", ErrorKind.InvalidArgument,
                    $"{MyInvocation.MyCommand.Name} works on the embedded store's files; an engine checks its own storage (podman system check).", Engine)));
            return OpenEmbeddedStore();
        }

        protected OciStore OpenEmbeddedStore()
        {
            var path = StorePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(StorePath);
            return OciStore.Open(path);
        }

        /// <summary>An engine by name or URI (one client per engine per command); a bad name is a terminating error.</summary>
        protected EngineStore OpenEngine(string nameOrUri)
        {
            EngineEndpoint endpoint;
            try
            {
                endpoint = EngineEndpoint.Resolve(nameOrUri);
            }
            catch (ImageModuleException e)
            {
                ThrowTerminatingError(ToErrorRecord(e, nameOrUri));
                throw;
            }
            return EngineAt(endpoint);
        }

        private EngineStore EngineAt(EngineEndpoint endpoint)
        {
            if (!_engines.TryGetValue(endpoint.Location, out var engine))
            {
                engine = new EngineStore(endpoint);
                _engines[endpoint.Location] = engine;
            }
            return engine;
        }

        /// <summary>The store an image object came from: the one it names, whatever the cmdlet's own default is.</summary>
        protected IImageStore StoreOf(Image image)
        {
            if (string.Equals(image.Location, Store.Location, StringComparison.Ordinal)) return Store;
            if (image.Location.Length == 0) return Store;
            if (image.StoreKind == EmbeddedStore) return new OciStore(image.Location);
            // An engine image goes back to the engine it was listed from (Location is its URI, StoreKind Docker or Podman).
            return EngineAt(EngineEndpoint.Resolve(image.Location) with { Kind = image.StoreKind });
        }

        protected override void DisposeResources()
        {
            foreach (var engine in _engines.Values) engine.Dispose();
            _engines.Clear();
        }

        /// <summary>Every image in the store, listed once per command (refreshed after changes with <see cref="Invalidate"/>).</summary>
        /// <remarks>A store that cannot be read at all (an engine that is not running) stops the command with its error.</remarks>
        protected IReadOnlyList<Image> Images
        {
            get
            {
                if (_images != null) return _images;
                try
                {
                    return _images = Run((_, ct) => Store.ListAsync(ct));
                }
                catch (ImageModuleException e)
                {
                    ThrowTerminatingError(ToErrorRecord(e));
                    throw;
                }
            }
        }

        protected void Invalidate() => _images = null;

        /// <summary>
        /// Images a name selects, the way docker does: "alpine" is every tag of docker.io/library/alpine, "alpine:3"
        /// one tag, a full reference exactly; wildcards match the full name, "repository:tag" or the repository.
        /// An image ID (full or 4+ hex) also works, as in docker.
        /// </summary>
        protected IReadOnlyList<Image> Match(string name) => Match(name, out _);

        /// <summary>
        /// As <see cref="Match(string)"/>; <paramref name="byId"/> says the value was taken as an ID. A name is tried
        /// before an ID prefix, as docker resolves it: a repository named like hex ("c709") stays reachable by name.
        /// </summary>
        protected IReadOnlyList<Image> Match(string name, out bool byId)
        {
            byId = false;
            if (WildcardPattern.ContainsWildcardCharacters(name))
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase | WildcardOptions.CultureInvariant);
                return Images.Where(i => !i.Dangling && (pattern.IsMatch(i.Name!) || pattern.IsMatch(i.Repository + ":" + i.Tag) || pattern.IsMatch(i.Repository))).ToList();
            }
            IReadOnlyList<Image> found = Array.Empty<Image>();
            InvalidReferenceException? invalid = null;
            try
            {
                found = MatchName(name);
                // podman names unqualified local images localhost/… and resolves short names there too; so do we.
                if (found.Count == 0 && !HasRegistry(name)) found = MatchName("localhost/" + name);
            }
            catch (InvalidReferenceException e)
            {
                invalid = e; // a full 64-hex ID is not a valid repository name; it may still be an ID
            }
            if (found.Count > 0) return found;
            var ids = MatchId(name);
            if (ids.Count > 0)
            {
                byId = true;
                return ids;
            }
            if (invalid != null) throw invalid;
            return found;
        }

        private static bool HasRegistry(string name)
        {
            var slash = name.IndexOf('/');
            if (slash < 0) return false;
            var first = name.Substring(0, slash);
            return first.Contains(".") || first.Contains(":") || first == "localhost";
        }

        private IReadOnlyList<Image> MatchName(string name)
        {
            var reference = ImageReference.Parse(name, defaultTag: false);
            if (reference.Tag is null && reference.Digest is null)
            {
                return Images.Where(i => i.Name != null && ImageReference.Parse(i.Name, defaultTag: false).Name == reference.Name).ToList();
            }
            if (reference.Digest is { } digest && reference.Tag is null)
            {
                return Images.Where(i => i.Name != null && i.Digest == digest.ToString()
                    && ImageReference.Parse(i.Name, defaultTag: false).Name == reference.Name).ToList();
            }
            var full = reference.ToString();
            return Images.Where(i => i.Name == full).ToList();
        }

        /// <summary>Images whose ID or manifest digest starts with the given hex (with or without "sha256:").</summary>
        protected IReadOnlyList<Image> MatchId(string id)
        {
            var hex = id.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase) ? id.Substring(7) : id;
            if (hex.Length < 4 || hex.Length > 64 || !hex.All(Uri.IsHexDigit)) return Array.Empty<Image>();
            hex = hex.ToLowerInvariant();
            var byId = Images.Where(i => i.Id.StartsWith("sha256:" + hex, StringComparison.Ordinal)).ToList();
            if (byId.Count > 0 || !id.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)) return byId;
            return Images.Where(i => i.Digest == "sha256:" + hex).ToList();
        }

        /// <summary>Matches, or a non-terminating ImageNotFound error for a literal name that matched nothing (wildcards may match nothing).</summary>
        protected IReadOnlyList<Image> MatchOrError(string name)
        {
            try
            {
                var matches = Match(name);
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) WriteError(new ImageNotFoundException(name), name);
                return matches;
            }
            catch (InvalidReferenceException e)
            {
                WriteError(e, name);
                return Array.Empty<Image>();
            }
        }

        /// <summary>Exactly one image for a name (first by newest if the name selects several tags).</summary>
        protected Image? SingleOrError(string name)
        {
            var matches = MatchOrError(name);
            if (matches.Count == 0) return null;
            var distinct = matches.Select(i => i.Id).Distinct().Count();
            if (distinct > 1)
            {
                WriteError(new ImageModuleException("AmbiguousImageName", ErrorKind.InvalidArgument,
                    $"'{name}' matches {distinct} different images ({string.Join(", ", matches.Select(m => m.Name ?? m.ShortId).Take(5))}); name one tag or ID.", name), name);
                return null;
            }
            return matches[0];
        }
    }
}
