using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Importing or pulling an image again over a layer damaged in place in the store replaces the layer: the store does
    /// not answer "already have it" for a blob whose bytes changed since it checked them, however large.
    /// </summary>
    public sealed class CorruptBlobReplacementStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        private string Blob(string digest) => BlobFiles.PathOf(_session.StorePath, digest);

        private string LayerOf(string name) => (string)_session.Objects($"Get-ImageLayer {name}").First(l => !l.EmptyLayer).Digest;

        private void Flip(string digest) => BlobFiles.Flip(_session.StorePath, digest);

        private void AssertHashesRight(string digest) => BlobFiles.AssertHashesRight(_session.StorePath, digest);

        private void AssertImageOk(string name)
        {
            Assert.Empty(_session.Errors);
            Assert.Equal("Ok", Assert.Single(_session.Objects($"Get-Image {name}")).Status.ToString());
            Assert.Empty(_session.Objects("Test-ImageStore"));
        }

        [Theory]
        [InlineData("rootfs")]
        [InlineData("saved archive")]
        public void Importing_again_over_a_large_layer_damaged_in_place_replaces_it(string what)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "big", 4, 51));
            Assert.Single(_session.Objects("Import-Image -Path $tar -Name big:1"));
            var archive = Path.Combine(_session.TempDir, "big-saved.tar");
            _session.SetVariable("archive", archive);
            _session.Run("Save-Image big:1 $archive");
            var layer = LayerOf("big:1");
            Assert.True(new FileInfo(Blob(layer)).Length > 3 << 20);
            Flip(layer);

            Assert.Single(_session.Objects(what == "rootfs" ? "Import-Image -Path $tar -Name big:1" : "Import-Image -Path $archive"));

            AssertHashesRight(layer);
            AssertImageOk("big:1");
            _session.SetVariable("target", Path.Combine(_session.TempDir, "expanded"));
            _session.Run("Expand-Image big:1 $target");
            Assert.Empty(_session.Errors);
        }

        [Fact]
        public void Pulling_again_over_a_large_layer_damaged_in_place_fetches_that_layer_again()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "pulled", 4, 52));
            _session.Run("Import-Image -Path $tar -Name pulled:1 | Out-Null");
            _session.SetVariable("remote", $"{_registry.Host}/team/pulled:1");
            _session.Run("Publish-Image pulled:1 -Destination $remote | Out-Null; Remove-Image pulled:1; Install-Image $remote | Out-Null");
            Assert.Empty(_session.Errors);
            var layer = LayerOf("$remote");
            Flip(layer);

            var mark = _registry.Requests.Count;
            Assert.Single(_session.Objects("Install-Image $remote"));

            Assert.Contains(_registry.RequestsSince(mark), r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + layer, StringComparison.Ordinal));
            AssertHashesRight(layer);
            AssertImageOk("$remote");
        }
    }
}
