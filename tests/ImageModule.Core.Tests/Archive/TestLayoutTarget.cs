using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using ImageModule;
using ImageModule.Content;
using ImageModule.Oci;

namespace ImageModule.Tests.Archive
{
    /// <summary>A minimal OCI layout target for tests (skopeo and umoci can read it): blobs verified on push, names in index.json.</summary>
    internal sealed class TestLayoutTarget : ITarget
    {
        public TestLayoutTarget(string root)
        {
            Root = root;
            Directory.CreateDirectory(Path.Combine(root, "blobs", "sha256"));
            File.WriteAllText(Path.Combine(root, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
            if (!File.Exists(IndexPath)) File.WriteAllText(IndexPath, "{\"schemaVersion\":2,\"manifests\":[]}");
        }

        public string Root { get; }
        public int Pushes { get; private set; }
        public List<(string Reference, Descriptor Manifest)> Tags { get; } = new();
        private string IndexPath => Path.Combine(Root, "index.json");
        private string BlobPath(Digest d) => Path.Combine(Root, "blobs", d.Algorithm, d.Hex);

        public Task<bool> ExistsAsync(Descriptor target, CancellationToken cancellationToken) => Task.FromResult(File.Exists(BlobPath(target.Digest)));

        public Task<Stream> FetchAsync(Descriptor target, CancellationToken cancellationToken)
        {
            var file = File.OpenRead(BlobPath(target.Digest));
            Stream s = target.Size < 0 ? file : new VerifyingStream(file, target);
            return Task.FromResult(s);
        }

        public async Task PushAsync(Descriptor expected, Stream content, IProgress<long>? bytesWritten, CancellationToken cancellationToken)
        {
            var temp = BlobPath(expected.Digest) + ".tmp" + Guid.NewGuid().ToString("N");
            using (var v = new VerifyingStream(content, expected, leaveOpen: true))
            using (var f = File.Create(temp))
                await v.CopyToAsync(f, 81920, cancellationToken);
            File.Move(temp, BlobPath(expected.Digest), true);
            Pushes++;
        }

        public Task<Descriptor> ResolveAsync(string reference, CancellationToken cancellationToken)
        {
            var index = OciJson.Deserialize<ImageIndex>(File.ReadAllBytes(IndexPath), "index");
            var d = index.Manifests.FirstOrDefault(m => m.Annotation(AnnotationKeys.RefName) == reference || m.Annotation(AnnotationKeys.ContainerdImageName) == reference);
            return d != null ? Task.FromResult(d) : throw new ImageNotFoundException(reference);
        }

        public Task TagAsync(Descriptor manifest, string reference, CancellationToken cancellationToken)
        {
            var index = OciJson.Deserialize<ImageIndex>(File.ReadAllBytes(IndexPath), "index");
            var list = index.Manifests.Where(m => m.Annotation(AnnotationKeys.RefName) != reference).ToList();
            list.Add(new Descriptor(manifest.MediaType, manifest.Digest, manifest.Size)
            {
                Annotations = new Dictionary<string, string> { [AnnotationKeys.RefName] = reference, [AnnotationKeys.ContainerdImageName] = reference },
            });
            File.WriteAllBytes(IndexPath, OciJson.Serialize(index with { Manifests = list }));
            Tags.Add((reference, manifest));
            return Task.CompletedTask;
        }

        public IReadOnlyList<Descriptor> IndexEntries() => OciJson.Deserialize<ImageIndex>(File.ReadAllBytes(IndexPath), "index").Manifests;
    }

    internal static class Tool
    {
        public static string Run(string file, params string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new Exception($"{file} {string.Join(" ", args)} failed ({p.ExitCode}): {stderr}");
            return stdout.Result;
        }

        public static string TempDir()
        {
            var d = Path.Combine(Path.GetTempPath(), "im-archive-test-" + Guid.NewGuid().ToString("N").Substring(0, 10));
            Directory.CreateDirectory(d);
            return d;
        }

        /// <summary>Builds a 2-layer image with umoci: layer 1 has files, dirs, a symlink, a hardlink; layer 2 deletes a file and makes a dir opaque.</summary>
        public static string BuildUmociImage(string work)
        {
            var layout = Path.Combine(work, "layout");
            var bundle = Path.Combine(work, "bundle");
            Run("umoci", "init", "--layout", layout);
            Run("umoci", "new", "--image", layout + ":t");
            Run("umoci", "unpack", "--rootless", "--image", layout + ":t", bundle);
            var rootfs = Path.Combine(bundle, "rootfs");
            Directory.CreateDirectory(Path.Combine(rootfs, "etc"));
            File.WriteAllText(Path.Combine(rootfs, "etc", "hello.txt"), "hello\n");
            File.WriteAllText(Path.Combine(rootfs, "etc", "gone.txt"), "bye\n");
            Directory.CreateDirectory(Path.Combine(rootfs, "opq", "sub"));
            File.WriteAllText(Path.Combine(rootfs, "opq", "old.txt"), "old\n");
            File.WriteAllText(Path.Combine(rootfs, "opq", "sub", "deep.txt"), "deep\n");
            Directory.CreateDirectory(Path.Combine(rootfs, "bin"));
            File.WriteAllText(Path.Combine(rootfs, "bin", "tool"), "#!/bin/sh\necho tool\n");
            Run("chmod", "0755", Path.Combine(rootfs, "bin", "tool"));
            Run("ln", "-s", "../etc/hello.txt", Path.Combine(rootfs, "bin", "link"));
            Run("ln", Path.Combine(rootfs, "etc", "hello.txt"), Path.Combine(rootfs, "etc", "hard.txt"));
            Run("umoci", "repack", "--image", layout + ":t", bundle);
            Directory.Delete(bundle, true);
            Run("umoci", "unpack", "--rootless", "--image", layout + ":t", bundle);
            File.Delete(Path.Combine(rootfs, "etc", "gone.txt"));
            Directory.Delete(Path.Combine(rootfs, "opq"), true);
            Directory.CreateDirectory(Path.Combine(rootfs, "opq"));
            File.WriteAllText(Path.Combine(rootfs, "opq", "new.txt"), "new\n");
            File.WriteAllText(Path.Combine(rootfs, "etc", "hello.txt"), "hello v2\n");
            Run("umoci", "repack", "--image", layout + ":t", bundle);
            Directory.Delete(bundle, true);
            return layout;
        }
    }
}
