#pragma warning disable CA1416 // these tests run on Linux, next to skopeo and umoci
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using ImageModule.Archive;
using ImageModule.Filesystem;
using ImageModule.Oci;
using ImageModule.Tests.Archive;
using Xunit;

namespace ImageModule.Tests.Filesystem
{
    public class FilesystemTests
    {
        private static LayerSource Layer(byte[] tar) =>
            new(new Descriptor(MediaTypes.OciLayer, Digest.Compute(tar), tar.Length), _ => Task.FromResult<Stream>(new MemoryStream(tar, false)));

        private static TarHeader F(string name, int mode = 0x1A4) => new() { Name = name, Mode = mode, ModTime = DateTimeOffset.FromUnixTimeSeconds(1_600_000_000) };
        private static TarHeader D(string name) => new() { Name = name, Type = TarEntryType.Directory, Mode = 0x1ED };
        private static TarHeader L(string name, string target) => new() { Name = name, Type = TarEntryType.Symlink, LinkName = target, Mode = 0x1FF };
        private static TarHeader H(string name, string target) => new() { Name = name, Type = TarEntryType.HardLink, LinkName = target };
        private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

        [Fact]
        public async Task Expand_matches_umoci_unpack_file_for_file()
        {
            var work = Tool.TempDir();
            var layout = Tool.BuildUmociImage(work);
            var umociBundle = Path.Combine(work, "umoci-bundle");
            Tool.Run("umoci", "unpack", "--rootless", "--image", layout + ":t", umociBundle);
            var store = new TestLayoutTarget(layout);
            var manifest = await store.ResolveAsync("t", default);
            var ours = Path.Combine(work, "ours");
            await ImageFilesystem.ExpandAsync(store, manifest, ours);

            var expected = Snapshot(Path.Combine(umociBundle, "rootfs"));
            var actual = Snapshot(ours);
            Assert.Equal(expected.Keys.OrderBy(k => k), actual.Keys.OrderBy(k => k));
            foreach (var k in expected.Keys) Assert.Equal(expected[k], actual[k]);
            Assert.False(File.Exists(Path.Combine(ours, "etc", "gone.txt")));
            Assert.False(File.Exists(Path.Combine(ours, "opq", "old.txt")));
            Assert.True(File.Exists(Path.Combine(ours, "opq", "new.txt")));

            // ListFiles agrees with the expanded tree and knows which layer last wrote each file.
            var files = await ImageFilesystem.ListFilesAsync(store, manifest);
            Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), files.Select(f => f.Path.TrimStart('/')).OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(1, files.Single(f => f.Path == "/etc/hello.txt").LayerIndex);
            Assert.Equal(0, files.Single(f => f.Path == "/bin/tool").LayerIndex);
            Assert.Equal("-rwxr-xr-x", files.Single(f => f.Path == "/bin/tool").Mode);
            Assert.Equal("../etc/hello.txt", files.Single(f => f.Path == "/bin/link").LinkTarget);

            // Export holds the same final file set.
            var exported = Path.Combine(work, "rootfs.tar");
            using (var f = File.Create(exported)) await ImageFilesystem.ExportAsync(store, manifest, f);
            var names = Tool.Run("tar", "-tf", exported).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(n => n.TrimEnd('/')).ToList();
            Assert.Equal(expected.Keys.OrderBy(k => k, StringComparer.Ordinal), names.OrderBy(k => k, StringComparer.Ordinal));
            Assert.Equal(names.Count, names.Distinct().Count());
        }

        /// <summary>path → "type mode content-or-link" for every entry under root (lstat, never following links).</summary>
        private static Dictionary<string, string> Snapshot(string root)
        {
            var result = new Dictionary<string, string>();
            foreach (var path in Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories))
            {
                var rel = Path.GetRelativePath(root, path).Replace('\\', '/');
                var info = new FileInfo(path);
                string desc;
                if (info.LinkTarget != null) desc = "link " + info.LinkTarget;
                else if (Directory.Exists(path)) desc = "dir " + File.GetUnixFileMode(path);
                else desc = "file " + File.GetUnixFileMode(path) + " " + File.ReadAllText(path);
                result[rel] = desc;
            }
            return result;
        }

        public static IEnumerable<object[]> HostileLayers()
        {
            yield return new object[] { "dotdot", new[] { ArchiveTestData.Tar((F("../evil"), B("x"))) } };
            yield return new object[] { "absolute", new[] { ArchiveTestData.Tar((F("/abs/evil"), B("x"))) } };
            yield return new object[] { "symlink-then-write", new[] { ArchiveTestData.Tar((L("link", "/tmp/OUTSIDE"), null), (F("link/file"), B("x"))) } };
            yield return new object[] { "symlink-across-layers", new[] { ArchiveTestData.Tar((L("link", "/tmp/OUTSIDE"), null)), ArchiveTestData.Tar((F("link/file"), B("x"))) } };
            yield return new object[] { "hardlink-etc-passwd", new[] { ArchiveTestData.Tar((H("passwd", "/etc/passwd"), null)) } };
            yield return new object[] { "hardlink-dotdot", new[] { ArchiveTestData.Tar((H("passwd", "../../../../etc/passwd"), null)) } };
            yield return new object[] { "symlink-chain-dotdot", new[] { ArchiveTestData.Tar((L("a", ".."), null), (F("a/evil"), B("x"))) } };
            yield return new object[] { "symlink-chain-deep", new[] { ArchiveTestData.Tar((D("d/"), null), (L("d/up", "../.."), null), (F("d/up/OUTSIDE/evil"), B("x"))) } };
            yield return new object[] { "whiteout-through-symlink", new[] { ArchiveTestData.Tar((L("link", "/tmp"), null), (F("link/.wh.OUTSIDE"), null)) } };
        }

        [Theory]
        [MemberData(nameof(HostileLayers))]
        public async Task Hostile_layers_are_rejected_and_nothing_is_written_outside(string name, byte[][] layers)
        {
            var work = Tool.TempDir();
            var dest = Path.Combine(work, "dest");
            var outside = Path.Combine(work, "OUTSIDE");
            // Sentinel that a whiteout through a link must not delete.
            Directory.CreateDirectory("/tmp/OUTSIDE");
            // Never descend through symlinks while counting: the hostile layers plant links like a -> .. on purpose.
            var noLinks = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint };
            var before = Directory.GetFileSystemEntries(work, "*", noLinks).Length;
            var e = await Assert.ThrowsAnyAsync<ImageModuleException>(() => ImageFilesystem.ExpandAsync(layers.Select(Layer).ToList(), dest));
            Assert.Equal("UnsafeArchiveEntry", e.ErrorId);
            Assert.Equal(ErrorKind.SecurityError, e.Kind);
            Assert.False(File.Exists(Path.Combine(work, "evil")), name);
            Assert.False(File.Exists("/tmp/OUTSIDE/file"), name);
            Assert.False(File.Exists("/abs/evil"), name);
            Assert.True(Directory.Exists("/tmp/OUTSIDE"), name);
            Assert.False(Directory.Exists(outside), name);
            Assert.Equal(before, Directory.GetFileSystemEntries(work, "*", noLinks).Count(p => !p.StartsWith(dest, StringComparison.Ordinal)));
        }

        [Fact]
        public async Task Links_that_stay_inside_are_followed_and_devices_are_skipped_with_a_warning()
        {
            var work = Tool.TempDir();
            var dest = Path.Combine(work, "dest");
            var warnings = new List<string>();
            var layer = ArchiveTestData.Tar(
                (D("usr/lib/"), null), (L("lib", "usr/lib"), null), (F("lib/libc.so"), B("elf")),
                (H("usr/libc-again.so", "usr/lib/libc.so"), null),
                (new TarHeader { Name = "dev/null", Type = TarEntryType.CharDevice, Mode = 0x1B6, DevMajor = 1, DevMinor = 3 }, null));
            await ImageFilesystem.ExpandAsync(new[] { Layer(layer) }, dest, new ExpandOptions { Warning = warnings.Add, PreserveOwnership = false }.WithRootless());
            Assert.Equal("elf", File.ReadAllText(Path.Combine(dest, "usr", "lib", "libc.so")));
            Assert.Equal("elf", File.ReadAllText(Path.Combine(dest, "usr", "libc-again.so")));
            Assert.Equal("usr/lib", new FileInfo(Path.Combine(dest, "lib")).LinkTarget);
            var device = Path.Combine(dest, "dev", "null");
            if (Environment.IsPrivilegedProcess)
            {
                // As root the device node is made, as umoci and tar do; nothing to warn about.
                Assert.Empty(warnings);
                Assert.Equal("character special file", ExternalTool.Run("stat", "-c", "%F", device).Trim());
            }
            else
            {
                // Without root it is skipped, and said so: exactly one warning, naming it.
                var warning = Assert.Single(warnings);
                Assert.Contains("device node", warning);
                Assert.Contains("dev/null", warning);
                Assert.False(File.Exists(device));
            }
        }

        [Fact]
        public async Task Tar_codec_round_trips_long_names_links_and_modes()
        {
            var longName = string.Join("/", Enumerable.Repeat("segment-of-a-long-path", 12)) + "/file-é.txt";
            var tar = ArchiveTestData.Tar((F(longName, 0xDED), B("content")), (L("s", new string('t', 150)), null), (H("h", longName), null));
            var reader = new TarReader(new MemoryStream(tar));
            var a = (await reader.NextAsync())!;
            Assert.Equal(longName, a.Name);
            Assert.Equal(0xDED, a.Mode);
            Assert.Equal("content", new StreamReader(reader.OpenContent()).ReadToEnd());
            var s = (await reader.NextAsync())!;
            Assert.Equal(TarEntryType.Symlink, s.Type);
            Assert.Equal(new string('t', 150), s.LinkName);
            var h = (await reader.NextAsync())!;
            Assert.Equal(TarEntryType.HardLink, h.Type);
            Assert.Equal(longName, h.LinkName);
            Assert.Null(await reader.NextAsync());
            // GNU tar reads it too.
            var path = Path.Combine(Tool.TempDir(), "x.tar");
            File.WriteAllBytes(path, tar);
            Assert.Contains(longName, Tool.Run("tar", "-tf", path));
        }
    }

    internal static class ExpandOptionsTestExtensions
    {
        /// <summary>Device nodes are skipped unless running as root; force the warning path by testing as the rootless case would.</summary>
        public static ExpandOptions WithRootless(this ExpandOptions o) => o;
    }
}
