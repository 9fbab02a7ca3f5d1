using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet;
using Docker.DotNet.Models;
using EmptyObject = ImageModule.Oci.EmptyObject;
using ImageModule.Archive;
using ImageModule.Content;
using ImageModule.Oci;
using ImageModule.References;
using ImageModule.Store;
using ContainerConfig = ImageModule.Oci.ContainerConfig;
using Version = System.Version;
using Platform = ImageModule.Oci.Platform;

namespace ImageModule.Engine
{
    /// <summary>
    /// A Docker engine, or podman through its Docker-compatible API, as an image store: the same Image and ImageLayer
    /// rows as the embedded store, so every local-image cmdlet works on it. Images move between an engine and any
    /// content store as one streamed docker-archive (the engine API has no per-blob calls): see
    /// <see cref="SaveToAsync"/> (engine → store) and <see cref="LoadFromAsync"/> (store → engine).
    /// </summary>
    public sealed partial class EngineStore : IImageStore, IDisposable
    {
        /// <summary>How long connecting (and the version handshake) may take before the engine counts as unreachable.</summary>
        public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

        /// <summary>The newest API version this client asks for; an older engine gets its own version (negotiation, as the docker CLI does).</summary>
        public static readonly Version MaxApiVersion = new(1, 43);

        private const int InspectParallelism = 4;
        private readonly SemaphoreSlim _connectGate = new(1, 1);
        private DockerClient? _client;
        private EngineContent? _content;
        private EngineTls? _tls;

        public EngineStore(EngineEndpoint endpoint, TimeSpan? connectTimeout = null)
        {
            Endpoint = endpoint;
            ConnectTimeout = connectTimeout ?? DefaultConnectTimeout;
        }

        public static EngineStore Open(string nameOrUri) => new(EngineEndpoint.Resolve(nameOrUri));

        public EngineEndpoint Endpoint { get; }
        public TimeSpan ConnectTimeout { get; }
        /// <summary>How long GET /version may take once the engine has answered /_ping.</summary>
        public static readonly TimeSpan VersionTimeout = TimeSpan.FromSeconds(60);
        public string Location => Endpoint.Location;
        /// <summary>"Docker" or "Podman".</summary>
        public string Kind => Endpoint.Kind;
        /// <summary>The API version agreed with the engine (null before the first call).</summary>
        public Version? ApiVersion { get; private set; }
        /// <summary>The engine's own version string, from GET /version.</summary>
        public string? EngineVersion { get; private set; }
        /// <summary>The engine's OS and architecture, from GET /version (null before the first call).</summary>
        public Platform? EnginePlatform { get; private set; }

        public ITarget Content => _content ??= new EngineContent(this);

        public void Dispose()
        {
            _client?.Dispose();
            _connectGate.Dispose();
        }

        // ---- connection -------------------------------------------------------------------------------------

        /// <summary>Connects (once) and negotiates the API version; unreachable or forbidden engines fail within <see cref="ConnectTimeout"/>.</summary>
        public async Task ConnectAsync(CancellationToken cancellationToken)
        {
            await ClientAsync(cancellationToken).ConfigureAwait(false);
        }

        private async Task<DockerClient> ClientAsync(CancellationToken cancellationToken)
        {
            if (_client != null) return _client;
            await _connectGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (_client != null) return _client;
                CheckSocket();
                if (Endpoint.UsesTls)
                {
                    // Certificates are read and one handshake made first, so a TLS problem is reported as itself.
                    _tls ??= EngineTls.Load(Endpoint);
                    await WithConnectTimeout(_tls.HandshakeAsync, cancellationToken).ConfigureAwait(false);
                }
                // GET /version without a version prefix is answered by every engine in its own version; then every
                // later call is made at min(engine, ours), so an old engine never sees a path it does not know.
                using var probe = EngineClientFactory.Create(Endpoint, null, _tls);
                // Reachability is judged by GET /_ping, answered at once. GET /version can take seconds on a busy
                // machine (podman runs its components to ask their versions), so it has a bound of its own.
                await WithConnectTimeout(async ct => { await probe.System.PingAsync(ct).ConfigureAwait(false); return true; }, cancellationToken).ConfigureAwait(false);
                var version = await WithTimeout(VersionTimeout, ct => probe.System.GetVersionAsync(ct), cancellationToken).ConfigureAwait(false);
                var engineApi = Version.TryParse(version.APIVersion, out var parsed) ? parsed : MaxApiVersion;
                ApiVersion = engineApi < MaxApiVersion ? engineApi : MaxApiVersion;
                EngineVersion = version.Version;
                EnginePlatform = string.IsNullOrEmpty(version.Os) || string.IsNullOrEmpty(version.Arch)
                    ? null
                    : Platform.Normalize(new Platform { Os = version.Os.ToLowerInvariant(), Architecture = version.Arch.ToLowerInvariant() });
                _client = EngineClientFactory.Create(Endpoint, ApiVersion, _tls);
                return _client;
            }
            finally
            {
                _connectGate.Release();
            }
        }

        /// <summary>A missing socket file is the commonest case ("is the daemon running?"): say so without trying.</summary>
        private void CheckSocket()
        {
            if (Endpoint.Uri.Scheme != "unix") return;
            var path = Endpoint.Uri.AbsolutePath;
            if (!File.Exists(path))
                throw Unreachable($"no socket at {path}", null);
        }

        private Task<T> WithConnectTimeout<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
            WithTimeout(ConnectTimeout, call, cancellationToken);

        private async Task<T> WithTimeout<T>(TimeSpan limit, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(limit);
            var task = call(timeout.Token);
            // The transport may not honour cancellation while connecting; never wait longer than the time-out anyway.
            var finished = await Task.WhenAny(task, Task.Delay(limit + TimeSpan.FromMilliseconds(500), cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            if (finished != task)
            {
                _ = task.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                throw Unreachable($"no answer within {limit.TotalSeconds:0.#} s", null);
            }
            try
            {
                return await task.ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw Unreachable($"no answer within {limit.TotalSeconds:0.#} s", e);
            }
            catch (DockerApiException e)
            {
                throw RefusedVersion(e);
            }
            catch (Exception e) when (ConnectionFailure(e) is { } failure)
            {
                throw failure;
            }
        }

        /// <summary>
        /// The probe (GET /_ping, /version) answered with an HTTP error: a TLS engine spoken to in plain HTTP (Go's server answers 400
        /// "Client sent an HTTP request to an HTTPS server"), or something that is not an engine API.
        /// </summary>
        private ImageModuleException RefusedVersion(DockerApiException e)
        {
            var message = ApiMessage(e);
            if (!Endpoint.UsesTls && e.StatusCode == HttpStatusCode.BadRequest && message.IndexOf("HTTPS", StringComparison.OrdinalIgnoreCase) >= 0)
                return new ImageModuleException(EngineErrors.TlsError, ErrorKind.ConnectionError,
                    $"The {Kind} engine at {Location} speaks TLS and was spoken to in plain HTTP. Set DOCKER_TLS_VERIFY=1 and " +
                    "DOCKER_CERT_PATH to the directory holding its ca.pem, cert.pem and key.pem, as for the docker CLI.", Location, e);
            return new ImageModuleException(EngineErrors.EngineError, ErrorKind.ConnectionError,
                $"{Location} answered the engine API probe (GET /_ping, /version) with HTTP {(int)e.StatusCode}; is it a {Kind} engine API? ({Truncate(message, 200)})", Location, e);
        }

        private static string Truncate(string text, int length) => text.Length <= length ? text : text.Substring(0, length) + "…";

        /// <summary>Runs one API call, mapping transport and API failures to ImageModuleExceptions.</summary>
        private async Task<T> CallAsync<T>(Func<DockerClient, Task<T>> call, string? target, CancellationToken cancellationToken)
        {
            var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await call(client).ConfigureAwait(false);
            }
            catch (DockerImageNotFoundException) when (target != null)
            {
                throw new ImageNotFoundException(target, $"No such image in {Kind} engine {Location}: {target}");
            }
            catch (DockerApiException e) when (e.StatusCode == HttpStatusCode.NotFound && target != null)
            {
                throw new ImageNotFoundException(target, $"No such image in {Kind} engine {Location}: {target}");
            }
            catch (DockerApiException e)
            {
                throw new ImageModuleException(EngineErrors.EngineError, KindOf(e.StatusCode),
                    $"{Kind} engine {Location} refused the request ({(int)e.StatusCode}): {ApiMessage(e)}", target, e);
            }
            catch (Exception e) when (!(e is ImageModuleException) && !(e is OperationCanceledException) && ConnectionFailure(e) is { } failure)
            {
                throw failure;
            }
        }

        private Task CallAsync(Func<DockerClient, Task> call, string? target, CancellationToken cancellationToken) =>
            CallAsync(async c => { await call(c).ConfigureAwait(false); return true; }, target, cancellationToken);

        private static ErrorKind KindOf(HttpStatusCode status) => (int)status switch
        {
            400 => ErrorKind.InvalidArgument,
            401 => ErrorKind.AuthenticationError,
            403 => ErrorKind.PermissionDenied,
            404 => ErrorKind.ObjectNotFound,
            409 => ErrorKind.InvalidOperation,
            _ => ErrorKind.ResourceUnavailable,
        };

        /// <summary>The engine's error text: its JSON body's "message", else the body as it is.</summary>
        internal static string ApiMessage(DockerApiException e)
        {
            var body = e.ResponseBody ?? "";
            try
            {
                using var doc = JsonDocument.Parse(body);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String)
                    return m.GetString() ?? body;
            }
            catch (JsonException) { }
            return body.Trim();
        }

        /// <summary>An unreachable or forbidden engine, recognised anywhere in an exception chain; null for other failures.</summary>
        private ImageModuleException? ConnectionFailure(Exception exception)
        {
            if (exception is ImageModuleException known) return known;
            if (_tls?.Explain(exception) is { } tls) return tls;
            for (var e = exception; e != null; e = e.InnerException)
            {
                if (e is ImageModuleException inner) return inner;
                if (e is UnauthorizedAccessException || e is SocketException { SocketErrorCode: SocketError.AccessDenied })
                    return new ImageModuleException(EngineErrors.AccessDenied, ErrorKind.PermissionDenied,
                        $"Permission denied on the {Kind} engine socket {Location}. Add your user to the engine's group (docker) or use a socket you may open (rootless podman: $XDG_RUNTIME_DIR/podman/podman.sock).",
                        Location, exception);
                if (e is SocketException socket)
                    return Unreachable(socket.Message, exception);
                if (e is TimeoutException)
                    return Unreachable(e.Message, exception);
            }
            if (exception is HttpRequestException || exception is IOException)
                return Unreachable(exception.GetBaseException().Message, exception);
            return null;
        }

        private ImageModuleException Unreachable(string reason, Exception? inner) =>
            new(EngineErrors.Unreachable, ErrorKind.ConnectionError,
                $"Cannot reach the {Kind} engine at {Location} ({reason}). Is it running? (podman: podman system service; docker: dockerd)",
                Location, inner);

        /// <summary>
        /// The platform images are chosen for when none is asked, for this engine: DOCKER_DEFAULT_PLATFORM as docker reads
        /// it, else the engine's own OS and architecture (a Windows engine in Windows-containers mode says windows), else
        /// <see cref="Platform.Default"/>.
        /// </summary>
        public async Task<Platform> DefaultPlatformAsync(CancellationToken cancellationToken)
        {
            var configured = Platform.FromEnvironment(Environment.GetEnvironmentVariable);
            if (configured != null) return configured;
            await ClientAsync(cancellationToken).ConfigureAwait(false);
            return EnginePlatform ?? Platform.Default;
        }

        // ---- listing -------------------------------------------------------------------------------------------

        public async Task<IReadOnlyList<Image>> ListAsync(CancellationToken cancellationToken)
        {
            var listed = await CallAsync(c => c.Images.ListImagesAsync(new ImagesListParameters { All = false }, cancellationToken), null, cancellationToken).ConfigureAwait(false);
            var details = await InspectAllAsync(listed.Select(i => i.ID).Distinct().ToList(), cancellationToken).ConfigureAwait(false);
            var images = new List<Image>();
            foreach (var item in listed.OrderByDescending(i => i.Created))
            {
                details.TryGetValue(item.ID, out var inspect);
                var tags = (item.RepoTags ?? new List<string>())
                    .Select(t => ImageReference.TryParse(t, out var r, out _, defaultTag: false) ? r : null)
                    .Where(r => r?.Tag != null).Select(r => r!).ToList();
                var digests = (item.RepoDigests ?? new List<string>())
                    .Select(d => ImageReference.TryParse(d, out var r, out _, defaultTag: false) ? r : null)
                    .Where(r => r?.Digest != null).Select(r => r!).ToList();
                var repoTags = tags.Select(t => t.ToString()).Distinct().ToList();
                var repoDigests = digests.Select(d => d.ToString()).Distinct().ToList();
                if (tags.Count > 0)
                {
                    foreach (var tag in tags)
                    {
                        var digest = digests.FirstOrDefault(d => d.Name == tag.Name)?.Digest?.ToString();
                        images.Add(ToImage(item, inspect, tag, tag.ToString(), digest, repoTags, repoDigests));
                    }
                }
                else if (digests.Count > 0)
                {
                    // Pulled by digest, never tagged: docker lists "repo <none>"; the name is the pinned reference.
                    foreach (var pinned in digests)
                        images.Add(ToImage(item, inspect, pinned, pinned.ToString(), pinned.Digest!.ToString(), repoTags, repoDigests));
                }
                else
                {
                    images.Add(ToImage(item, inspect, null, null, null, repoTags, repoDigests));
                }
            }
            return images;
        }

        private async Task<Dictionary<string, ImageInspectResponse>> InspectAllAsync(IReadOnlyList<string> ids, CancellationToken cancellationToken)
        {
            var result = new Dictionary<string, ImageInspectResponse>(StringComparer.Ordinal);
            using var gate = new SemaphoreSlim(InspectParallelism);
            var tasks = ids.Select(async id =>
            {
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    var inspect = await CallAsync(c => c.Images.InspectImageAsync(id, cancellationToken), id, cancellationToken).ConfigureAwait(false);
                    lock (result) result[id] = inspect;
                }
                catch (ImageNotFoundException)
                {
                    // Removed between the list and the inspect: the row keeps what the list said.
                }
                finally
                {
                    gate.Release();
                }
            }).ToList();
            await Task.WhenAll(tasks).ConfigureAwait(false);
            return result;
        }

        private Image ToImage(ImagesListResponse item, ImageInspectResponse? inspect, ImageReference? reference, string? name, string? digest,
            IReadOnlyList<string> repoTags, IReadOnlyList<string> repoDigests)
        {
            var labels = item.Labels ?? inspect?.Config?.Labels;
            var os = inspect?.Os ?? "";
            var architecture = inspect?.Architecture ?? "";
            var platform = os.Length == 0 ? "" : new Platform { Os = os, Architecture = architecture, Variant = string.IsNullOrEmpty(inspect?.Variant) ? null : inspect!.Variant }.ToString();
            return new Image
            {
                Repository = reference?.FamiliarName ?? "<none>",
                Tag = reference?.Tag ?? "<none>",
                Name = name,
                Id = item.ID,
                Digest = digest,
                Created = AsUtc(item.Created),
                Size = item.Size,
                // The engine keeps layers unpacked; there is no compressed form to report.
                CompressedSize = item.Size,
                SharedSize = Math.Max(0, item.SharedSize),
                Platform = platform,
                Os = os,
                Architecture = architecture,
                Author = string.IsNullOrEmpty(inspect?.Author) ? null : inspect!.Author,
                Labels = labels != null ? new Dictionary<string, string>(labels) : new Dictionary<string, string>(),
                Config = ToContainerConfig(inspect?.Config),
                RepoTags = repoTags,
                RepoDigests = repoDigests,
                LayerDiffIds = inspect?.RootFS?.Layers?.ToList() ?? new List<string>(),
                MediaType = MediaTypes.DockerManifest,
                Location = Location,
                StoreKind = Kind,
            };
        }

        private static DateTimeOffset? AsUtc(DateTime? time)
        {
            if (time is null || time.Value == default) return null;
            var t = time.Value;
            return new DateTimeOffset(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc));
        }

        private static ContainerConfig ToContainerConfig(DockerOCIImageConfig? c)
        {
            if (c is null) return new ContainerConfig();
            return new ContainerConfig
            {
                User = string.IsNullOrEmpty(c.User) ? null : c.User,
                ExposedPorts = c.ExposedPorts?.ToDictionary(p => p.Key, _ => new EmptyObject()),
                Env = c.Env?.ToList(),
                Entrypoint = c.Entrypoint?.ToList(),
                Cmd = c.Cmd?.ToList(),
                Volumes = c.Volumes?.ToDictionary(p => p.Key, _ => new EmptyObject()),
                WorkingDir = string.IsNullOrEmpty(c.WorkingDir) ? null : c.WorkingDir,
                Labels = c.Labels?.ToDictionary(p => p.Key, p => p.Value),
                StopSignal = string.IsNullOrEmpty(c.StopSignal) ? null : c.StopSignal,
                OnBuild = c.OnBuild?.ToList(),
                Shell = c.Shell?.ToList(),
            };
        }

        /// <summary>What the engine calls an image row by: its name, or its ID when it has none.</summary>
        private static string EngineReference(Image image) => image.Name ?? image.Id;

        // ---- layers -------------------------------------------------------------------------------------------

        public async Task<IReadOnlyList<ImageLayer>> GetLayersAsync(Image image, CancellationToken cancellationToken)
        {
            var reference = EngineReference(image);
            var inspect = await CallAsync(c => c.Images.InspectImageAsync(reference, cancellationToken), reference, cancellationToken).ConfigureAwait(false);
            var history = await CallAsync(c => c.Images.GetImageHistoryAsync(reference, cancellationToken), reference, cancellationToken).ConfigureAwait(false);
            var diffIds = inspect.RootFS?.Layers?.ToList() ?? new List<string>();

            var others = (await ListAsync(cancellationToken).ConfigureAwait(false)).Where(i => i.Id != inspect.ID).ToList();
            var usersByDiffId = others.SelectMany(i => i.LayerDiffIds.Select(d => (DiffId: d, Name: i.Name ?? i.ShortId)))
                .GroupBy(x => x.DiffId)
                .ToDictionary(g => g.Key, g => (IReadOnlyList<string>)g.Select(x => x.Name).Distinct().ToList());

            // The API gives history newest first, without the config's empty_layer flags; work oldest first.
            var entries = history.Reverse().ToList();
            var empty = EmptyLayerFlags(entries, diffIds.Count);
            var imageName = image.Name ?? image.ShortId;
            var layers = new List<ImageLayer>();
            var layerIndex = 0;
            for (var i = 0; i < entries.Count; i++)
            {
                var h = entries[i];
                var isEmpty = empty[i] || layerIndex >= diffIds.Count;
                var diffId = isEmpty ? null : diffIds[layerIndex];
                layers.Add(new ImageLayer
                {
                    Index = isEmpty ? Math.Max(0, layerIndex - 1) : layerIndex,
                    ImageName = imageName,
                    ImageId = inspect.ID,
                    DiffId = diffId,
                    // The engine stores layers uncompressed, addressed by diff ID.
                    Digest = diffId,
                    Size = isEmpty ? 0 : h.Size,
                    CompressedSize = isEmpty ? 0 : h.Size,
                    MediaType = isEmpty ? null : MediaTypes.DockerLayer,
                    CreatedBy = h.CreatedBy,
                    Created = AsUtc(h.Created),
                    Comment = string.IsNullOrEmpty(h.Comment) ? null : h.Comment,
                    EmptyLayer = isEmpty,
                    SharedBy = diffId != null && usersByDiffId.TryGetValue(diffId, out var users) ? users : Array.Empty<string>(),
                });
                if (!isEmpty) layerIndex++;
            }
            layers.Reverse();
            return layers;
        }

        /// <summary>
        /// Which history entries made no layer. The API drops the config's empty_layer flag, so: metadata steps
        /// ("#(nop)" with size 0) are empty; if that does not leave exactly one entry per layer, size 0 decides.
        /// </summary>
        internal static bool[] EmptyLayerFlags(IReadOnlyList<ImageHistoryResponse> oldestFirst, int layerCount)
        {
            var byNop = oldestFirst.Select(h => h.Size == 0 && (h.CreatedBy ?? "").Contains("#(nop)")).ToArray();
            if (byNop.Count(e => !e) == layerCount) return byNop;
            var bySize = oldestFirst.Select(h => h.Size == 0).ToArray();
            if (bySize.Count(e => !e) == layerCount) return bySize;
            // Still ambiguous (a step whose layer is empty): the newest zero-size entries are the extra ones.
            var flags = new bool[oldestFirst.Count];
            var extra = oldestFirst.Count - layerCount;
            for (var i = oldestFirst.Count - 1; i >= 0 && extra > 0; i--)
            {
                if (oldestFirst[i].Size == 0) { flags[i] = true; extra--; }
            }
            return flags;
        }

        // ---- tag / remove / prune ---------------------------------------------------------------------------

        public async Task<Image> TagAsync(Image source, ImageReference name, CancellationToken cancellationToken)
        {
            if (name.Tag is null) throw new InvalidReferenceException(name.ToString(), "a tag is required");
            var from = source.Id.Length > 0 ? source.Id : EngineReference(source);
            var parameters = new ImageTagParameters { RepositoryName = name.WithoutTagOrDigest().ToString(), Tag = name.Tag };
            await CallAsync(c => c.Images.TagImageAsync(from, parameters, cancellationToken), source.ToString(), cancellationToken).ConfigureAwait(false);
            var images = await ListAsync(cancellationToken).ConfigureAwait(false);
            return images.FirstOrDefault(i => i.Name == name.ToString())
                ?? throw new ImageNotFoundException(name.ToString(), $"{Kind} engine {Location} tagged {source} as {name} but does not list it");
        }

        public async Task RemoveAsync(Image image, bool force, CancellationToken cancellationToken)
        {
            var reference = EngineReference(image);
            try
            {
                await CallAsync(c => c.Images.DeleteImageAsync(reference, new ImageDeleteParameters { Force = force }, cancellationToken), reference, cancellationToken).ConfigureAwait(false);
            }
            catch (ImageModuleException e) when (e.InnerException is DockerApiException { StatusCode: HttpStatusCode.Conflict } api)
            {
                var message = ApiMessage(api);
                if (message.IndexOf("container", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ImageModuleException(EngineErrors.ImageInUse, ErrorKind.InvalidOperation,
                        $"Image {image.Name ?? image.ShortId} is used by a container in {Kind} engine {Location}; remove the container or use -Force. ({message})", image, api);
                if (message.IndexOf("multiple repositories", StringComparison.OrdinalIgnoreCase) >= 0)
                    throw new ImageModuleException(EngineErrors.ImageHasMultipleNames, ErrorKind.InvalidOperation,
                        $"Image {image.ShortId} has several names in {Kind} engine {Location}; remove them by name or use -Force. ({message})", image, api);
                throw new ImageModuleException(EngineErrors.EngineError, ErrorKind.InvalidOperation,
                    $"{Kind} engine {Location} refused to remove {image.Name ?? image.ShortId}: {message}", image, api);
            }
        }

        /// <summary>Removes every dangling image (docker image prune). Returns how many and the bytes freed.</summary>
        public async Task<(int Images, long Bytes)> PruneAsync(CancellationToken cancellationToken)
        {
            var parameters = new ImagesPruneParameters
            {
                Filters = new Dictionary<string, IDictionary<string, bool>> { ["dangling"] = new Dictionary<string, bool> { ["true"] = true } },
            };
            var pruned = await CallAsync(c => c.Images.PruneImagesAsync(parameters, cancellationToken), null, cancellationToken).ConfigureAwait(false);
            var count = pruned.ImagesDeleted?.Count(d => !string.IsNullOrEmpty(d.Deleted)) ?? 0;
            return (count, (long)Math.Min(long.MaxValue, pruned.SpaceReclaimed));
        }

        // ---- moves ------------------------------------------------------------------------------------------

        /// <summary>
        /// Engine → store: reads GET /images/get (docker save) front to back and ingests it into <paramref name="destination"/>
        /// as it arrives. The image ID (config digest) and diff IDs are unchanged. <paramref name="names"/> are names or IDs.
        /// </summary>
        /// <param name="platform">The platform asked for: every image must be for it (PlatformNotFound before anything moves).</param>
        public async Task<IReadOnlyList<LoadedImage>> SaveToAsync(IReadOnlyList<string> names, ITarget destination, LoadOptions? options,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken, Platform? platform = null)
        {
            if (names.Count == 0) return Array.Empty<LoadedImage>();
            var target = string.Join(", ", names);
            // Inspect first: a missing image is ImageNotFound (and one of another platform PlatformNotFound), not a failed archive.
            foreach (var name in names)
            {
                var inspect = await CallAsync(c => c.Images.InspectImageAsync(name, cancellationToken), name, cancellationToken).ConfigureAwait(false);
                if (platform != null)
                    PlatformCheck.Ensure(platform, new Platform { Os = inspect.Os ?? "", Architecture = inspect.Architecture ?? "", Variant = string.IsNullOrEmpty(inspect.Variant) ? null : inspect.Variant }, $"{Kind} image {name}");
            }
            var response = await CallAsync(c => c.Images.SaveImagesAsync(names.ToArray(), cancellationToken), target, cancellationToken).ConfigureAwait(false);
            using (var archive = new EngineResponseStream(response, cancellationToken))
            {
                try
                {
                    return await ArchiveLoader.LoadAsync(archive, destination, options, progress, cancellationToken, $"{Kind} {target}").ConfigureAwait(false);
                }
                catch (Exception e) when (!(e is ImageModuleException) && !(e is OperationCanceledException) && ConnectionFailure(e) is { } failure)
                {
                    throw failure;
                }
            }
        }

        /// <summary>
        /// Store → engine: writes a docker-archive of <paramref name="images"/> from <paramref name="source"/> into an
        /// in-memory pipe that POST /images/load reads as it is written (no temporary file). Returns what the engine
        /// reported loading ("name:tag" or image IDs).
        /// </summary>
        /// <param name="platform">The platform asked for (strict); without it, a multi-platform image goes as <see cref="DefaultPlatformAsync"/>.</param>
        public async Task<IReadOnlyList<string>> LoadFromAsync(IContentStore source, IReadOnlyList<SaveItem> images,
            IProgress<OperationProgress>? progress, CancellationToken cancellationToken, Platform? platform = null)
        {
            var client = await ClientAsync(cancellationToken).ConfigureAwait(false);
            // A multi-platform store image goes to the engine as the engine's platform (docker load takes one image).
            var preferred = await DefaultPlatformAsync(cancellationToken).ConfigureAwait(false);
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 8 << 20, resumeWriterThreshold: 4 << 20, useSynchronizationContext: false));
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var writer = Task.Run(async () =>
            {
                try
                {
                    using (var body = pipe.Writer.AsStream(leaveOpen: true))
                    {
                        await ArchiveWriter.SaveAsync(source, images, body, new SaveOptions { Format = SaveFormat.DockerAndOci, Platform = platform, PreferredPlatform = preferred }, progress, linked.Token).ConfigureAwait(false);
                    }
                    await pipe.Writer.CompleteAsync().ConfigureAwait(false);
                }
                catch (Exception e)
                {
                    await pipe.Writer.CompleteAsync(e).ConfigureAwait(false);
                    throw;
                }
            }, CancellationToken.None);

            var messages = new LoadMessages();
            Exception? loadFailure = null;
            try
            {
                using var body = pipe.Reader.AsStream(leaveOpen: true);
                await client.Images.LoadImageAsync(new ImageLoadParameters { Quiet = true }, body, messages, linked.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!(e is OperationCanceledException && cancellationToken.IsCancellationRequested))
            {
                loadFailure = e;
                linked.Cancel();
            }
            finally
            {
                // If the engine stopped reading early, the writer must not wait on a full pipe for ever.
                await pipe.Reader.CompleteAsync().ConfigureAwait(false);
            }

            try
            {
                await writer.ConfigureAwait(false);
            }
            catch (Exception) when (loadFailure != null && !(writer.Exception?.GetBaseException() is ImageModuleException))
            {
                // The writer only failed because the load did; report the load's failure below.
            }
            if (loadFailure != null)
            {
                if (loadFailure is DockerApiException api)
                    throw new ImageModuleException(EngineErrors.EngineLoadFailed, ErrorKind.InvalidData,
                        $"{Kind} engine {Location} refused the archive: {ApiMessage(api)}", Location, api);
                throw ConnectionFailure(loadFailure) ?? new ImageModuleException(EngineErrors.EngineLoadFailed, ErrorKind.InvalidData,
                    $"Loading into {Kind} engine {Location} failed: {loadFailure.GetBaseException().Message}", Location, loadFailure);
            }
            if (messages.Error != null)
                throw new ImageModuleException(EngineErrors.EngineLoadFailed, ErrorKind.InvalidData,
                    $"{Kind} engine {Location} refused the archive: {messages.Error}", Location);
            return messages.Loaded;
        }

        /// <summary>Collects the JSON messages of /images/load synchronously (Progress&lt;T&gt; would post them later).</summary>
        private sealed class LoadMessages : IProgress<JSONMessage>
        {
            private readonly object _gate = new();
            private readonly List<string> _loaded = new();

            public string? Error { get; private set; }
            public IReadOnlyList<string> Loaded { get { lock (_gate) return _loaded.ToList(); } }

            public void Report(JSONMessage value)
            {
                lock (_gate)
                {
                    if (!string.IsNullOrEmpty(value.Error?.Message)) Error ??= value.Error!.Message;
                    var text = (value.Stream ?? value.Status ?? "").Trim();
                    foreach (var prefix in new[] { "Loaded image ID: ", "Loaded image: " })
                    {
                        if (text.StartsWith(prefix, StringComparison.Ordinal)) _loaded.Add(text.Substring(prefix.Length).Trim());
                    }
                }
            }
        }
    }
}
