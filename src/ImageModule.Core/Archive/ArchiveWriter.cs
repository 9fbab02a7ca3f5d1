using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
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
    /// Saves images from a content store to an archive (`docker save`). By default the tar is at once a docker-archive
    /// and an OCI image layout, the way Docker 25+ writes it, so docker load, skopeo (docker-archive: and oci-archive:),
    /// podman and umoci all read it. Blobs are copied as stored (never recompressed) and written once however many images
    /// share them. Output goes to a temporary name next to the target and is renamed only when complete.
    /// </summary>
    public static class ArchiveWriter
    {
        private static readonly DateTimeOffset Epoch = DateTimeOffset.FromUnixTimeSeconds(0);

        public static async Task<string> SaveAsync(IContentStore source, IReadOnlyList<SaveItem> images, string path, SaveOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new SaveOptions();
            path = Path.GetFullPath(path);
            if ((File.Exists(path) || Directory.Exists(path)) && !options.Overwrite)
                throw new ImageModuleException(ArchiveErrors.TargetExists, ErrorKind.ResourceExists, $"'{path}' already exists", path);
            var parent = Path.GetDirectoryName(path)!;
            Directory.CreateDirectory(parent);
            var temp = options.TempTarget ?? Path.Combine(parent, "." + Path.GetFileName(path) + ".tmp-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            try
            {
                var resolved = await ResolveAllAsync(source, images, options, cancellationToken).ConfigureAwait(false);
                if (options.Format == SaveFormat.OciDirectory)
                {
                    Directory.CreateDirectory(temp);
                    await WriteAsync(source, resolved, new DirectorySink(temp), options, progress, path, cancellationToken).ConfigureAwait(false);
                    if (Directory.Exists(path)) Directory.Delete(path, true);
                    else if (File.Exists(path)) File.Delete(path);
                    Directory.Move(temp, path);
                }
                else
                {
                    using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        await SaveAsync(source, resolved, file, options, progress, path, cancellationToken).ConfigureAwait(false);
                        file.Flush(true);
                    }
                    if (Directory.Exists(path)) Directory.Delete(path, true);
                    else if (File.Exists(path)) File.Delete(path);
                    File.Move(temp, path);
                }
                return path;
            }
            catch
            {
                try
                {
                    if (Directory.Exists(temp)) Directory.Delete(temp, true);
                    else if (File.Exists(temp)) File.Delete(temp);
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
                throw;
            }
        }

        /// <summary>Writes a tar format (not <see cref="SaveFormat.OciDirectory"/>) to a stream.</summary>
        public static async Task SaveAsync(IContentStore source, IReadOnlyList<SaveItem> images, Stream output, SaveOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new SaveOptions();
            var resolved = await ResolveAllAsync(source, images, options, cancellationToken).ConfigureAwait(false);
            await SaveAsync(source, resolved, output, options, progress, "archive", cancellationToken).ConfigureAwait(false);
        }

        private static async Task SaveAsync(IContentStore source, List<(SaveItem Item, ResolvedImage Image)> resolved, Stream output, SaveOptions options,
            IProgress<OperationProgress>? progress, string displayName, CancellationToken ct)
        {
            if (options.Format == SaveFormat.OciDirectory) throw new ArgumentException("OciDirectory is written with SaveAsync(path)", nameof(options));
            var gzip = options.Compress ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : null;
            try
            {
                var tar = new TarWriter(gzip ?? output);
                await WriteAsync(source, resolved, new TarSink(tar), options, progress, displayName, ct).ConfigureAwait(false);
                await tar.FinishAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                gzip?.Dispose();
            }
            await output.FlushAsync(ct).ConfigureAwait(false);
        }

        private static async Task<List<(SaveItem, ResolvedImage)>> ResolveAllAsync(IContentStore source, IReadOnlyList<SaveItem> images, SaveOptions options, CancellationToken ct)
        {
            var list = new List<(SaveItem, ResolvedImage)>();
            foreach (var item in images) list.Add((item, await ImageContent.ResolveAsync(source, item.Manifest, options.Platform, ct, options.PreferredPlatform).ConfigureAwait(false)));
            return list;
        }

        private static async Task WriteAsync(IContentStore source, List<(SaveItem Item, ResolvedImage Image)> images, ILayoutSink sink, SaveOptions options,
            IProgress<OperationProgress>? progress, string displayName, CancellationToken ct)
        {
            var activity = $"Saving {displayName}";
            if (options.Format == SaveFormat.DockerLegacy)
            {
                await WriteLegacyAsync(source, images, sink, options, progress, activity, ct).ConfigureAwait(false);
                return;
            }

            var blobs = new List<Descriptor>();
            var seen = new HashSet<Digest>();
            foreach (var (_, image) in images)
            {
                foreach (var d in image.Manifest.Layers.Where(l => l.Urls == null || l.Urls.Count == 0).Append(image.Manifest.Config).Append(image.ManifestDescriptor))
                    if (seen.Add(d.Digest)) blobs.Add(d);
            }
            var total = blobs.Sum(b => b.Size);
            long done = 0;
            void Report(long current, string status) =>
                progress?.Report(new OperationProgress { Activity = activity, Status = status, BytesDone = done + current, BytesTotal = total });

            await sink.WriteDirectoryAsync("blobs", ct).ConfigureAwait(false);
            await sink.WriteDirectoryAsync("blobs/sha256", ct).ConfigureAwait(false);
            var manifestBytes = images.ToDictionary(i => i.Image.ManifestDescriptor.Digest, i => i.Image.ManifestBytes);
            foreach (var b in blobs)
            {
                var name = BlobPath(b.Digest);
                if (manifestBytes.TryGetValue(b.Digest, out var mb))
                    await sink.WriteFileAsync(name, mb.Length, () => Task.FromResult<Stream>(new MemoryStream(mb, false)), null, ct).ConfigureAwait(false);
                else
                    await sink.WriteFileAsync(name, b.Size, () => source.FetchAsync(b, ct), new Progress<long>(n => Report(n, $"Writing {b.Digest.Short}")), ct).ConfigureAwait(false);
                done += b.Size;
                Report(0, $"Wrote {b.Digest.Short}");
            }

            // OCI layout: one index entry per name (ref.name = tag, as Docker 25 and containerd write it).
            var indexEntries = new List<Descriptor>();
            foreach (var (item, image) in images)
            {
                var d = new Descriptor(image.ManifestDescriptor.MediaType, image.ManifestDescriptor.Digest, image.ManifestBytes.Length);
                var refs = item.References.Select(r => ImageReference.Parse(r)).ToList();
                if (refs.Count == 0) indexEntries.Add(d);
                foreach (var r in refs)
                {
                    var ann = new Dictionary<string, string>(StringComparer.Ordinal) { [AnnotationKeys.ContainerdImageName] = r.ToString() };
                    if (r.Tag != null) ann[AnnotationKeys.RefName] = r.Tag;
                    indexEntries.Add(d with { Annotations = ann });
                }
            }
            var index = new ImageIndex { SchemaVersion = 2, MediaType = MediaTypes.OciIndex, Manifests = indexEntries };
            await WriteBytesAsync(sink, "oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"), ct).ConfigureAwait(false);
            await WriteBytesAsync(sink, "index.json", OciJson.Serialize(index), ct).ConfigureAwait(false);

            if (options.Format == SaveFormat.DockerAndOci)
            {
                var entries = new List<DockerArchiveManifestEntry>();
                var repositories = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
                foreach (var (item, image) in images)
                {
                    var tags = FamiliarTags(item.References);
                    entries.Add(new DockerArchiveManifestEntry
                    {
                        Config = BlobPath(image.Manifest.Config.Digest),
                        RepoTags = tags.Count == 0 ? null : tags,
                        Layers = image.Manifest.Layers.Select(l => BlobPath(l.Digest)).ToList(),
                    });
                    AddRepositories(repositories, item.References, image.Manifest.Config.Digest.Hex);
                }
                await WriteBytesAsync(sink, "manifest.json", OciJson.Serialize(entries), ct).ConfigureAwait(false);
                if (repositories.Count > 0) await WriteBytesAsync(sink, "repositories", OciJson.Serialize(repositories), ct).ConfigureAwait(false);
            }
            progress?.Report(new OperationProgress { Activity = activity, Status = "Done", BytesDone = total, BytesTotal = total, Completed = true });
        }

        /// <summary>Pre-Docker-25 layout: uncompressed layer.tar per layer under a v1 layer ID, the config as &lt;hex&gt;.json.</summary>
        private static async Task WriteLegacyAsync(IContentStore source, List<(SaveItem Item, ResolvedImage Image)> images, ILayoutSink sink, SaveOptions options,
            IProgress<OperationProgress>? progress, string activity, CancellationToken ct)
        {
            var written = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<DockerArchiveManifestEntry>();
            var repositories = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
            var total = images.Sum(i => i.Image.Manifest.Layers.Sum(l => l.Size));
            long done = 0;
            foreach (var (item, image) in images)
            {
                var diffIds = image.Config.RootFs.DiffIds;
                var layerPaths = new List<string>();
                string? parent = null;
                for (var i = 0; i < image.Manifest.Layers.Count; i++)
                {
                    var layer = image.Manifest.Layers[i];
                    var diffId = i < diffIds.Count ? diffIds[i].ToString() : layer.Digest.ToString();
                    // v1 IDs chain the parent so that the same diff under different parents gets a different directory.
                    var id = Digest.Compute((parent ?? "") + " " + diffId).Hex;
                    layerPaths.Add(id + "/layer.tar");
                    if (written.Add(id))
                    {
                        await sink.WriteDirectoryAsync(id, ct).ConfigureAwait(false);
                        await WriteBytesAsync(sink, id + "/VERSION", Encoding.ASCII.GetBytes("1.0"), ct).ConfigureAwait(false);
                        var json = parent == null ? $"{{\"id\":\"{id}\",\"created\":\"1970-01-01T00:00:00Z\"}}" : $"{{\"id\":\"{id}\",\"parent\":\"{parent}\",\"created\":\"1970-01-01T00:00:00Z\"}}";
                        await WriteBytesAsync(sink, id + "/json", Encoding.UTF8.GetBytes(json), ct).ConfigureAwait(false);
                        // The tar header needs the uncompressed size first: decompress to a temporary file.
                        var spool = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "imagemodule-save-" + Guid.NewGuid().ToString("N"));
                        try
                        {
                            using (var raw = await source.FetchAsync(layer, ct).ConfigureAwait(false))
                            using (var plain = Decompression.Open(raw, out _))
                            using (var file = new FileStream(spool, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                                await plain.CopyToAsync(file, 1 << 16, ct).ConfigureAwait(false);
                            var size = new FileInfo(spool).Length;
                            await sink.WriteFileAsync(id + "/layer.tar", size, () => Task.FromResult<Stream>(File.OpenRead(spool)), null, ct).ConfigureAwait(false);
                        }
                        finally
                        {
                            try { File.Delete(spool); } catch (IOException) { }
                        }
                    }
                    done += layer.Size;
                    progress?.Report(new OperationProgress { Activity = activity, Status = $"Wrote layer {i + 1}", BytesDone = done, BytesTotal = total });
                    parent = id;
                }
                var configName = image.Manifest.Config.Digest.Hex + ".json";
                if (written.Add(configName)) await WriteBytesAsync(sink, configName, image.ConfigBytes, ct).ConfigureAwait(false);
                var tags = FamiliarTags(item.References);
                entries.Add(new DockerArchiveManifestEntry { Config = configName, RepoTags = tags.Count == 0 ? null : tags, Layers = layerPaths });
                if (parent != null) AddRepositories(repositories, item.References, parent);
            }
            await WriteBytesAsync(sink, "manifest.json", OciJson.Serialize(entries), ct).ConfigureAwait(false);
            if (repositories.Count > 0) await WriteBytesAsync(sink, "repositories", OciJson.Serialize(repositories), ct).ConfigureAwait(false);
            progress?.Report(new OperationProgress { Activity = activity, Status = "Done", BytesDone = total, BytesTotal = total, Completed = true });
        }

        private static List<string> FamiliarTags(IEnumerable<string> references) =>
            references.Select(r => ImageReference.Parse(r)).Where(r => r.Tag != null).Select(r => r.FamiliarName + ":" + r.Tag).ToList();

        private static void AddRepositories(SortedDictionary<string, SortedDictionary<string, string>> repositories, IEnumerable<string> references, string id)
        {
            foreach (var r in references.Select(r => ImageReference.Parse(r)).Where(r => r.Tag != null))
            {
                if (!repositories.TryGetValue(r.FamiliarName, out var tags)) repositories[r.FamiliarName] = tags = new SortedDictionary<string, string>(StringComparer.Ordinal);
                tags[r.Tag!] = id;
            }
        }

        private static string BlobPath(Digest d) => $"blobs/{d.Algorithm}/{d.Hex}";

        private static Task WriteBytesAsync(ILayoutSink sink, string name, byte[] bytes, CancellationToken ct) =>
            sink.WriteFileAsync(name, bytes.Length, () => Task.FromResult<Stream>(new MemoryStream(bytes, false)), null, ct);

        private interface ILayoutSink
        {
            Task WriteDirectoryAsync(string name, CancellationToken ct);
            Task WriteFileAsync(string name, long size, Func<Task<Stream>> open, IProgress<long>? bytes, CancellationToken ct);
        }

        private sealed class TarSink : ILayoutSink
        {
            private readonly TarWriter _tar;
            public TarSink(TarWriter tar) { _tar = tar; }

            public Task WriteDirectoryAsync(string name, CancellationToken ct) =>
                _tar.WriteEntryAsync(new TarHeader { Name = name, Type = TarEntryType.Directory, Mode = 0x1ED /* 0755 */, ModTime = Epoch }, null, null, ct);

            public async Task WriteFileAsync(string name, long size, Func<Task<Stream>> open, IProgress<long>? bytes, CancellationToken ct)
            {
                using var s = await open().ConfigureAwait(false);
                await _tar.WriteEntryAsync(new TarHeader { Name = name, Size = size, Mode = 0x1A4 /* 0644 */, ModTime = Epoch }, s, bytes, ct).ConfigureAwait(false);
                // Drain so a verifying stream checks the digest at its end.
                var one = new byte[1];
                if (await s.ReadAsync(one, 0, 1, ct).ConfigureAwait(false) != 0)
                    throw new ImageModuleException(ArchiveErrors.CorruptTar, ErrorKind.InvalidData, $"'{name}' is longer than its descriptor says", name);
            }
        }

        private sealed class DirectorySink : ILayoutSink
        {
            private readonly string _root;
            public DirectorySink(string root) { _root = root; }

            public Task WriteDirectoryAsync(string name, CancellationToken ct)
            {
                Directory.CreateDirectory(Path.Combine(_root, name));
                return Task.CompletedTask;
            }

            public async Task WriteFileAsync(string name, long size, Func<Task<Stream>> open, IProgress<long>? bytes, CancellationToken ct)
            {
                var target = Path.Combine(_root, name);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var s = await open().ConfigureAwait(false);
                using var file = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
                var buffer = new byte[1 << 16];
                long total = 0;
                int n;
                while ((n = await s.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0)
                {
                    await file.WriteAsync(buffer, 0, n, ct).ConfigureAwait(false);
                    total += n;
                    bytes?.Report(total);
                }
                if (total != size) throw new SizeMismatchException(name, size, total);
            }
        }
    }
}
