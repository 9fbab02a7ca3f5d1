using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Repair-ImageStore without -SourcePath fetches a lost or corrupt blob again from the registry repository the image
    /// was pulled from; with that registry gone it says so with a stable id and loses nothing.
    /// </summary>
    public sealed class RegistryRepairStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        /// <summary>Publishes a 2 MiB image and pulls it back into an empty store; returns its layer digest.</summary>
        private string Pulled()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "fixme", 2, 61));
            _session.SetVariable("remote", $"{_registry.Host}/team/fixme:1");
            _session.Run("Import-Image -Path $tar -Name fixme:1 | Out-Null; Publish-Image fixme:1 -Destination $remote | Out-Null; Remove-Image fixme:1; Install-Image $remote | Out-Null");
            Assert.Empty(_session.Errors);
            return (string)_session.Objects("Get-ImageLayer $remote").First(l => !l.EmptyLayer).Digest;
        }

        private string BlobPath(string digest) => BlobFiles.PathOf(_session.StorePath, digest);

        private void Damage(string digest, string how)
        {
            if (how == "missing")
            {
                File.Delete(BlobPath(digest));
                return;
            }
            BlobFiles.Flip(_session.StorePath, digest);
        }

        [Theory]
        [InlineData("corrupt")]
        [InlineData("missing")]
        public void A_damaged_layer_is_fetched_again_from_the_registry_it_was_pulled_from(string how)
        {
            var layer = Pulled();
            Damage(layer, how);
            var problem = Assert.Single(_session.Objects("Test-ImageStore"));
            Assert.Equal(how == "missing" ? "BlobMissing" : "BlobCorrupt", problem.Kind.ToString());

            var mark = _registry.Requests.Count;
            var repaired = Assert.Single(_session.Objects("Repair-ImageStore"));

            Assert.Empty(_session.Errors);
            Assert.True((bool)repaired.Repaired);
            Assert.Contains($"fetched again from {_registry.Host}/team/fixme", (string)repaired.Resolution);
            Assert.Contains(_registry.RequestsSince(mark), r => r.Method == "GET" && r.Path.EndsWith("/blobs/" + layer, StringComparison.Ordinal));
            BlobFiles.AssertHashesRight(_session.StorePath, layer);
            Assert.Empty(_session.Objects("Test-ImageStore"));
            Assert.Equal("Ok", Assert.Single(_session.Objects("Get-Image $remote")).Status.ToString());
            Assert.Empty(_session.Errors);
        }

        [Theory]
        [InlineData("corrupt")]
        [InlineData("missing")]
        public void With_the_registry_gone_repair_says_so_and_loses_nothing(string how)
        {
            var layer = Pulled();
            var manifest = (string)Assert.Single(_session.Objects("Get-Image $remote")).Digest;
            Damage(layer, how);
            _registry.Dispose();

            var problem = Assert.Single(_session.Objects("Repair-ImageStore"));

            var error = Assert.Single(_session.Errors);
            Assert.Equal("RegistryUnreachable,ImageModule.Commands.RepairImageStoreCommand", error.FullyQualifiedErrorId);
            Assert.Contains(layer, error.ToString());
            Assert.Contains("keep their names", error.ToString());
            Assert.False((bool)problem.Repaired);
            // The name stays (a later repair, with the registry back, can still fetch the layer); so do its other blobs.
            var image = Assert.Single(_session.Objects("Get-Image $remote"));
            Assert.Equal(manifest, (string)image.Digest);
            Assert.Equal("Incomplete", image.Status.ToString());
            Assert.True(File.Exists(BlobPath(manifest)));
            Assert.True(File.Exists(BlobPath((string)image.Id)));
            if (how == "corrupt") Assert.Single(Directory.GetFiles(Path.Combine(_session.StorePath, ".imagemodule", "quarantine")));
        }
    }
}
