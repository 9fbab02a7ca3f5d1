using System;
using ImageModule.Oci;

namespace ImageModule.Filesystem
{
    /// <summary>Options of <see cref="ImageFilesystem.ExpandAsync(System.Collections.Generic.IReadOnlyList{LayerSource}, string, ExpandOptions?, System.IProgress{ImageModule.Content.OperationProgress}?, System.Threading.CancellationToken)"/>.</summary>
    public sealed record ExpandOptions
    {
        /// <summary>Receives warnings (skipped device nodes, unsupported links on Windows).</summary>
        public Action<string>? Warning { get; init; }
        /// <summary>Set owners from the layers; default: only when running as root (`umoci unpack --rootless` otherwise).</summary>
        public bool? PreserveOwnership { get; init; }
        /// <summary>Platform chosen from multi-platform images; default the current one.</summary>
        public Platform? Platform { get; init; }
        /// <summary>
        /// Where a missing or empty destination is built before it is renamed into place (default: a hidden directory
        /// beside it). The cmdlets name one their store's lease owns, so what a killed process left is cleaned by the
        /// next command that writes there.
        /// </summary>
        public string? StagingPath { get; init; }
    }
}
