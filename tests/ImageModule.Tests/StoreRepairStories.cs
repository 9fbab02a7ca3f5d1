using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Test-ImageStore finds what is wrong with a store, Repair-ImageStore repairs it: corrupt bytes in a layer, a config
    /// and a manifest, a truncated index.json, a wrong cache, staging leftovers — each through the cmdlets as typed.
    /// </summary>
    public sealed class StoreRepairStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private string Blob(string digest) => Path.Combine(_session.StorePath, "blobs", "sha256", digest.Substring(7));

        private void Flip(string digest)
        {
            var path = Blob(digest);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x20;
            File.WriteAllBytes(path, bytes);
        }

        /// <summary>Imports app:1 from a rootfs and saves it, so a test has an archive that holds every blob.</summary>
        private (dynamic Image, string Archive) ImportAndSave()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "app", 1, 11));
            var image = Assert.Single(_session.Objects("Import-Image -Path $tar -Name app:1"));
            var archive = Path.Combine(_session.TempDir, "app-saved.tar");
            _session.SetVariable("archive", archive);
            _session.Run("Save-Image app:1 $archive");
            Assert.Empty(_session.Errors);
            return (image, archive);
        }

        private void AssertSound()
        {
            Assert.Empty(_session.Objects("Test-ImageStore"));
            Assert.Empty(_session.Errors);
            Assert.All(_session.Objects("Get-Image"), i => Assert.Equal("Ok", i.Status.ToString()));
        }

        [Theory]
        [InlineData("layer")]
        [InlineData("config")]
        [InlineData("manifest")]
        public void A_corrupt_blob_is_found_and_fetched_again_from_the_archive_it_came_from(string which)
        {
            var (image, archive) = ImportAndSave();
            var layer = (string)_session.Objects("Get-ImageLayer app:1").First(l => !l.EmptyLayer).Digest;
            var digest = which switch { "layer" => layer, "config" => (string)image.Id, _ => (string)image.Digest };
            AssertSound();
            Flip(digest);

            var problem = Assert.Single(_session.Objects("Test-ImageStore"));
            Assert.Equal("BlobCorrupt", problem.Kind.ToString());
            Assert.Equal(digest, (string)problem.Target);
            Assert.Equal(new[] { "docker.io/library/app:1" }, ((System.Collections.Generic.IEnumerable<string>)problem.Images).ToArray());
            var shown = _session.RunAndRender("Test-ImageStore");
            Assert.Contains("KIND", shown); // its table view
            Assert.Contains("BlobCorrupt", shown);
            Assert.Contains(digest.Substring(0, 19), shown);

            // -WhatIf changes nothing.
            _session.Run("Repair-ImageStore -SourcePath $archive -WhatIf");
            Assert.Single(_session.Objects("Test-ImageStore"));

            var repaired = Assert.Single(_session.Objects("Repair-ImageStore -SourcePath $archive"));
            Assert.Empty(_session.Errors);
            Assert.True((bool)repaired.Repaired);
            Assert.Contains("fetched again from", (string)repaired.Resolution);
            AssertSound();
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(_session.StorePath, ".imagemodule", "quarantine")));
            var target = Path.Combine(_session.TempDir, "rootfs");
            _session.SetVariable("target", target);
            _session.Run("Expand-Image app:1 $target");
            Assert.Empty(_session.Errors);
        }

        [Fact]
        public void An_image_whose_blob_cannot_be_found_again_loses_its_name_and_nothing_else()
        {
            ImportAndSave();
            _session.SetVariable("tar2", Rootfs.Create(_session.TempDir, "other", 1, 12));
            _session.Run("Import-Image -Path $tar2 -Name other:1");
            var config = (string)_session.Objects("Get-Image app:1").Single().Id;
            Flip(config);

            var results = _session.Objects("Repair-ImageStore -Offline");

            Assert.Empty(_session.Errors);
            var result = Assert.Single(results);
            Assert.Contains("removed docker.io/library/app:1", (string)result.Resolution);
            Assert.Equal(new[] { "docker.io/library/other:1" }, _session.Objects("Get-Image").Select(i => (string)i.Name));
            AssertSound();
        }

        [Fact]
        public void A_truncated_index_json_is_rebuilt_from_the_recorded_names()
        {
            ImportAndSave();
            _session.Run("Add-ImageTag app:1 app:also");
            var index = Path.Combine(_session.StorePath, "index.json");
            var text = File.ReadAllText(index);
            File.WriteAllText(index, text.Substring(0, text.Length / 2));

            var problem = Assert.Single(_session.Objects("Test-ImageStore"));
            Assert.Equal("IndexUnreadable", problem.Kind.ToString());

            _session.Run("Repair-ImageStore");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "docker.io/library/app:1", "docker.io/library/app:also" }, _session.Objects("Get-Image").Select(i => (string)i.Name).OrderBy(n => n).ToArray());
            AssertSound();
        }

        [Fact]
        public void A_cache_with_null_sizes_and_a_wrong_digest_is_reported_and_rebuilt()
        {
            var (image, _) = ImportAndSave();
            var expected = (long)image.Size;
            var cache = Path.Combine(_session.StorePath, ".imagemodule", "cache.json");
            var text = File.ReadAllText(cache);
            var id = ((string)image.Id).Substring(7);
            text = text.Replace(id, new string('0', 64));
            text = System.Text.RegularExpressions.Regex.Replace(text, "\"uncompressedSizes\":\\{[^}]*\\}", "\"uncompressedSizes\":null");
            File.WriteAllText(cache, text);

            // Listing already treats it as the hint it is.
            var listed = Assert.Single(_session.Objects("Get-Image app:1"));
            Assert.Equal((string)image.Id, (string)listed.Id);
            Assert.Equal(expected, (long)listed.Size);
            File.WriteAllText(cache, text);

            var problem = Assert.Single(_session.Objects("Test-ImageStore"));
            Assert.Equal("CacheInvalid", problem.Kind.ToString());
            Assert.Contains("uncompressedSizes", (string)problem.Message);

            _session.Run("Repair-ImageStore");
            Assert.Empty(_session.Errors);
            AssertSound();
        }

        [Fact]
        public void Staging_left_by_a_killed_process_is_found_and_deleted()
        {
            ImportAndSave();
            var tmp = Path.Combine(_session.StorePath, ".imagemodule", "tmp");
            Directory.CreateDirectory(tmp);
            var partial = Path.Combine(tmp, Guid.NewGuid().ToString("N") + ".partial");
            File.WriteAllBytes(partial, new byte[4096]);
            File.SetLastWriteTimeUtc(partial, DateTime.UtcNow.AddHours(-2));
            var fresh = Path.Combine(tmp, Guid.NewGuid().ToString("N") + ".partial");
            File.WriteAllBytes(fresh, new byte[10]);

            var problem = Assert.Single(_session.Objects("Test-ImageStore"));
            Assert.Equal("StagingLeftover", problem.Kind.ToString());
            Assert.Equal(partial, (string)problem.Target);

            _session.Run("Repair-ImageStore");
            Assert.False(File.Exists(partial));
            Assert.True(File.Exists(fresh), "staging a live process may still be writing was deleted");
        }
    }
}
