using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Store
{
    /// <summary>
    /// Checks a whole store (Test-ImageStore; podman system check, ctr content verify): every blob hashes to its name,
    /// every index.json entry reaches a readable manifest, config and layers, the cache agrees with the blobs, and no
    /// staging file is left that no live process owns. Reads only; returns one <see cref="StoreProblem"/> per problem.
    /// </summary>
    public static class StoreChecker
    {
        /// <summary>Staging younger than this may belong to a process that is starting up; it is never reported.</summary>
        private static readonly TimeSpan StagingGrace = TimeSpan.FromMinutes(10);

        public static async Task<IReadOnlyList<StoreProblem>> CheckAsync(OciStore store, IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            var layout = store.Layout;
            var problems = new List<StoreProblem>();
            IReadOnlyList<Descriptor> entries = Array.Empty<Descriptor>();
            try
            {
                entries = layout.ReadIndex().Manifests;
            }
            catch (ImageModuleException e)
            {
                problems.Add(new StoreProblem
                {
                    Kind = StoreProblemKind.IndexUnreadable, Target = layout.IndexPath, Location = layout.Root,
                    Message = $"index.json cannot be read: {e.Message}",
                    Repair = File.Exists(layout.NamesRecordPath) ? "rebuild index.json from the names recorded in .imagemodule/names.json (entries whose manifest is present)" : "rebuild index.json from the manifests in blobs/ (unnamed)",
                });
            }

            var corrupt = await HashAllBlobsAsync(layout, progress, cancellationToken).ConfigureAwait(false);
            var byBlob = new Dictionary<(StoreProblemKind, Digest), (Descriptor Blob, string Message, SortedSet<string> Images)>();
            void Report(StoreProblemKind kind, Descriptor blob, string message, string image)
            {
                if (!byBlob.TryGetValue((kind, blob.Digest), out var found)) byBlob[(kind, blob.Digest)] = found = (blob, message, new SortedSet<string>(StringComparer.Ordinal));
                found.Images.Add(image);
            }

            foreach (var entry in entries)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var image = OciStore.NameOf(entry)?.ToString() ?? entry.Annotation(AnnotationKeys.RefName) ?? entry.Digest.ToString();
                Walk(layout, entry, image, corrupt, Report, depth: 0);
            }
            // Blobs no image uses are garbage, not damage, unless they are corrupt (then they are reported unowned).
            foreach (var kv in corrupt.Where(c => !byBlob.ContainsKey((StoreProblemKind.BlobCorrupt, c.Key))))
                byBlob[(StoreProblemKind.BlobCorrupt, kv.Key)] = (new Descriptor("", kv.Key, -1), kv.Value, new SortedSet<string>(StringComparer.Ordinal));

            foreach (var kv in byBlob.OrderBy(k => k.Key.Item1).ThenBy(k => k.Key.Item2))
            {
                var (kind, digest) = kv.Key;
                problems.Add(new StoreProblem
                {
                    Kind = kind, Target = digest.ToString(), Blob = kv.Value.Blob, Images = kv.Value.Images.ToList(), Location = layout.Root,
                    Message = kv.Value.Message,
                    Repair = kind switch
                    {
                        StoreProblemKind.BlobCorrupt => "move the blob to .imagemodule/quarantine, fetch it again (-SourcePath archive, or the registry it came from), else remove the names that need it",
                        StoreProblemKind.BlobMissing => "fetch it again (-SourcePath archive, or the registry it came from), else remove the names that need it",
                        _ => "remove the names that need it (the same digest can only ever name the same bytes)",
                    },
                });
            }
            problems.AddRange(CheckCache(layout, entries, corrupt));
            problems.AddRange(CheckStaging(layout));
            return problems;
        }

        private static void Walk(OciLayout layout, Descriptor d, string image, Dictionary<Digest, string> corrupt,
            Action<StoreProblemKind, Descriptor, string, string> report, int depth, string role = "manifest")
        {
            if (corrupt.TryGetValue(d.Digest, out var why)) { report(StoreProblemKind.BlobCorrupt, d, $"{role} {d.Digest} is corrupt: {why}", image); return; }
            var info = new FileInfo(layout.BlobPath(d.Digest));
            if (!info.Exists) { report(StoreProblemKind.BlobMissing, d, $"{role} {d.Digest} is missing", image); return; }
            if (d.Size >= 0 && info.Length != d.Size) { report(StoreProblemKind.BlobCorrupt, d, $"{role} {d.Digest} is {info.Length} bytes but its descriptor says {d.Size}", image); return; }
            if (role == "layer") return;
            byte[] bytes;
            try { bytes = layout.ReadBlob(d); }
            catch (ImageModuleException e) { report(StoreProblemKind.BlobCorrupt, d, $"{role} {d.Digest}: {e.Message}", image); return; }
            if (role == "config")
            {
                try { OciJson.Deserialize<ImageConfig>(bytes, $"config {d.Digest}"); }
                catch (ImageModuleException e) { report(StoreProblemKind.ConfigInvalid, d, e.Message, image); }
                return;
            }
            var mediaType = OciJson.PeekMediaType(bytes) ?? d.MediaType;
            try
            {
                if (MediaTypes.IsIndex(mediaType) && depth < 4)
                {
                    var children = OciJson.Deserialize<ImageIndex>(bytes, $"index {d.Digest}").Manifests;
                    // A partial multi-platform pull keeps only some children: the ones present must be whole.
                    var present = children.Where(c => File.Exists(layout.BlobPath(c.Digest))).ToList();
                    if (present.Count == 0 && children.Count > 0) report(StoreProblemKind.BlobMissing, children[0], $"no manifest of index {d.Digest} is in the store", image);
                    foreach (var child in present) Walk(layout, child, image, corrupt, report, depth + 1);
                    return;
                }
                var manifest = OciJson.Deserialize<Manifest>(bytes, $"manifest {d.Digest}");
                Walk(layout, manifest.Config, image, corrupt, report, depth + 1, "config");
                foreach (var layer in manifest.Layers)
                {
                    if (layer.Urls != null && layer.Urls.Count > 0 && !File.Exists(layout.BlobPath(layer.Digest))) continue; // foreign layer
                    Walk(layout, layer, image, corrupt, report, depth + 1, "layer");
                }
            }
            catch (ImageModuleException e)
            {
                report(StoreProblemKind.ManifestInvalid, d, e.Message, image);
            }
        }

        /// <summary>Hashes every blob file; returns the ones whose content is not what their name says.</summary>
        private static async Task<Dictionary<Digest, string>> HashAllBlobsAsync(OciLayout layout, IProgress<OperationProgress>? progress, CancellationToken ct)
        {
            var blobs = layout.EnumerateBlobs().Select(b => (b.Digest, b.Path, Length: SafeLength(b.Path))).ToList();
            var total = blobs.Sum(b => b.Length);
            long done = 0;
            var corrupt = new Dictionary<Digest, string>();
            var buffer = new byte[1 << 20];
            foreach (var (digest, path, length) in blobs)
            {
                ct.ThrowIfCancellationRequested();
                try
                {
                    using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.SequentialScan);
                    using var hash = digest.CreateHash();
                    int n;
                    while ((n = await file.ReadAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false)) > 0)
                    {
                        hash.AppendData(buffer, 0, n);
                        done += n;
                        progress?.Report(new OperationProgress { Activity = $"Checking {layout.Root}", Status = "Verifying blobs", BytesDone = done, BytesTotal = total });
                    }
                    var actual = Digest.FromHash(digest.Algorithm, hash.GetHashAndReset());
                    if (actual != digest) corrupt[digest] = $"its content hashes to {actual}";
                }
                catch (FileNotFoundException) { } // deleted meanwhile (a collection): not damage
                catch (IOException e) { corrupt[digest] = $"it cannot be read: {e.Message}"; }
                catch (UnauthorizedAccessException e) { corrupt[digest] = $"it cannot be read: {e.Message}"; }
            }
            progress?.Report(new OperationProgress { Activity = $"Checking {layout.Root}", Status = "Done", BytesDone = total, BytesTotal = total, Completed = true });
            return corrupt;
        }

        private static long SafeLength(string path)
        {
            try { return new FileInfo(path).Length; }
            catch (IOException) { return 0; }
        }

        /// <summary>The cache is a hint; it is reported when it could not be used as one (rebuilding it is always safe).</summary>
        private static IEnumerable<StoreProblem> CheckCache(OciLayout layout, IReadOnlyList<Descriptor> entries, Dictionary<Digest, string> corrupt)
        {
            var path = Path.Combine(layout.SideDirectory, "cache.json");
            if (!File.Exists(path)) yield break;
            var reasons = new List<string>();
            try
            {
                using var doc = JsonDocument.Parse(StoreCache.Payload(File.ReadAllBytes(path), out _));
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object) reasons.Add("it is not a JSON object");
                else
                {
                    foreach (var map in new[] { "uncompressedSizes", "images" })
                        if (root.TryGetProperty(map, out var m) && m.ValueKind != JsonValueKind.Object) reasons.Add($"\"{map}\" is {m.ValueKind.ToString().ToLowerInvariant()}");
                    if (root.TryGetProperty("images", out var images) && images.ValueKind == JsonValueKind.Object)
                    {
                        var known = entries.GroupBy(e => e.Digest.ToString(), StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                        foreach (var image in images.EnumerateObject())
                        {
                            if (!known.TryGetValue(image.Name, out var entry)) continue; // a removed image's summary: harmless
                            var reason = SummaryProblem(layout, entry, image.Value, corrupt);
                            if (reason != null) reasons.Add($"the summary of {image.Name} {reason}");
                        }
                    }
                }
            }
            catch (JsonException e) { reasons.Add($"it is not valid JSON ({e.Message})"); }
            catch (IOException e) { reasons.Add($"it cannot be read ({e.Message})"); }
            if (reasons.Count == 0) yield break;
            yield return new StoreProblem
            {
                Kind = StoreProblemKind.CacheInvalid, Target = path, Location = layout.Root,
                Message = "cache.json " + string.Join("; ", reasons.Take(5)) + (reasons.Count > 5 ? $"; and {reasons.Count - 5} more" : ""),
                Repair = "delete cache.json; the next listing rebuilds it from the blobs",
            };
        }

        private static string? SummaryProblem(OciLayout layout, Descriptor entry, JsonElement summary, Dictionary<Digest, string> corrupt)
        {
            if (summary.ValueKind != JsonValueKind.Object) return "is null";
            foreach (var field in new[] { "manifest", "config", "layers", "diffIds" })
                if (!summary.TryGetProperty(field, out var f) || f.ValueKind == JsonValueKind.Null) return $"has no \"{field}\"";
            if (!summary.GetProperty("config").TryGetProperty("digest", out var cd) || cd.ValueKind != JsonValueKind.String) return "has a config without digest";
            var cachedConfig = cd.GetString();
            if (!Digest.TryParse(cachedConfig, out var configDigest) || !File.Exists(layout.BlobPath(configDigest))) return $"names config {cachedConfig}, which is not in the store";
            try
            {
                var bytes = layout.ReadBlob(entry);
                if (MediaTypes.IsIndex(OciJson.PeekMediaType(bytes) ?? entry.MediaType)) return null;
                var manifest = OciJson.Deserialize<Manifest>(bytes, "manifest");
                if (manifest.Config.Digest != configDigest) return $"names config {configDigest} but the manifest says {manifest.Config.Digest}";
            }
            catch (ImageModuleException) { } // the manifest itself is reported as damaged
            return null;
        }

        /// <summary>
        /// Staging is owned by a lease (.imagemodule/tmp/&lt;lease id&gt;/, see <see cref="Staging"/>): an entry named after
        /// a lease no live process holds is a leftover; an entry named after none is one once it is older than a grace
        /// period. Read-only: nothing is deleted here (Repair-ImageStore does that).
        /// </summary>
        private static IEnumerable<StoreProblem> CheckStaging(OciLayout layout)
        {
            var leases = Path.Combine(layout.SideDirectory, "leases");
            var now = DateTime.UtcNow;
            var candidates = new List<string>();
            // tmp/resume holds partial downloads of dead processes kept on purpose for the next pull (see Staging).
            if (Directory.Exists(layout.TempDirectory)) candidates.AddRange(Directory.EnumerateFileSystemEntries(layout.TempDirectory).Where(e => Path.GetFileName(e) != Staging.ResumeFolder));
            if (Directory.Exists(layout.Root)) candidates.AddRange(Directory.EnumerateFiles(layout.Root, "index.json.*.tmp"));
            foreach (var path in candidates)
            {
                var written = Directory.Exists(path) ? Directory.GetLastWriteTimeUtc(path) : File.GetLastWriteTimeUtc(path);
                var match = Staging.LeaseNamed.Match(Path.GetFileName(path));
                var abandoned = match.Success && Path.GetDirectoryName(path) == layout.TempDirectory
                    ? !Leases.IsHeld(Path.Combine(leases, match.Groups["id"].Value + ".lease"))
                    : now - written > StagingGrace;
                if (!abandoned) continue;
                yield return new StoreProblem
                {
                    Kind = StoreProblemKind.StagingLeftover, Target = path, Location = layout.Root,
                    Message = $"staging {(Directory.Exists(path) ? "directory" : "file")} last written {written:u}, owned by no live process",
                    Repair = "delete it",
                };
            }
        }
    }
}
