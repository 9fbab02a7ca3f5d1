using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Registry
{
    /// <summary>
    /// Opens registry repositories the way the settings say: TLS trust, insecure registries, mirrors for reads, the
    /// credential for each host, and the blob-origin record that lets pushes mount.
    /// </summary>
    public sealed class RegistryClients
    {
        private readonly RegistryCredential? _given;
        private readonly Func<string, RegistryCredential?> _stored;

        /// <param name="given">The credential the user gave for the registries named (never sent to a mirror).</param>
        /// <param name="stored">Stored logins by registry (docker config, credential helpers).</param>
        public RegistryClients(RegistrySettings settings, RegistryCredential? given, Func<string, RegistryCredential?> stored, BlobOrigins? origins = null)
        {
            Settings = settings;
            _given = given;
            _stored = stored;
            Origins = origins;
        }

        public RegistrySettings Settings { get; }
        public BlobOrigins? Origins { get; }

        public RegistryRepository Open(ImageReference reference) => Open(reference, _given ?? _stored(reference.Registry));

        /// <summary>One time limit for this command (-TimeoutSeconds): replaces the connect, response and idle timeouts of every registry.</summary>
        public TimeSpan? Timeout { get; init; }

        public RegistryTimeouts TimeoutsFor(string registry)
        {
            var configured = Settings.For(registry).Timeouts;
            return Timeout is TimeSpan t ? configured with { Connect = t, Response = t, Idle = t } : configured;
        }

        private RegistryRepository Open(ImageReference reference, RegistryCredential? credential) =>
            new(reference, credential, Settings.For(reference.Registry), timeouts: TimeoutsFor(reference.Registry)) { Origins = Origins };

        /// <summary>A source to pull from: the registry's mirrors in order, then the registry itself.</summary>
        public ISourceRepository OpenForPull(ImageReference reference)
        {
            var mirrors = Settings.For(reference.Registry).Mirrors;
            if (mirrors.Count == 0) return new Single(Open(reference));
            var chain = mirrors.Select(m => OnMirror(reference, m)).Select(r => Open(r, _stored(r.Registry))).Concat(new[] { Open(reference) }).ToList();
            return new MirrorChain(chain);
        }

        /// <summary>The same repository on a mirror: "host[:port][/prefix]" puts the repository under the prefix.</summary>
        public static ImageReference OnMirror(ImageReference reference, string mirror)
        {
            var trimmed = mirror.Trim().TrimEnd('/');
            var scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0) trimmed = trimmed.Substring(scheme + 3);
            var slash = trimmed.IndexOf('/');
            var host = slash < 0 ? trimmed : trimmed.Substring(0, slash);
            var prefix = slash < 0 ? "" : trimmed.Substring(slash + 1) + "/";
            var text = host + "/" + prefix + reference.Repository + (reference.Tag != null ? ":" + reference.Tag : "") + (reference.Digest != null ? "@" + reference.Digest : "");
            return ImageReference.Parse(text, defaultTag: false);
        }

        /// <summary>A pull source: content plus the repository that answered, for messages.</summary>
        public interface ISourceRepository : ITarget, IRangeFetch, IDisposable
        {
            RegistryRepository Current { get; }
        }

        private sealed class Single : ISourceRepository
        {
            public Single(RegistryRepository repository) => Current = repository;
            public RegistryRepository Current { get; }
            public Task<bool> ExistsAsync(Descriptor target, CancellationToken ct) => Current.ExistsAsync(target, ct);
            public Task<Stream> FetchAsync(Descriptor target, CancellationToken ct) => Current.FetchAsync(target, ct);
            public Task<Stream> FetchFromAsync(Descriptor blob, long offset, CancellationToken ct) => Current.FetchFromAsync(blob, offset, ct);
            public Task PushAsync(Descriptor expected, Stream content, IProgress<long>? progress, CancellationToken ct) => Current.PushAsync(expected, content, progress, ct);
            public Task<Descriptor> ResolveAsync(string reference, CancellationToken ct) => Current.ResolveAsync(reference, ct);
            public Task TagAsync(Descriptor manifest, string reference, CancellationToken ct) => Current.TagAsync(manifest, reference, ct);
            public void Dispose() => Current.Dispose();
        }

        /// <summary>
        /// Mirrors first, the origin last (docker's registry-mirrors): the first that resolves the reference serves
        /// the whole pull. A mirror that is down, lacks the image or errs is passed over; only the origin's failure is
        /// reported. Writes go nowhere: a pull source is read-only.
        /// </summary>
        private sealed class MirrorChain : ISourceRepository
        {
            private readonly IReadOnlyList<RegistryRepository> _chain;
            public MirrorChain(IReadOnlyList<RegistryRepository> chain) { _chain = chain; Current = chain[chain.Count - 1]; }
            public RegistryRepository Current { get; private set; }

            public async Task<Descriptor> ResolveAsync(string reference, CancellationToken ct)
            {
                for (var i = 0; i < _chain.Count - 1; i++)
                {
                    try
                    {
                        var found = await _chain[i].ResolveAsync(reference, ct).ConfigureAwait(false);
                        Current = _chain[i];
                        Narrator.Say($"Pulling through the mirror {Current.Reference.Registry}.");
                        return found;
                    }
                    catch (ImageModuleException e) when (!ct.IsCancellationRequested)
                    {
                        Narrator.Say($"The mirror {_chain[i].Reference.Registry} was passed over: {e.Message}");
                    }
                }
                Current = _chain[_chain.Count - 1];
                return await Current.ResolveAsync(reference, ct).ConfigureAwait(false);
            }

            public Task<bool> ExistsAsync(Descriptor target, CancellationToken ct) => Current.ExistsAsync(target, ct);
            public Task<Stream> FetchAsync(Descriptor target, CancellationToken ct) => Current.FetchAsync(target, ct);
            public Task<Stream> FetchFromAsync(Descriptor blob, long offset, CancellationToken ct) => Current.FetchFromAsync(blob, offset, ct);
            public Task PushAsync(Descriptor expected, Stream content, IProgress<long>? progress, CancellationToken ct) => throw ReadOnly();
            public Task TagAsync(Descriptor manifest, string reference, CancellationToken ct) => throw ReadOnly();
            private static Exception ReadOnly() => new ImageModuleException("MirrorReadOnly", ErrorKind.InvalidOperation, "A pull source through mirrors cannot be written to.");
            public void Dispose() { foreach (var r in _chain) r.Dispose(); }
        }
    }
}
