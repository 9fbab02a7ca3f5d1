using System;
using System.IO;
using System.Linq;
using System.Management.Automation;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>The foundation's user stories, typed into the real engine against the built module.</summary>
    public sealed class LocalImageStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private dynamic Import(string name, int megabytes, int seed)
        {
            var tar = Rootfs.Create(_session.TempDir, name.Replace('/', '_').Replace(':', '_'), megabytes, seed);
            _session.SetVariable("tar", tar);
            _session.SetVariable("name", name);
            var image = Assert.Single(_session.Objects("Import-Image -Path $tar -Name $name"));
            Assert.Empty(_session.Errors);
            File.Delete(tar);
            return image;
        }

        private string[] Names() => _session.Objects("Get-Image").Select(i => (string)(i.Name ?? "<none>")).OrderBy(n => n).ToArray();

        private bool BlobExists(string digest) => File.Exists(Path.Combine(_session.StorePath, "blobs", "sha256", digest.Substring(7)));

        [Fact]
        public void The_literal_pipeline_removes_exactly_the_images_over_100MB_and_their_blobs()
        {
            var big = Import("bars/big:1", 110, 1);
            Assert.Contains(_session.Progress, p => p.PercentComplete > 0);
            var small = Import("bars/small:1", 2, 2);
            _session.Run("Add-ImageTag bars/big:1 bars/big:also");
            var bigLayers = _session.Objects("Get-ImageLayer bars/big:1").Where(l => !l.EmptyLayer).Select(l => (string)l.Digest).ToList();
            Assert.NotEmpty(bigLayers);
            Assert.True((long)big.Size > 100L * 1024 * 1024, $"big image is {big.Size} bytes");
            Assert.True((long)small.Size < 100L * 1024 * 1024);

            _session.Run("Get-Image | Where-Object Size -gt 100MB | Remove-Image");

            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "docker.io/bars/small:1" }, Names());
            foreach (var d in bigLayers) Assert.False(BlobExists(d), $"layer {d} of the removed image is still on disk");
            Assert.False(BlobExists((string)big.Id));
            Assert.True(BlobExists((string)small.Id));
            var blobBytes = Directory.GetFiles(Path.Combine(_session.StorePath, "blobs", "sha256")).Sum(f => new FileInfo(f).Length);
            Assert.True(blobBytes < 10_000_000, $"store still holds {blobBytes} bytes of blobs");
        }

        [Fact]
        public void StorePath_picks_another_store_and_images_remember_where_they_live()
        {
            Import("here:1", 1, 11);
            var other = Path.Combine(_session.TempDir, "other-store");
            _session.SetVariable("other", other);
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "there", 1, 12));
            var there = Assert.Single(_session.Objects("Import-Image $tar -Name there:1 -StorePath $other"));
            Assert.Equal(other, (string)there.Location);
            Assert.Equal(new[] { "docker.io/library/here:1" }, Names());
            // Piped objects act on the store they came from, whatever the cmdlet's default.
            _session.Run("Get-Image -StorePath $other | Add-ImageTag -Tag there:2 | Out-Null; Get-Image -StorePath $other there:1 | Remove-Image");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "docker.io/library/there:2" }, _session.Objects("Get-Image -StorePath $other").Select(i => (string)i.Name).ToArray());
            Assert.Equal(new[] { "docker.io/library/here:1" }, Names());
        }

        [Fact]
        public void WhatIf_removes_nothing_and_says_what_it_would_do()
        {
            Import("bars/big:1", 1, 3);
            _session.Run("Get-Image | Where-Object Size -gt 100KB | Remove-Image -WhatIf");
            Assert.Contains("What if: Performing the operation \"Remove image\" on target \"docker.io/bars/big:1", _session.HostOutput);
            Assert.Equal(new[] { "docker.io/bars/big:1" }, Names());
        }

        [Fact]
        public void Names_match_the_way_docker_and_wildcards_do()
        {
            Import("alpine:3.20", 1, 4);
            _session.Run("Add-ImageTag alpine:3.20 alpine:latest; Add-ImageTag alpine localhost:5000/team/alpine:dev");
            // A short name is every tag of docker.io/library/alpine, not other registries' alpine.
            Assert.Equal(2, _session.Run("Get-Image alpine").Count(o => ((string)o.Properties["Name"].Value).StartsWith("docker.io/library/alpine:")));
            Assert.Equal(2, _session.Run("Get-Image alpine").Count);
            Assert.Single(_session.Run("Get-Image alpine:3.20"));
            Assert.Single(_session.Run("Get-Image docker.io/library/alpine:latest"));
            Assert.Single(_session.Run("Get-Image 'localhost:5000/*'"));
            Assert.Equal(3, _session.Run("Get-Image '*alpine*'").Count);
            Assert.Empty(_session.Run("Get-Image 'nomatch*'"));
            Assert.Empty(_session.Errors);
        }

        [Fact]
        public void An_unknown_image_is_a_non_terminating_ObjectNotFound_error_and_the_pipeline_goes_on()
        {
            Import("present:1", 1, 5);
            var found = _session.Run("Get-Image missing:1, present:1");
            Assert.Single(found);
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ImageNotFound,ImageModule.Commands.GetImageCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            Assert.Equal("missing:1", error.TargetObject);

            _session.Run("Remove-Image missing:2, present:1");
            Assert.Equal("ImageNotFound,ImageModule.Commands.RemoveImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.Empty(Names());
        }

        [Fact]
        public void An_invalid_reference_is_an_InvalidArgument_error()
        {
            _session.Run("Get-Image 'Upper/Case:1'");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("InvalidReference,ImageModule.Commands.GetImageCommand", error.FullyQualifiedErrorId);
            Assert.Equal(ErrorCategory.InvalidArgument, error.CategoryInfo.Category);
        }

        [Fact]
        public void An_ID_with_two_names_is_removed_only_with_Force()
        {
            var image = Import("app:1", 1, 6);
            _session.Run("Add-ImageTag app:1 app:stable");
            _session.SetVariable("id", (string)image.ShortId);

            _session.Run("Remove-Image -Id $id");
            Assert.Equal("ImageHasMultipleNames,ImageModule.Commands.RemoveImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.Equal(2, Names().Length);

            _session.Run("Remove-Image -Id $id -Force");
            Assert.Empty(_session.Errors);
            Assert.Empty(Names());
            Assert.False(BlobExists((string)image.Id));
        }

        [Fact]
        public void Removing_one_name_of_two_keeps_the_image()
        {
            var image = Import("app:1", 1, 7);
            _session.Run("Add-ImageTag -Name app:1 -Tag app:2 | Out-Null; Remove-Image app:1");
            Assert.Equal(new[] { "docker.io/library/app:2" }, Names());
            Assert.True(BlobExists((string)image.Id));
        }

        [Fact]
        public void Layers_shared_by_two_images_survive_removal_of_one_and_show_who_shares_them()
        {
            // A real OCI layout written by umoci: a base layer and one more layer per image.
            var layout = Path.Combine(_session.TempDir, "layout");
            var file = Path.Combine(_session.TempDir, "payload.bin");
            File.WriteAllBytes(file, Enumerable.Range(0, 200_000).Select(i => (byte)(i * 7)).ToArray());
            ExternalTool.Run("umoci", "init", "--layout", layout);
            ExternalTool.Run("umoci", "new", "--image", layout + ":base");
            ExternalTool.Run("umoci", "insert", "--rootless", "--image", layout + ":base", file, "/base.bin");
            ExternalTool.Run("umoci", "insert", "--rootless", "--image", layout + ":base", "--tag", "one", file, "/one.bin");
            ExternalTool.Run("umoci", "insert", "--rootless", "--image", layout + ":base", "--tag", "two", file, "/two.bin");
            _session.SetVariable("layout", layout);

            var loaded = _session.Objects("Import-Image -Path $layout");
            Assert.Empty(_session.Errors);
            Assert.Equal(3, loaded.Count);
            var layers = _session.Objects("Get-ImageLayer one").Where(l => !l.EmptyLayer).ToList();
            var baseLayer = layers.Single(l => (int)l.Index == 0);
            Assert.Contains("docker.io/library/two:latest", (System.Collections.Generic.IEnumerable<string>)baseLayer.SharedBy);
            Assert.Contains("umoci insert", (string)(layers[0].CreatedBy ?? ""), StringComparison.OrdinalIgnoreCase);

            _session.Run("Remove-Image one, base");
            Assert.Empty(_session.Errors);
            Assert.True(BlobExists((string)baseLayer.Digest));
            Assert.False(BlobExists((string)layers.Single(l => (int)l.Index == 1).Digest));
            Assert.Equal(new[] { "docker.io/library/two:latest" }, Names());
        }

        [Fact]
        public void The_default_views_look_like_docker_images_and_docker_history()
        {
            Import("view:1", 1, 8);
            var table = _session.RunAndRender("Get-Image");
            Assert.Matches(@"REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE", table);
            Assert.Matches(@"view\s+1\s+[0-9a-f]{12}\s+(Just now|\d+ seconds? ago)\s+\d(\.\d+)?MB", table);
            Assert.DoesNotContain("\u001b[", table);
            var history = _session.RunAndRender("Get-ImageLayer view:1");
            Assert.Matches(@"LAYER\s+CREATED\s+CREATED BY\s+SIZE", history); // COMMENT is in Format-List: the table fits 80 columns
            Assert.Contains("Import-Image", history);
            // Size stays a number for Where-Object and sorting.
            Assert.IsType<long>(_session.Run("(Get-Image view:1).Size").Single().BaseObject);
        }

        [Fact]
        public void Skopeo_reads_the_store_that_the_module_wrote()
        {
            var image = Import("localhost:5000/interop/app:v1", 1, 9);
            var config = ExternalTool.Run("skopeo", "inspect", "--config", $"oci:{_session.StorePath}:localhost:5000/interop/app:v1");
            Assert.Contains((string)image.LayerDiffIds[0], config);
            var ls = ExternalTool.Run("umoci", "ls", "--layout", _session.StorePath);
            Assert.Contains("localhost:5000/interop/app:v1", ls);
        }

        [Fact]
        public void An_OCI_layout_written_by_skopeo_imports()
        {
            var image = Import("source:1", 1, 10);
            var dir = Path.Combine(_session.TempDir, "skopeo-layout");
            ExternalTool.Run("skopeo", "copy", $"oci:{_session.StorePath}:docker.io/library/source:1", $"oci:{dir}:copied");
            _session.Run("Remove-Image source:1");
            _session.SetVariable("dir", dir);
            var loaded = Assert.Single(_session.Objects("Import-Image $dir"));
            Assert.Empty(_session.Errors);
            Assert.Equal((string)image.Id, (string)loaded.Id);
            Assert.Equal("docker.io/library/copied:latest", (string)loaded.Name);
        }
    }
}
