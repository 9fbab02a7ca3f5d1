using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Registry cmdlets do exactly what was asked (issue 15 §2), against a real registry on loopback.</summary>
    public sealed class ExactIntentRegistryStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public ExactIntentRegistryStories() => _session.SetVariable("registry", _registry.Host);

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        private void Import(string name, int seed)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "r" + seed, 1, seed));
            _session.SetVariable("name", name);
            _session.Run("Import-Image $tar -Name $name | Out-Null");
            Assert.Empty(_session.Errors);
        }

        private string[] Tags(string repository) =>
            _session.Objects($"Find-Image $registry/{repository} -ListTags").Select(t => (string)t.Tag).OrderBy(t => t).ToArray();

        [Fact]
        public void Remove_RegistryImage_asks_first_and_names_the_other_tags_that_go_with_the_manifest()
        {
            Import("app:1", 311);
            Import("app:2", 312);
            _session.Run("Publish-Image app:1 \"$registry/team/app:1\" | Out-Null; Publish-Image app:1 \"$registry/team/app:also\" | Out-Null; Publish-Image app:2 \"$registry/team/app:other\" | Out-Null");
            Assert.Empty(_session.Errors);

            _session.Run("Remove-RegistryImage \"$registry/team/app:1\" -WhatIf");
            Assert.Contains("also", _session.HostOutput);
            Assert.DoesNotContain("other", _session.HostOutput);
            Assert.Equal(new[] { "1", "also", "other" }, Tags("team/app"));

            // ConfirmImpact High: asked without -Confirm (this host answers the default, Yes).
            _session.Run("Remove-RegistryImage \"$registry/team/app:1\" -Verbose");
            Assert.Empty(_session.Errors);
            Assert.Contains("Are you sure you want to perform this action?", _session.HostOutput);
            Assert.Contains("also", _session.HostOutput);
            // CNCF distribution cannot delete a tag alone: the manifest went, with both of its tags, and we said so.
            Assert.Contains("cannot delete a tag alone", _session.HostOutput);
            Assert.Equal(new[] { "other" }, Tags("team/app"));
        }

        [Fact]
        public void RepoDigests_lists_only_digests_a_registry_gave()
        {
            Import("app:1", 316);
            // Never pushed: no registry gave this image a digest.
            Assert.Empty((System.Collections.Generic.IEnumerable<object>)Assert.Single(_session.Objects("Get-Image app:1")).RepoDigests);

            var pushed = Assert.Single(_session.Objects("Publish-Image app:1 \"$registry/team/app:1\""));
            var expected = $"{_registry.Host}/team/app@{pushed.Digest}";
            Assert.Equal(new[] { expected }, ((System.Collections.Generic.IEnumerable<object>)Assert.Single(_session.Objects("Get-Image app:1")).RepoDigests).Select(o => o.ToString()).ToArray());

            // Pulled, in a fresh store: the digest the registry served for the repository it came from.
            _session.SetVariable("other", System.IO.Path.Combine(_session.TempDir, "other-store"));
            var pulled = Assert.Single(_session.Objects("Install-Image \"$registry/team/app:1\" -StorePath $other"));
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { expected }, ((System.Collections.Generic.IEnumerable<object>)pulled.RepoDigests).Select(o => o.ToString()).ToArray());
        }

        [Fact]
        public void Several_piped_images_to_one_destination_are_refused_before_anything_is_pushed()
        {
            Import("a:1", 313);
            Import("b:1", 314);
            _session.Run("Get-Image a:1, b:1 | Publish-Image -Destination \"$registry/team/one:1\"");
            Assert.Equal("OneDestinationSeveralImages,ImageModule.Commands.PublishImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            _session.Run("Find-Image \"$registry/team/one\" -ListTags");
            Assert.Equal("ImageNotFound,ImageModule.Commands.FindImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            // One piped image with a destination, and several without one, still push.
            Assert.Single(_session.Objects("Get-Image a:1 | Publish-Image -Destination \"$registry/team/one:1\""));
            Assert.Empty(_session.Errors);
            _session.Run("Add-ImageTag a:1 \"$registry/team/a:1\" | Out-Null; Add-ImageTag b:1 \"$registry/team/b:1\" | Out-Null");
            Assert.Equal(2, _session.Objects("Get-Image \"$registry/*\" | Publish-Image").Count);
            Assert.Empty(_session.Errors);
        }

        [Fact]
        public void Find_Image_Registry_alone_lists_the_catalog_and_listings_pipe_on_as_the_image_they_show()
        {
            Import("app:1", 315);
            _session.Run("Publish-Image app:1 \"$registry/team/app:v1\" | Out-Null; Publish-Image app:1 \"$registry/team/app:v2\" | Out-Null");
            Assert.Empty(_session.Errors);

            var catalog = _session.Objects("Find-Image -Registry $registry");
            Assert.Empty(_session.Errors);
            Assert.Equal($"{_registry.Host}/team/app", (string)Assert.Single(catalog).Name);

            var tags = _session.Objects("Find-Image -Registry $registry | Find-Image -ListTags");
            Assert.Equal(new[] { $"{_registry.Host}/team/app:v1", $"{_registry.Host}/team/app:v2" }, tags.Select(t => (string)t.Name).OrderBy(n => n).ToArray());

            _session.Run("Remove-Image app:1");
            var installed = Assert.Single(_session.Objects("Find-Image \"$registry/team/app\" -ListTags -Filter v1 | Install-Image"));
            Assert.Empty(_session.Errors);
            Assert.Equal($"{_registry.Host}/team/app:v1", (string)installed.Name);

            var layout = Path.Combine(_session.TempDir, "layout");
            _session.SetVariable("dest", "oci:" + layout + ":v2");
            var copied = Assert.Single(_session.Objects("Find-Image \"$registry/team/app\" -ListTags -Filter v2 | Copy-Image -Destination $dest"));
            Assert.Empty(_session.Errors);
            Assert.Equal($"{_registry.Host}/team/app:v2", (string)copied.Source);

            // v1 and v2 are one manifest: deleting v1 takes v2 too (distribution deletes manifests, not tags).
            _session.Run("Find-Image \"$registry/team/app\" -ListTags -Filter v1 | Remove-RegistryImage -Confirm:$false");
            Assert.Empty(_session.Errors);
            Assert.Empty(_session.Run("Find-Image \"$registry/team/app\" -ListTags"));
        }
    }
}
