using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Save, load, import and export as a user types them.</summary>
    public sealed class ArchiveStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private dynamic Import(string name, int megabytes, int seed)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, name.Replace('/', '_').Replace(':', '_'), megabytes, seed));
            _session.SetVariable("name", name);
            return Assert.Single(_session.Objects("Import-Image -Path $tar -Name $name"));
        }

        private string Archive(string name)
        {
            var path = Path.Combine(_session.TempDir, name);
            _session.SetVariable("archive", path);
            return path;
        }

        [Fact]
        public void Two_images_saved_into_one_file_load_into_an_empty_store_with_the_same_ids()
        {
            var one = Import("save/one:1", 1, 21);
            var two = Import("save/two:2", 1, 22);
            var archive = Path.Combine(_session.TempDir, "both.tar");
            _session.SetVariable("archive", archive);
            var file = Assert.Single(_session.Objects("Get-Image 'save/*' | Save-Image -Path $archive"));
            Assert.Equal(archive, (string)file.FullName);

            // skopeo reads the same file both as a docker-archive and as an oci-archive (ref.name is the tag, as Docker 25 writes it).
            Assert.Contains((string)one.LayerDiffIds[0], ExternalTool.Run("skopeo", "inspect", "--config", $"docker-archive:{archive}:docker.io/save/one:1"));
            Assert.Contains((string)two.LayerDiffIds[0], ExternalTool.Run("skopeo", "inspect", "--config", $"oci-archive:{archive}:2"));

            _session.Run("Get-Image | Remove-Image");
            Assert.Empty(_session.Objects("Get-Image"));
            var loaded = _session.Objects("Import-Image -Path $archive");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { (string)one.Id, (string)two.Id }.OrderBy(x => x), loaded.Select(i => (string)i.Id).OrderBy(x => x));
            Assert.Equal(new[] { "docker.io/save/one:1", "docker.io/save/two:2" }, loaded.Select(i => (string)i.Name).OrderBy(x => x));
        }

        [Fact]
        public void A_gzip_compressed_archive_loads_whatever_its_name()
        {
            var image = Import("zipped:1", 1, 23);
            var archive = Path.Combine(_session.TempDir, "zipped.bin");
            _session.SetVariable("archive", archive);
            _session.Run("Save-Image zipped:1 -Path $archive -Compress; Remove-Image zipped:1");
            using (var f = File.OpenRead(archive)) Assert.Equal(0x1f, f.ReadByte());
            var loaded = Assert.Single(_session.Objects("Import-Image $archive"));
            Assert.Equal((string)image.Id, (string)loaded.Id);
        }

        [Fact]
        public void A_rootfs_tarball_imports_with_config_changes_and_lists()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "changes", 1, 24));
            var image = Assert.Single(_session.Objects("Import-Image -Path $tar -Name tools:1 -Change 'ENV MODE=prod', 'CMD [\"/bin/busybox\", \"sh\"]', 'WORKDIR /data'"));
            Assert.Contains("MODE=prod", (System.Collections.Generic.IEnumerable<string>)image.Config.Env);
            Assert.Equal("/data", (string)image.Config.WorkingDir);
            Assert.Equal(new[] { "/bin/busybox", "sh" }, ((System.Collections.Generic.IEnumerable<string>)image.Config.Cmd).ToArray());
            var files = _session.Objects("Get-ImageFile tools:1 -Path 'data/*'");
            Assert.Equal("/data/random.bin", (string)Assert.Single(files).Path);
        }

        [Fact]
        public void Export_and_Expand_write_the_filesystem()
        {
            Import("fs:1", 1, 25);
            var tar = Path.Combine(_session.TempDir, "flat.tar");
            var dir = Path.Combine(_session.TempDir, "rootfs");
            _session.SetVariable("flat", tar);
            _session.SetVariable("dir", dir);
            _session.Run("Export-Image fs:1 -Path $flat | Out-Null; Expand-Image fs:1 -DestinationPath $dir | Out-Null");
            Assert.Empty(_session.Errors);
            Assert.Contains("./data/random.bin", ExternalTool.Run("tar", "-tvf", tar).Replace("\n./", "\n./").Split('\n').Select(l => l.Split(' ').Last()).Select(p => p.StartsWith("./") ? p : "./" + p));
            Assert.Equal(1 << 20, new FileInfo(Path.Combine(dir, "data", "random.bin")).Length);
        }

        [Fact]
        public void Stopping_a_save_midway_stops_promptly_and_leaves_no_partial_file()
        {
            Import("big:1", 150, 26);
            var archive = Archive("stopped.tar");
            var elapsed = _session.RunAndStop("Save-Image big:1 -Path $archive",
                () => Directory.GetFiles(_session.TempDir, ".stopped.tar.tmp-*").Any(f => new FileInfo(f).Length > 1_000_000),
                TimeSpan.FromSeconds(60));
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"stopping took {elapsed}");
            Assert.False(File.Exists(archive));
            Assert.Empty(Directory.GetFiles(_session.TempDir, ".stopped.tar*"));
            Assert.Single(_session.Objects("Get-Image big:1"));
        }

        [Fact]
        public void A_corrupt_archive_is_an_error_and_adds_nothing()
        {
            var bad = Path.Combine(_session.TempDir, "bad.tar.gz");
            File.WriteAllBytes(bad, new byte[] { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5 });
            _session.SetVariable("bad", bad);
            _session.Run("Import-Image $bad");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ArchiveCorrupt,ImageModule.Commands.ImportImageCommand", error.FullyQualifiedErrorId);
            Assert.Empty(_session.Objects("Get-Image"));
        }
    }
}
