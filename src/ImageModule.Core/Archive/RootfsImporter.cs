using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Threading;
using System.Threading.Tasks;
using ImageModule.Compression;
using ImageModule.Content;
using ImageModule.Filesystem;
using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>
    /// Makes a one-layer image from a filesystem tarball (`docker import`). The tar (plain or compressed) is read once:
    /// its bytes are hashed (diff ID) and gzip-compressed into a temporary layer file, which is hashed as it is written.
    /// </summary>
    public static class RootfsImporter
    {
        public static async Task<LoadedImage> ImportAsync(string path, ITarget target, RootfsImportOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            return await ImportAsync(file, Path.GetFileName(path), target, options, progress, cancellationToken).ConfigureAwait(false);
        }

        public static async Task<LoadedImage> ImportAsync(Stream tarball, string sourceName, ITarget target, RootfsImportOptions? options = null,
            IProgress<OperationProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            options ??= new RootfsImportOptions();
            var platform = options.Platform ?? Platform.Current;
            var created = options.Created ?? DateTimeOffset.UtcNow;
            var containerConfig = ConfigChanges.Apply(new ContainerConfig(), options.Changes);
            var total = tarball.CanSeek ? tarball.Length : -1;
            var activity = $"Importing {sourceName}";

            var tempPath = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "imagemodule-import-" + Guid.NewGuid().ToString("N"));
            try
            {
                Digest diffId, layerDigest;
                long layerSize;
                using (var diffHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                using (var layerHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
                {
                    using (var layerFile = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                    {
                        var hashing = new HashingWriteStream(layerFile, layerHash);
                        var counting = new CountingReadStream(tarball, done => progress?.Report(new OperationProgress { Activity = activity, Status = "Compressing", BytesDone = done, BytesTotal = total }));
                        using (var source = Decompression.Open(counting, out var compression))
                        using (var gzip = new GZipStream(hashing, CompressionLevel.Optimal, leaveOpen: true))
                        {
                            // Every byte goes to the layer as it is, but through a tar reader on the way, so a cut-off
                            // or corrupt tarball fails here (as docker import fails) instead of becoming a broken layer.
                            // Buffered: the reader's 512-byte header reads reach the copy as 64 KiB chunks.
                            var copy = new BufferedStream(new CopyingReadStream(source, diffHash, gzip), 1 << 16);
                            try
                            {
                                var reader = new TarReader(copy);
                                while (await reader.NextAsync(cancellationToken).ConfigureAwait(false) != null) { }
                                var buffer = new byte[1 << 16];
                                while (await copy.ReadAsync(buffer, 0, buffer.Length, cancellationToken).ConfigureAwait(false) > 0) { }
                            }
                            catch (Exception e) when (CorruptContent.IsDecoderFailure(e))
                            {
                                throw ArchiveErrors.Corrupt($"'{sourceName}' is not valid {compression} data: {e.Message}", sourceName);
                            }
                        }
                        layerSize = hashing.Written;
                    }
                    diffId = Digest.FromHash(Digest.Sha256, diffHash.GetHashAndReset());
                    layerDigest = Digest.FromHash(Digest.Sha256, layerHash.GetHashAndReset());
                }

                var config = new ImageConfig
                {
                    Created = created,
                    Architecture = platform.Architecture,
                    Os = platform.Os,
                    Variant = platform.Variant,
                    OsVersion = platform.OsVersion,
                    Config = containerConfig,
                    RootFs = new RootFs { Type = "layers", DiffIds = new List<Digest> { diffId } },
                    History = new List<HistoryEntry> { new() { Created = created, CreatedBy = $"ImageModule Import-Image {sourceName}", Comment = options.Message } },
                };
                var configBytes = OciJson.Serialize(config);
                var configDesc = new Descriptor(MediaTypes.OciConfig, Digest.Compute(configBytes), configBytes.Length);
                var layerDesc = new Descriptor(MediaTypes.OciLayerGzip, layerDigest, layerSize);
                var manifest = new Manifest { SchemaVersion = 2, MediaType = MediaTypes.OciManifest, Config = configDesc, Layers = new[] { layerDesc } };
                var manifestBytes = OciJson.Serialize(manifest);
                var manifestDesc = new Descriptor(MediaTypes.OciManifest, Digest.Compute(manifestBytes), manifestBytes.Length);

                if (!await target.ExistsAsync(layerDesc, cancellationToken).ConfigureAwait(false))
                {
                    using var layer = File.OpenRead(tempPath);
                    await target.PushAsync(layerDesc, layer, null, cancellationToken).ConfigureAwait(false);
                }
                if (!await target.ExistsAsync(configDesc, cancellationToken).ConfigureAwait(false))
                    await target.PushAsync(configDesc, new MemoryStream(configBytes, false), null, cancellationToken).ConfigureAwait(false);
                if (!await target.ExistsAsync(manifestDesc, cancellationToken).ConfigureAwait(false))
                    await target.PushAsync(manifestDesc, new MemoryStream(manifestBytes, false), null, cancellationToken).ConfigureAwait(false);
                string? name = null;
                if (options.Name != null)
                {
                    name = ArchiveLoader.NormalizeName(options.Name);
                    await target.TagAsync(manifestDesc, name, cancellationToken).ConfigureAwait(false);
                }
                progress?.Report(new OperationProgress { Activity = activity, Status = "Done", BytesDone = Math.Max(0, total), BytesTotal = total, Completed = true });
                return new LoadedImage(name, manifestDesc);
            }
            finally
            {
                try { File.Delete(tempPath); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
        }

        /// <summary>Hands every byte read through it to the diff ID hash and the compressing layer writer.</summary>
        private sealed class CopyingReadStream : ReadOnlyStream
        {
            private readonly Stream _source;
            private readonly IncrementalHash _hash;
            private readonly Stream _output;

            public CopyingReadStream(Stream source, IncrementalHash hash, Stream output) { _source = source; _hash = hash; _output = output; }

            public override int Read(byte[] buffer, int offset, int count) =>
                ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

            public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                var n = await _source.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                if (n <= 0) return n;
                _hash.AppendData(buffer, offset, n);
                await _output.WriteAsync(buffer, offset, n, cancellationToken).ConfigureAwait(false);
                return n;
            }
        }

        /// <summary>Hashes and counts what is written through it.</summary>
        private sealed class HashingWriteStream : Stream
        {
            private readonly Stream _inner;
            private readonly IncrementalHash _hash;
            public HashingWriteStream(Stream inner, IncrementalHash hash) { _inner = inner; _hash = hash; }
            public long Written { get; private set; }
            public override void Write(byte[] buffer, int offset, int count)
            {
                _hash.AppendData(buffer, offset, count);
                _inner.Write(buffer, offset, count);
                Written += count;
            }
            public override async Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            {
                _hash.AppendData(buffer, offset, count);
                await _inner.WriteAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
                Written += count;
            }
            public override bool CanRead => false;
            public override bool CanSeek => false;
            public override bool CanWrite => true;
            public override long Length => Written;
            public override long Position { get => Written; set => throw new NotSupportedException(); }
            public override void Flush() => _inner.Flush();
            public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
            public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
            public override void SetLength(long value) => throw new NotSupportedException();
        }
    }
}
