using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Content;
using ImageModule.Filesystem;
using ImageModule.Oci;
using ImageModule.References;

namespace ImageModule.Archive
{
    /// <summary>
    /// Loads docker-archives (legacy and Docker 25+), oci-archives and OCI layout directories into an <see cref="ITarget"/>
    /// (`docker load`). The tar is read once, front to back: blobs named by digest are pushed, verified, as they pass;
    /// docker-archive layers (named by path, digest unknown) are hashed while spooled to a temporary file. Manifests and
    /// names are written only at the end, after every layer was checked, so an archive that lies tags nothing.
    /// </summary>
    public static class ArchiveLoader
    {
        public static async Task<IReadOnlyList<LoadedImage>> LoadAsync(string path, ITarget target, LoadOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new LoadOptions();
            if (Directory.Exists(path)) return await LoadLayoutDirectoryAsync(path, target, options, progress, cancellationToken).ConfigureAwait(false);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: false);
            return await LoadAsync(file, target, options, progress, cancellationToken, path).ConfigureAwait(false);
        }

        public static async Task<IReadOnlyList<LoadedImage>> LoadAsync(Stream archive, ITarget target, LoadOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default, string? displayName = null)
        {
            options ??= new LoadOptions();
            using var session = new LoadSession(target, options, progress, displayName ?? "archive", archive.CanSeek ? archive.Length : -1);
            var counting = new CountingReadStream(archive, session.ReportRead);
            using var content = Decompression.Open(counting, out var compression);
            var reader = new TarReader(content);
            TarHeader? h;
            try
            {
                while ((h = await reader.NextAsync(cancellationToken).ConfigureAwait(false)) != null)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    await session.AcceptAsync(h, reader, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (CorruptContent.IsDecoderFailure(e))
            {
                throw ArchiveErrors.Corrupt($"'{displayName ?? "archive"}' is not valid {compression} data: {e.Message}", displayName);
            }
            return await session.FinishAsync(cancellationToken).ConfigureAwait(false);
        }

        private static async Task<IReadOnlyList<LoadedImage>> LoadLayoutDirectoryAsync(string dir, ITarget target, LoadOptions options,
            IProgress<OperationProgress>? progress, CancellationToken ct)
        {
            var indexPath = Path.Combine(dir, "index.json");
            if (!File.Exists(indexPath)) throw new ImageModuleException(ArchiveErrors.UnknownFormat, ErrorKind.InvalidData, $"'{dir}' is not an OCI image layout (no index.json)", dir);
            var indexBytes = File.ReadAllBytes(indexPath);
            var index = OciJson.Deserialize<ImageIndex>(indexBytes, "index.json");
            using var session = new LoadSession(target, options, progress, dir, -1);
            var seen = new HashSet<Digest>();
            foreach (var d in index.Manifests) await PushTreeFromDirectoryAsync(dir, d, target, session, seen, ct).ConfigureAwait(false);
            session.SetIndex(indexBytes);
            return await session.FinishAsync(ct).ConfigureAwait(false);
        }

        private static async Task PushTreeFromDirectoryAsync(string dir, Descriptor d, ITarget target, LoadSession session, HashSet<Digest> seen, CancellationToken ct)
        {
            if (!seen.Add(d.Digest)) return;
            var blobPath = Path.Combine(dir, "blobs", d.Digest.Algorithm, d.Digest.Hex);
            if (!File.Exists(blobPath))
            {
                // Partial multi-platform layouts are common; a missing manifest is checked when naming.
                if (MediaTypes.IsIndex(d.MediaType) || MediaTypes.IsManifest(d.MediaType)) return;
                throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"Blob {d.Digest} is missing from '{dir}'", d.Digest.ToString());
            }
            if (!await target.ExistsAsync(d, ct).ConfigureAwait(false))
            {
                using var file = File.OpenRead(blobPath);
                await session.PushAsync(d, new VerifyingStream(file, d), ct).ConfigureAwait(false);
            }
            if (MediaTypes.IsIndex(d.MediaType) || MediaTypes.IsManifest(d.MediaType))
            {
                var bytes = File.ReadAllBytes(blobPath);
                foreach (var child in ChildrenOf(bytes, d.MediaType)) await PushTreeFromDirectoryAsync(dir, child, target, session, seen, ct).ConfigureAwait(false);
            }
        }

        internal static IEnumerable<Descriptor> ChildrenOf(byte[] json, string mediaType)
        {
            if (MediaTypes.IsIndex(mediaType)) return OciJson.Deserialize<ImageIndex>(json, "image index").Manifests;
            var m = OciJson.Deserialize<Manifest>(json, "image manifest");
            return new[] { m.Config }.Concat(m.Layers);
        }

        internal static string NormalizeName(string name) => ImageReference.Parse(name).ToString();

        /// <summary>State of one load: what passed by, what was pushed, and the plan of names written at the end.</summary>
        private sealed class LoadSession : IDisposable
        {
            private readonly ITarget _target;
            private readonly LoadOptions _options;
            private readonly IProgress<OperationProgress>? _progress;
            private readonly string _displayName;
            private readonly long _total;
            private readonly Dictionary<string, byte[]> _small = new(StringComparer.Ordinal);
            private readonly Dictionary<string, SpooledFile> _spooled = new(StringComparer.Ordinal);
            private readonly Dictionary<string, string> _links = new(StringComparer.Ordinal);
            private readonly HashSet<Digest> _present = new();
            private readonly Dictionary<Digest, (DiffIdDigester Digester, long Size)> _digesters = new();
            private readonly Dictionary<Digest, Digest> _diffIds = new();
            private readonly HashSet<string> _planned = new(StringComparer.Ordinal);
            private string? _tempDir;
            private byte[]? _indexOverride;

            public LoadSession(ITarget target, LoadOptions options, IProgress<OperationProgress>? progress, string displayName, long total)
            {
                _target = target; _options = options; _progress = progress; _displayName = displayName; _total = total;
            }

            public void SetIndex(byte[] index) => _indexOverride = index;

            public void ReportRead(long done) =>
                _progress?.Report(new OperationProgress { Activity = $"Loading {_displayName}", Status = "Reading", BytesDone = done, BytesTotal = _total });

            public async Task AcceptAsync(TarHeader h, TarReader reader, CancellationToken ct)
            {
                var name = ArchiveFormat.EntryName(h.Name);
                if (name.Length == 0 || h.Type == TarEntryType.Directory) return;
                if (h.Type == TarEntryType.Symlink || h.Type == TarEntryType.HardLink)
                {
                    // containers/image writes legacy <id>/layer.tar as a symlink to ../<diffid>.tar.
                    _links[name] = h.Type == TarEntryType.HardLink ? ArchiveFormat.EntryName(h.LinkName) : ResolveRelative(name, h.LinkName);
                    return;
                }
                if (h.Type != TarEntryType.File) return;

                if (TryBlobDigest(name, out var digest))
                {
                    var d = new Descriptor("application/octet-stream", digest, h.Size);
                    if (!await _target.ExistsAsync(d, ct).ConfigureAwait(false))
                    {
                        await PushAsync(d, new VerifyingStream(reader.OpenContent(), d, leaveOpen: true), ct).ConfigureAwait(false);
                    }
                    _present.Add(digest);
                    return;
                }
                if (IsSmallDocument(name) && h.Size <= _options.MaxJsonBytes)
                {
                    var ms = new MemoryStream((int)h.Size);
                    await reader.OpenContent().CopyToAsync(ms, 81920, ct).ConfigureAwait(false);
                    _small[name] = ms.ToArray();
                    return;
                }
                _spooled[name] = await SpoolAsync(reader.OpenContent(), ct).ConfigureAwait(false);
            }

            /// <summary>Pushes a blob named by digest; a compressed layer's diff ID is computed from the bytes on their way in.</summary>
            public async Task PushAsync(Descriptor d, Stream verifying, CancellationToken ct)
            {
                using var tee = new DiffIdDigester.Tee(verifying);
                try
                {
                    await _target.PushAsync(d, tee, null, ct).ConfigureAwait(false);
                }
                finally
                {
                    if (tee.Digester != null) _digesters[d.Digest] = (tee.Digester, d.Size);
                }
            }

            private static bool IsSmallDocument(string name) =>
                name.EndsWith(".json", StringComparison.Ordinal) || name == "repositories" || name == "oci-layout"
                || name.EndsWith("/json", StringComparison.Ordinal) || name.EndsWith("VERSION", StringComparison.Ordinal);

            private async Task<SpooledFile> SpoolAsync(Stream content, CancellationToken ct)
            {
                // Spooled into the store's own staging area when it can adopt files: a layer is then written once.
                _tempDir ??= CreateTempDir(_options.TempDirectory ?? (_target as IAdoptsBlobFiles)?.StagingDirectory);
                var path = Path.Combine(_tempDir, Guid.NewGuid().ToString("N"));
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long size = 0;
                using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                {
                    var buffer = new byte[1 << 16];
                    int n;
                    while ((n = await content.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        await file.WriteAsync(buffer, 0, n, ct).ConfigureAwait(false);
                        size += n;
                    }
                }
                return new SpooledFile(path, Digest.FromHash(Digest.Sha256, hash.GetHashAndReset()), size);
            }

            public async Task<IReadOnlyList<LoadedImage>> FinishAsync(CancellationToken ct)
            {
                var index = _indexOverride ?? (_small.TryGetValue("index.json", out var ib) ? ib : null);
                _small.TryGetValue("manifest.json", out var dockerManifest);
                List<(string? Name, Descriptor Manifest)> plan;
                if (index != null)
                {
                    plan = await PlanOciAsync(index, dockerManifest, ct).ConfigureAwait(false);
                    // Docker 25 indexes only tagged images: `docker save <id>` writes "manifests": null and lists the
                    // image in manifest.json alone. Images manifest.json names that the index does not are loaded from it.
                    if (dockerManifest != null) plan.AddRange(await PlanDockerAsync(dockerManifest, ct, _planned).ConfigureAwait(false));
                }
                else if (dockerManifest != null) plan = await PlanDockerAsync(dockerManifest, ct).ConfigureAwait(false);
                else throw new ImageModuleException(ArchiveErrors.UnknownFormat, ErrorKind.InvalidData,
                    $"'{_displayName}' is neither a docker-archive nor an OCI archive (no manifest.json or index.json); to make an image of a filesystem tarball, import it as a rootfs", _displayName);

                if (_options.Platform is { } platform)
                {
                    var chosen = new List<(string?, Descriptor)>();
                    foreach (var (name, image) in plan)
                        chosen.Add((name, (await ImageContent.ResolveAsync(_target, image, platform, ct).ConfigureAwait(false)).ManifestDescriptor));
                    plan = chosen;
                }

                if (_options.Name != null)
                {
                    var distinct = plan.Select(p => p.Manifest.Digest).Distinct().ToList();
                    if (distinct.Count != 1)
                        throw new ImageModuleException(ArchiveErrors.RetagAmbiguous, ErrorKind.InvalidArgument,
                            $"'{_displayName}' holds {distinct.Count} images; a new name can be given only to an archive of one image", _displayName);
                    plan = new List<(string?, Descriptor)> { (NormalizeName(_options.Name), plan[0].Manifest) };
                }

                // Everything was verified: only now do names appear.
                var result = new List<LoadedImage>();
                foreach (var (name, manifest) in plan)
                {
                    if (name != null) await _target.TagAsync(manifest, name, ct).ConfigureAwait(false);
                    result.Add(new LoadedImage(name, manifest));
                }
                _progress?.Report(new OperationProgress { Activity = $"Loading {_displayName}", Status = "Done", BytesDone = Math.Max(0, _total), BytesTotal = _total, Completed = true });
                return result;
            }

            private async Task<List<(string?, Descriptor)>> PlanOciAsync(byte[] indexBytes, byte[]? dockerManifest, CancellationToken ct)
            {
                var index = OciJson.Deserialize<ImageIndex>(indexBytes, "index.json");
                var repoTagsByConfig = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
                if (dockerManifest != null)
                {
                    foreach (var e in OciJson.Deserialize<List<DockerArchiveManifestEntry>>(dockerManifest, "manifest.json"))
                        if (e?.RepoTags != null && TryBlobDigest(e.Config, out var c)) repoTagsByConfig[c.ToString()] = e.RepoTags;
                }
                var plan = new List<(string?, Descriptor)>();
                foreach (var d in index.Manifests)
                {
                    var configDigest = await VerifyTreeAsync(d, ct).ConfigureAwait(false);
                    var names = new List<string>();
                    var full = d.Annotation(AnnotationKeys.ContainerdImageName);
                    var refName = d.Annotation(AnnotationKeys.RefName);
                    if (full != null && ImageReference.TryParse(full, out var r, out _)) names.Add(r!.ToString());
                    else if (refName != null && (refName.Contains("/") || refName.Contains(":")) && ImageReference.TryParse(refName, out var r2, out _)) names.Add(r2!.ToString());
                    else if (configDigest != null && repoTagsByConfig.TryGetValue(configDigest, out var tags)) names.AddRange(tags.Select(NormalizeName));
                    // A bare ref.name (umoci's "base", skopeo's oci:dir:copied) read the way docker reads a bare name.
                    else if (refName != null && ImageReference.TryParse(refName, out var r3, out _)) names.Add(r3!.ToString());
                    // A name the archive gives that is no image reference (ref.name "Web:V1") is refused as podman
                    // refuses it, never dropped silently: importing it unnamed would hide what the user asked for.
                    // -Name gives the image a name of the user's choosing instead.
                    var given = full ?? refName;
                    if (names.Count == 0 && !string.IsNullOrEmpty(given) && _options.Name is null)
                    {
                        ImageReference.TryParse(given!, out _, out var reason);
                        throw new ImageModuleException(ArchiveErrors.InvalidName, ErrorKind.InvalidData,
                            $"{_displayName}: image {d.Digest} is named '{given}', which is not a valid image reference ({reason}); import it with -Name to give it another name",
                            given);
                    }
                    if (names.Count == 0) plan.Add((null, Strip(d)));
                    foreach (var n in names) plan.Add((n, Strip(d)));
                }
                return plan;
            }

            private static Descriptor Strip(Descriptor d) => new(d.MediaType, d.Digest, d.Size) { Platform = d.Platform };

            /// <summary>Checks every blob a manifest or index needs is in the target; returns the config digest of a manifest.</summary>
            private async Task<string?> VerifyTreeAsync(Descriptor d, CancellationToken ct)
            {
                if (!await ExistsAsync(d, ct).ConfigureAwait(false))
                    throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"{_displayName}: {d.MediaType} {d.Digest} is referenced but not in the archive", d.Digest.ToString());
                byte[] bytes;
                using (var s = await _target.FetchAsync(d, ct).ConfigureAwait(false))
                {
                    var ms = new MemoryStream();
                    await s.CopyToAsync(ms, 81920, ct).ConfigureAwait(false);
                    bytes = ms.ToArray();
                }
                var mediaType = string.IsNullOrEmpty(d.MediaType) ? OciJson.PeekMediaType(bytes) : d.MediaType;
                if (MediaTypes.IsIndex(mediaType))
                {
                    var any = false;
                    foreach (var child in OciJson.Deserialize<ImageIndex>(bytes, "image index").Manifests)
                    {
                        // A multi-platform index saved for one platform holds only that platform's blobs.
                        if (!await ExistsAsync(child, ct).ConfigureAwait(false)) continue;
                        await VerifyTreeAsync(child, ct).ConfigureAwait(false);
                        any = true;
                    }
                    if (!any) throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"{_displayName}: no manifest of index {d.Digest} is in the archive", d.Digest.ToString());
                    return null;
                }
                if (!MediaTypes.IsManifest(mediaType))
                    throw new ImageModuleException(ArchiveErrors.UnsupportedManifest, ErrorKind.InvalidData, $"{_displayName}: unsupported manifest media type '{mediaType}'", d.Digest.ToString());
                var m = OciJson.Deserialize<Manifest>(bytes, $"image manifest {d.Digest}");
                ImageRules.RequireImage(m, d.Digest, _displayName);
                foreach (var blob in new[] { m.Config }.Concat(m.Layers))
                {
                    if (blob.Urls != null && blob.Urls.Count > 0) continue; // foreign layers live elsewhere
                    if (!await ExistsAsync(blob, ct).ConfigureAwait(false))
                        throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"{_displayName}: blob {blob.Digest} of {d.Digest} is not in the archive", blob.Digest.ToString());
                }
                await CheckDiffIdsAsync(d, m, ct).ConfigureAwait(false);
                _planned.Add(m.Config.Digest.ToString());
                return m.Config.Digest.ToString();
            }

            /// <summary>
            /// The same rule as for docker-archives: every layer's uncompressed digest is the config's diff ID at its
            /// position. Compressed layers were digested while they were pushed; a layer the target already held is read
            /// back once (foreign layers that live elsewhere cannot be checked).
            /// </summary>
            private async Task CheckDiffIdsAsync(Descriptor manifest, Manifest m, CancellationToken ct)
            {
                var config = OciJson.Deserialize<ImageConfig>(await ReadBlobAsync(m.Config, ct).ConfigureAwait(false), $"image config {m.Config.Digest}");
                if (ImageRules.LayerCountProblem(m, config) is string problem)
                    throw new ImageModuleException(ArchiveErrors.LayerMismatch, ErrorKind.InvalidData, $"{_displayName}: image {manifest.Digest}: {problem}", manifest.Digest.ToString());
                for (var i = 0; i < m.Layers.Count; i++)
                {
                    var layer = m.Layers[i];
                    if (layer.Urls != null && layer.Urls.Count > 0 && !await ExistsAsync(layer, ct).ConfigureAwait(false)) continue;
                    var diffId = await DiffIdAsync(layer, ct).ConfigureAwait(false);
                    if (diffId != config.RootFs.DiffIds[i])
                        throw new ImageModuleException(ArchiveErrors.LayerMismatch, ErrorKind.InvalidData,
                            $"{_displayName}: layer {layer.Digest} of {manifest.Digest} has diff ID {diffId} but the config says {config.RootFs.DiffIds[i]}", layer.Digest.ToString());
                }
            }

            private async Task<Digest> DiffIdAsync(Descriptor layer, CancellationToken ct)
            {
                if (_diffIds.TryGetValue(layer.Digest, out var known)) return known;
                Digest? diffId = null;
                if (_digesters.TryGetValue(layer.Digest, out var pushed))
                {
                    _digesters.Remove(layer.Digest);
                    using (pushed.Digester)
                    {
                        var result = await pushed.Digester.CompleteAsync().ConfigureAwait(false);
                        // The target may have taken the blob without reading it all (another process wrote it meanwhile).
                        if (pushed.Digester.BytesFed == pushed.Size) diffId = result;
                    }
                }
                if (diffId is null)
                {
                    using var raw = await _target.FetchAsync(layer, ct).ConfigureAwait(false);
                    try
                    {
                        using var content = Decompression.Open(raw, out var compression);
                        diffId = compression == ArchiveCompression.None ? layer.Digest : await HashAsync(content, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (CorruptContent.IsDecoderFailure(e))
                    {
                        throw CorruptContent.Layer(layer.Digest, $"in {_displayName}", e);
                    }
                }
                _diffIds[layer.Digest] = diffId.Value;
                return diffId.Value;
            }

            private async Task<byte[]> ReadBlobAsync(Descriptor d, CancellationToken ct)
            {
                using var s = await _target.FetchAsync(d, ct).ConfigureAwait(false);
                var ms = new MemoryStream();
                await s.CopyToAsync(ms, 81920, ct).ConfigureAwait(false);
                return ms.ToArray();
            }

            private async Task<bool> ExistsAsync(Descriptor d, CancellationToken ct) => _present.Contains(d.Digest) || await _target.ExistsAsync(d, ct).ConfigureAwait(false);

            private async Task<List<(string?, Descriptor)>> PlanDockerAsync(byte[] manifestJson, CancellationToken ct, ISet<string>? configsPlanned = null)
            {
                var entries = OciJson.Deserialize<List<DockerArchiveManifestEntry>>(manifestJson, "manifest.json");
                if (entries.Any(e => e is null))
                    throw new ImageModuleException(OciJson.InvalidJson, ErrorKind.InvalidData, $"{_displayName}: manifest.json has a null entry", "manifest.json");
                if (configsPlanned != null)
                    entries = entries.Where(e => !(TryBlobDigest(e.Config, out var c) && configsPlanned.Contains(c.ToString()))).ToList();
                var prepared = new List<(DockerArchiveManifestEntry Entry, byte[] Config, List<(Descriptor Layer, Func<Stream> Open, string? SpooledPath)> Layers)>();
                // Verify every image before anything is written.
                foreach (var e in entries)
                {
                    var configBytes = await ReadDocumentAsync(e.Config, ct).ConfigureAwait(false);
                    var config = OciJson.Deserialize<ImageConfig>(configBytes, $"image config {e.Config}");
                    var diffIds = config.RootFs.DiffIds;
                    if (diffIds.Count != e.Layers.Count)
                        throw new ImageModuleException(ArchiveErrors.LayerMismatch, ErrorKind.InvalidData,
                            $"{_displayName}: manifest.json lists {e.Layers.Count} layers but the config has {diffIds.Count} diff IDs", e.Config);
                    var layers = new List<(Descriptor, Func<Stream>, string?)>();
                    for (var i = 0; i < e.Layers.Count; i++)
                    {
                        var (raw, open, spooledPath) = await LocateLayerAsync(e.Layers[i], ct).ConfigureAwait(false);
                        ArchiveCompression compression;
                        Digest diffId;
                        try
                        {
                            using var s = Decompression.Open(open(), out compression);
                            diffId = compression == ArchiveCompression.None ? raw.Digest : await HashAsync(s, ct).ConfigureAwait(false);
                        }
                        catch (Exception x) when (CorruptContent.IsDecoderFailure(x))
                        {
                            throw CorruptContent.Layer(raw.Digest, $"('{e.Layers[i]}' in {_displayName})", x);
                        }
                        if (diffId != diffIds[i])
                            throw new ImageModuleException(ArchiveErrors.LayerMismatch, ErrorKind.InvalidData,
                                $"{_displayName}: layer {e.Layers[i]} has diff ID {diffId} but the config says {diffIds[i]}", e.Layers[i]);
                        var mediaType = compression switch
                        {
                            ArchiveCompression.None => MediaTypes.DockerLayer,
                            ArchiveCompression.Gzip => MediaTypes.DockerLayerGzip,
                            ArchiveCompression.Zstd => MediaTypes.OciLayerZstd,
                            _ => throw new ImageModuleException(ArchiveErrors.UnsupportedManifest, ErrorKind.InvalidData, $"{_displayName}: layer {e.Layers[i]} uses {compression} compression, which images cannot carry", e.Layers[i]),
                        };
                        layers.Add((raw with { MediaType = mediaType }, open, spooledPath));
                    }
                    prepared.Add((e, configBytes, layers));
                }

                var plan = new List<(string?, Descriptor)>();
                foreach (var (e, configBytes, layers) in prepared)
                {
                    // Built manifests use OCI media types: an OCI layout store only lists OCI manifests to skopeo and umoci.
                    const bool oci = true;
                    var configDesc = new Descriptor(oci ? MediaTypes.OciConfig : MediaTypes.DockerConfig, Digest.Compute(configBytes), configBytes.Length);
                    await PushBytesAsync(configDesc, configBytes, ct).ConfigureAwait(false);
                    var layerDescs = new List<Descriptor>();
                    foreach (var (layer, open, spooledPath) in layers)
                    {
                        var d = oci && layer.MediaType == MediaTypes.DockerLayer ? layer with { MediaType = MediaTypes.OciLayer }
                            : oci && layer.MediaType == MediaTypes.DockerLayerGzip ? layer with { MediaType = MediaTypes.OciLayerGzip } : layer;
                        if (!await ExistsAsync(d, ct).ConfigureAwait(false))
                        {
                            if (spooledPath != null && _target is IAdoptsBlobFiles adopter && File.Exists(spooledPath)
                                && Path.GetDirectoryName(spooledPath) == _tempDir && _options.TempDirectory is null)
                            {
                                // Hashed as it was spooled, into the store's staging area: moved into place, not copied.
                                await adopter.AdoptAsync(d, spooledPath, ct).ConfigureAwait(false);
                            }
                            else
                            {
                                using var verifying = new VerifyingStream(open(), d);
                                await _target.PushAsync(d, verifying, null, ct).ConfigureAwait(false);
                            }
                            _present.Add(d.Digest);
                        }
                        layerDescs.Add(d);
                    }
                    var manifest = new Manifest
                    {
                        SchemaVersion = 2,
                        MediaType = oci ? MediaTypes.OciManifest : MediaTypes.DockerManifest,
                        Config = configDesc,
                        Layers = layerDescs,
                    };
                    var manifestBytes = OciJson.Serialize(manifest);
                    var manifestDesc = new Descriptor(manifest.MediaType, Digest.Compute(manifestBytes), manifestBytes.Length);
                    await PushBytesAsync(manifestDesc, manifestBytes, ct).ConfigureAwait(false);
                    if (e.RepoTags == null || e.RepoTags.Count == 0) plan.Add((null, manifestDesc));
                    else foreach (var t in e.RepoTags) plan.Add((NormalizeName(t), manifestDesc));
                }
                return plan;
            }

            private async Task PushBytesAsync(Descriptor d, byte[] bytes, CancellationToken ct)
            {
                if (await ExistsAsync(d, ct).ConfigureAwait(false)) return;
                await _target.PushAsync(d, new MemoryStream(bytes, false), null, ct).ConfigureAwait(false);
                _present.Add(d.Digest);
            }

            private async Task<byte[]> ReadDocumentAsync(string name, CancellationToken ct)
            {
                var n = Follow(ArchiveFormat.EntryName(name));
                if (_small.TryGetValue(n, out var bytes)) return bytes;
                if (_spooled.TryGetValue(n, out var sp) && sp.Size <= _options.MaxJsonBytes) return File.ReadAllBytes(sp.Path);
                if (TryBlobDigest(n, out var digest) && _present.Contains(digest))
                {
                    using var s = await _target.FetchAsync(new Descriptor("application/octet-stream", digest, -1), ct).ConfigureAwait(false);
                    var ms = new MemoryStream();
                    await s.CopyToAsync(ms, 81920, ct).ConfigureAwait(false);
                    return ms.ToArray();
                }
                throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"{_displayName}: '{name}' named in manifest.json is not in the archive", name);
            }

            private async Task<(Descriptor Raw, Func<Stream> Open, string? SpooledPath)> LocateLayerAsync(string name, CancellationToken ct)
            {
                var n = Follow(ArchiveFormat.EntryName(name));
                if (_spooled.TryGetValue(n, out var sp))
                    return (new Descriptor(MediaTypes.DockerLayer, sp.Digest, sp.Size), () => File.OpenRead(sp.Path), sp.Path);
                if (TryBlobDigest(n, out var digest) && _present.Contains(digest))
                {
                    // Docker 25+ layer already pushed: read it back from the target to compute its diff ID.
                    var probe = new Descriptor("application/octet-stream", digest, -1);
                    using var s = await _target.FetchAsync(probe, ct).ConfigureAwait(false);
                    var size = 0L;
                    var buffer = new byte[1 << 16];
                    int r;
                    while ((r = await s.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0) size += r;
                    var d = new Descriptor(MediaTypes.DockerLayer, digest, size);
                    return (d, () => _target.FetchAsync(d, CancellationToken.None).GetAwaiter().GetResult(), null);
                }
                throw new ImageModuleException(ArchiveErrors.BlobMissing, ErrorKind.InvalidData, $"{_displayName}: layer '{name}' named in manifest.json is not in the archive", name);
            }

            private string Follow(string name)
            {
                for (var i = 0; i < 16 && _links.TryGetValue(name, out var next); i++) name = next;
                return name;
            }

            public void Dispose()
            {
                foreach (var pushed in _digesters.Values) pushed.Digester.Dispose();
                _digesters.Clear();
                if (_tempDir != null)
                {
                    try { Directory.Delete(_tempDir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
                }
            }
        }

        private sealed record SpooledFile(string Path, Digest Digest, long Size);

        internal static bool TryBlobDigest(string name, out Digest digest)
        {
            digest = default;
            var n = ArchiveFormat.EntryName(name);
            if (!n.StartsWith("blobs/", StringComparison.Ordinal)) return false;
            var parts = n.Split('/');
            return parts.Length == 3 && Digest.TryParse(parts[1] + ":" + parts[2], out digest);
        }

        private static string ResolveRelative(string entry, string link)
        {
            if (link.StartsWith("/", StringComparison.Ordinal)) return ArchiveFormat.EntryName(link);
            var slash = entry.LastIndexOf('/');
            var parts = new List<string>(slash < 0 ? new string[0] : entry.Substring(0, slash).Split('/'));
            foreach (var p in link.Split('/'))
            {
                if (p == "." || p.Length == 0) continue;
                if (p == "..") { if (parts.Count > 0) parts.RemoveAt(parts.Count - 1); continue; }
                parts.Add(p);
            }
            return string.Join("/", parts);
        }

        private static string CreateTempDir(string? parent)
        {
            var dir = Path.Combine(parent ?? Path.GetTempPath(), "imagemodule-load-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dir);
            return dir;
        }

        internal static async Task<Digest> HashAsync(Stream s, CancellationToken ct)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await s.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0) hash.AppendData(buffer, 0, n);
            return Digest.FromHash(Digest.Sha256, hash.GetHashAndReset());
        }
    }
}
