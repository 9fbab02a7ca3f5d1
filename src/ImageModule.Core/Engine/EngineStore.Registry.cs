using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using Docker.DotNet.Models;
using ImageModule.Content;
using ImageModule.References;
using ImageModule.Registry;

namespace ImageModule.Engine
{
    /// <summary>Pull and push done by the engine itself (docker pull / docker push), with our credentials.</summary>
    public sealed partial class EngineStore
    {
        /// <summary>POST /images/create: the engine pulls <paramref name="reference"/>; its progress becomes ours.</summary>
        /// <param name="platform">docker pull --platform: the engine takes that image of a multi-platform one (null: its own).</param>
        public Task PullAsync(ImageReference reference, RegistryCredential? credential, IProgress<OperationProgress>? progress, CancellationToken cancellationToken,
            Oci.Platform? platform = null)
        {
            var parameters = new ImagesCreateParameters
            {
                FromImage = reference.WithoutTagOrDigest().Name,
                Tag = reference.Digest?.ToString() ?? reference.Tag ?? "latest",
                Platform = platform?.ToString(),
            };
            var messages = new RegistryMessages($"Pulling {reference} into {Kind}", progress);
            return RunRegistryCallAsync(c => c.Images.CreateImageAsync(parameters, Auth(reference, credential), messages, cancellationToken), reference, messages, cancellationToken);
        }

        /// <summary>POST /images/{name}/push: the engine pushes an image it holds under <paramref name="reference"/>.</summary>
        /// <returns>The manifest digest the registry now serves, as the engine reported it (null if it did not).</returns>
        public async Task<string?> PushAsync(ImageReference reference, RegistryCredential? credential, IProgress<OperationProgress>? progress, CancellationToken cancellationToken)
        {
            var parameters = new ImagePushParameters { Tag = reference.Tag ?? "latest" };
            var messages = new RegistryMessages($"Pushing {reference} from {Kind}", progress);
            await RunRegistryCallAsync(c => c.Images.PushImageAsync(reference.WithoutTagOrDigest().Name, parameters, Auth(reference, credential), messages, cancellationToken), reference, messages, cancellationToken).ConfigureAwait(false);
            return messages.Digest;
        }

        private async Task RunRegistryCallAsync(Func<Docker.DotNet.DockerClient, Task> call, ImageReference reference, RegistryMessages messages, CancellationToken cancellationToken)
        {
            await CallAsync(call, reference.ToString(), cancellationToken).ConfigureAwait(false);
            messages.Complete();
            // The engine reports registry failures inside the stream, with a 200 status.
            if (messages.Error is { } error)
            {
                var kind = error.IndexOf("unauthorized", StringComparison.OrdinalIgnoreCase) >= 0 || error.IndexOf("authentication required", StringComparison.OrdinalIgnoreCase) >= 0
                    ? ErrorKind.AuthenticationError
                    : error.IndexOf("not found", StringComparison.OrdinalIgnoreCase) >= 0 || error.IndexOf("manifest unknown", StringComparison.OrdinalIgnoreCase) >= 0 || error.IndexOf("does not exist", StringComparison.OrdinalIgnoreCase) >= 0
                        ? ErrorKind.ObjectNotFound
                        : ErrorKind.InvalidOperation;
                var id = kind == ErrorKind.AuthenticationError ? "RegistryUnauthorized" : kind == ErrorKind.ObjectNotFound ? "ImageNotFound" : EngineErrors.EngineError;
                throw new ImageModuleException(id, kind, $"{Kind} engine {Location}: {error}", reference.ToString());
            }
        }

        /// <summary>X-Registry-Auth for the engine; null when anonymous. The engine sends it to the registry only.</summary>
        private static AuthConfig? Auth(ImageReference reference, RegistryCredential? credential) =>
            credential is null ? null : new AuthConfig
            {
                Username = credential.UserName,
                Password = credential.Password,
                ServerAddress = reference.IsDockerHub ? DockerCredentialStore.DockerHubKey : reference.Registry,
            };

        /// <summary>Turns the engine's per-layer JSON messages into progress records, synchronously, and keeps the first error.</summary>
        private sealed class RegistryMessages : IProgress<JSONMessage>
        {
            private readonly string _activity;
            private readonly IProgress<OperationProgress>? _progress;
            private readonly Dictionary<string, int> _layers = new();
            private readonly object _gate = new();

            public RegistryMessages(string activity, IProgress<OperationProgress>? progress)
            {
                _activity = activity;
                _progress = progress;
            }

            public string? Error { get; private set; }

            /// <summary>From the push's last status, "latest: digest: sha256:… size: 527".</summary>
            public string? Digest { get; private set; }

            public void Report(JSONMessage value)
            {
                lock (_gate)
                {
                    if (!string.IsNullOrEmpty(value.Error?.Message)) Error ??= value.Error!.Message;
                    var status = value.Status ?? "";
                    var at = status.IndexOf("digest: ", StringComparison.Ordinal);
                    if (at >= 0) Digest = status.Substring(at + 8).Split(' ')[0];
                    if (_progress is null) return;
                    if (string.IsNullOrEmpty(value.ID))
                    {
                        if (!string.IsNullOrEmpty(value.Status)) _progress.Report(new OperationProgress { Id = 1, Activity = _activity, Status = value.Status! });
                        return;
                    }
                    if (!_layers.TryGetValue(value.ID!, out var id)) _layers[value.ID!] = id = _layers.Count + 2;
                    _progress.Report(new OperationProgress
                    {
                        Id = id,
                        ParentId = 1,
                        Activity = value.ID!,
                        Status = value.Status ?? "",
                        BytesDone = value.Progress?.Current ?? 0,
                        BytesTotal = value.Progress?.Total ?? 0,
                    });
                }
            }

            public void Complete() => _progress?.Report(new OperationProgress { Id = 1, Activity = _activity, Status = "Done", Completed = true });
        }
    }
}
