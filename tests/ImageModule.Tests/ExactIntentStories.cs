using System;
using System.IO;
using System.IO.Compression;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Local cmdlets do exactly what was asked (issue 15 §2): paths, piped images, positional IDs, output items.</summary>
    public sealed class ExactIntentStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private dynamic Import(string name, int seed)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "r" + seed, 1, seed));
            _session.SetVariable("name", name);
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name $name"));
            Assert.Empty(_session.Errors);
            return image;
        }

        private string[] Names() => _session.Objects("Get-Image").Select(i => (string)(i.Name ?? "<none>")).OrderBy(n => n).ToArray();

        [Fact]
        public void Copy_Image_resolves_relative_layout_and_archive_paths_against_the_PowerShell_location()
        {
            Import("app:1", 301);
            var work = Path.Combine(_session.TempDir, "work");
            Directory.CreateDirectory(work);
            _session.SetVariable("work", work);
            _session.Run("$ExecutionContext.SessionState.Path.SetLocation($work) | Out-Null; Copy-Image store:app:1 oci:./layout:1 | Out-Null; Copy-Image store:app:1 docker-archive:./app.tar | Out-Null; Copy-Image store:app:1 oci-archive:./app.oci.tar | Out-Null");
            Assert.Empty(_session.Errors);
            Assert.True(File.Exists(Path.Combine(work, "layout", "index.json")), "the layout went elsewhere than $PWD");
            Assert.True(File.Exists(Path.Combine(work, "app.tar")));
            Assert.True(File.Exists(Path.Combine(work, "app.oci.tar")));
            Assert.False(Directory.Exists(Path.Combine(Environment.CurrentDirectory, "layout")));
            // And back, relative again.
            var back = Assert.Single(_session.Objects("Copy-Image oci:./layout:1 store:back:1"));
            Assert.Empty(_session.Errors);
            Assert.Contains("docker.io/library/back:1", Names());
            Assert.Equal("oci:./layout:1", (string)back.Source);
        }

        [Fact]
        public void A_piped_image_is_copied_from_its_store_not_looked_up_on_Docker_Hub()
        {
            var app = Import("app:1", 302);
            var layout = Path.Combine(_session.TempDir, "piped");
            _session.SetVariable("dest", "oci:" + layout + ":1");
            var copied = Assert.Single(_session.Objects("Get-Image app:1 | Copy-Image -Destination $dest"));
            Assert.Empty(_session.Errors);
            Assert.Equal((string)app.Digest, (string)copied.Digest);
            Assert.Equal("store:docker.io/library/app:1", (string)copied.Source);
            Assert.True(File.Exists(Path.Combine(layout, "index.json")));
            // Given by position, both ends are locations.
            _session.SetVariable("dest2", "oci-archive:" + Path.Combine(_session.TempDir, "piped.tar"));
            Assert.Single(_session.Objects("Copy-Image store:app:1 $dest2"));
            Assert.Empty(_session.Errors);
            Assert.True(File.Exists(Path.Combine(_session.TempDir, "piped.tar")));
        }

        [Fact]
        public void Remove_Image_takes_a_positional_value_as_a_name_first_and_guards_an_ID_with_several_names()
        {
            var shared = Import("one:1", 303);
            _session.Run("Add-ImageTag one:1 two:1 | Out-Null; Add-ImageTag one:1 three:1 | Out-Null");
            // A repository named like the hex of that image's ID.
            var hex = ((string)shared.ShortId).Substring(0, 8);
            Import(hex + ":latest", 304);

            _session.SetVariable("hex", hex);
            _session.Run("Remove-Image $hex");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "docker.io/library/one:1", "docker.io/library/three:1", "docker.io/library/two:1" }, Names());

            // Now the hex names no repository: it is an ID prefix, and an ID with three names needs -Force.
            _session.Run("Remove-Image $hex");
            Assert.Equal("ImageHasMultipleNames,ImageModule.Commands.RemoveImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.Equal(3, Names().Length);
            _session.Run("Remove-Image $hex -Force");
            Assert.Empty(_session.Errors);
            Assert.Empty(Names());
        }

        [Fact]
        public void Save_Export_and_Expand_emit_the_written_item_as_Get_Item_shows_it()
        {
            Import("app:1", 305);
            _session.SetVariable("dir", _session.TempDir);
            var saved = Assert.Single(_session.Objects("Get-Image app:1 | Save-Image -Path \"$dir/app.tar\""));
            Assert.Equal("FileSystem", (string)saved.PSProvider.Name);
            Assert.Equal(new FileInfo(Path.Combine(_session.TempDir, "app.tar")).Length, (long)saved.Length);
            var exported = Assert.Single(_session.Objects("Export-Image app:1 -Path \"$dir/rootfs.tar\""));
            Assert.Equal("FileSystem", (string)exported.PSProvider.Name);
            Assert.True((long)exported.Length > 1_000_000);
            var expanded = Assert.Single(_session.Objects("Expand-Image app:1 -DestinationPath \"$dir/rootfs\""));
            Assert.True((bool)expanded.PSIsContainer);
            Assert.Empty(_session.Errors);
            // What the user sees: the file-system view with a Length (the bare FileInfo of before showed it blank).
            var text = _session.RunAndRender("Get-Image app:1 | Save-Image -Path \"$dir/app2.tar\"");
            Assert.Contains(saved.Length.ToString(), text);
        }

        [Fact]
        public void Writing_into_a_directory_that_does_not_exist_is_refused_like_Out_File()
        {
            Import("app:1", 306);
            var missing = Path.Combine(_session.TempDir, "missing-dir");
            _session.SetVariable("missing", missing);
            _session.Run("Save-Image app:1 -Path \"$missing/x.tar\"");
            Assert.Equal("DirectoryNotFound,ImageModule.Commands.SaveImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            _session.Run("Export-Image app:1 -Path \"$missing/x.tar\"");
            Assert.Equal("DirectoryNotFound,ImageModule.Commands.ExportImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.False(Directory.Exists(missing));
        }

        [Fact]
        public void Corrupt_gzip_in_Import_Image_is_one_items_error_and_the_next_archive_still_loads()
        {
            Import("app:1", 307);
            var good = Path.Combine(_session.TempDir, "good.tar");
            _session.SetVariable("good", good);
            _session.Run("Save-Image app:1 -Path $good | Out-Null; Remove-Image app:1");
            // A gzip whose deflate stream is damaged after the header: what a truncated or bit-rotted download gives.
            var bad = Path.Combine(_session.TempDir, "bad.tar.gz");
            using (var output = File.Create(bad))
            using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
            {
                var bytes = File.ReadAllBytes(good);
                gzip.Write(bytes, 0, bytes.Length);
            }
            var damaged = File.ReadAllBytes(bad);
            for (var i = 40; i < Math.Min(damaged.Length - 16, 4000); i += 7) damaged[i] ^= 0x5a;
            File.WriteAllBytes(bad, damaged);
            _session.SetVariable("bad", bad);

            var loaded = _session.Objects("Import-Image -Path $bad, $good");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ArchiveCorrupt,ImageModule.Commands.ImportImageCommand", error.FullyQualifiedErrorId);
            Assert.Equal(bad, error.TargetObject);
            Assert.Equal("docker.io/library/app:1", (string)Assert.Single(loaded).Name);
            // -ErrorAction is honoured: SilentlyContinue hides it, the good archive still loads.
            _session.Run("Remove-Image app:1; Import-Image -Path $bad, $good -ErrorAction SilentlyContinue | Out-Null");
            Assert.Equal(new[] { "docker.io/library/app:1" }, Names());
        }

        [Fact]
        public void Registry_cmdlets_offer_no_Engine_or_StorePath_and_a_session_default_for_them_is_ignored()
        {
            foreach (var cmdlet in new[] { "Find-Image", "Connect-ImageRegistry", "Remove-RegistryImage" })
            {
                _session.SetVariable("cmd", cmdlet);
                var parameters = _session.Run("(Get-Command $cmd).Parameters.Keys").Select(o => o.ToString()).ToList();
                Assert.DoesNotContain("Engine", parameters);
                Assert.DoesNotContain("StorePath", parameters);
            }
            // The README's session default names a parameter these cmdlets lack: PowerShell skips it, nothing fails.
            _session.Run("$PSDefaultParameterValues['*-Image*:Engine'] = 'Docker'; $PSDefaultParameterValues['*:StorePath'] = '/nonexistent'");
            _session.Run("Find-Image");
            Assert.Equal("SearchTermMissing,ImageModule.Commands.FindImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            _session.Run("Disconnect-ImageRegistry nothing.example -WhatIf");
            Assert.Empty(_session.Errors);
        }
    }
}
