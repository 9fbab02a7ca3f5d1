using System;
using System.IO;
using System.Linq;
using System.Net;
using System.Threading.Tasks;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Copy-Image, registry deletion, search and registry settings, typed as a user would, against real registries.</summary>
    public sealed class RegistryTransferStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        private string Push(string name, int seed)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, name, 1, seed));
            _session.Run($"Import-Image $tar -Name {name}:1 | Out-Null");
            var remote = $"{_registry.Host}/team/{name}:1";
            _session.Run($"Publish-Image {name}:1 -Destination {remote} | Out-Null");
            _session.Run($"Remove-Image {name}:1");
            Assert.Empty(_session.Errors);
            return remote;
        }

        private int StoreBlobs() => Directory.Exists(Path.Combine(_session.StorePath, "blobs", "sha256")) ? Directory.GetFiles(Path.Combine(_session.StorePath, "blobs", "sha256")).Length : 0;

        [Fact]
        public void Copy_Image_moves_between_registries_layouts_and_archives_keeping_digests_and_never_touching_the_store()
        {
            var remote = Push("copy", 61);
            using var other = new RegistryFixture();
            var copied = Assert.Single(_session.Objects($"Copy-Image docker://{remote} docker://{other.Host}/prod/copy:1"));
            Assert.Empty(_session.Errors);
            Assert.Equal(0, StoreBlobs());
            var digest = (string)copied.Digest;
            Assert.Contains(digest, ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{other.Host}/prod/copy:1"));

            // Into an OCI layout that skopeo and umoci read by the ref we gave, and back out to the registry.
            var layout = Path.Combine(_session.TempDir, "layout");
            _session.SetVariable("layout", layout);
            Assert.Equal(digest, (string)Assert.Single(_session.Objects($"Copy-Image {remote} \"oci:${{layout}}:v1\"")).Digest);
            Assert.Contains(digest, ExternalTool.Run("skopeo", "inspect", $"oci:{layout}:v1"));
            Assert.Contains("v1", ExternalTool.Run("umoci", "ls", "--layout", layout));
            _session.Run($"Copy-Image \"oci:${{layout}}:v1\" {_registry.Host}/back/copy:1 | Out-Null");
            Assert.Empty(_session.Errors);
            Assert.Contains(digest, ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{_registry.Host}/back/copy:1"));

            // To a docker-archive that skopeo reads, and from it into the store.
            var archive = Path.Combine(_session.TempDir, "copied-archive.tar");
            _session.SetVariable("archive", archive);
            _session.Run($"Copy-Image {remote} \"docker-archive:$archive\" | Out-Null");
            Assert.Empty(_session.Errors);
            Assert.Equal(ExternalTool.Run("skopeo", "inspect", "--config", "--tls-verify=false", $"docker://{remote}"), ExternalTool.Run("skopeo", "inspect", "--config", $"docker-archive:{archive}"));
            Assert.Contains(remote, ExternalTool.Run("tar", "-xOf", archive, "manifest.json"));
            _session.Run("Copy-Image \"docker-archive:$archive\" store:copy:2 | Out-Null");
            var stored = Assert.Single(_session.Objects("Get-Image copy:2"));
            Assert.Empty(_session.Errors);

            // A location that makes no sense is a clear error.
            _session.Run("Copy-Image containers-storage:alpine:3 store:x:1");
            Assert.Equal("TransportNotSupported,ImageModule.Commands.CopyImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void Remove_RegistryImage_deletes_only_after_WhatIf_shows_it()
        {
            var remote = Push("gone", 62);
            _session.SetVariable("remote", remote);
            _session.Run("Remove-RegistryImage $remote -WhatIf");
            Assert.Contains("1", _session.Objects($"Find-Image {_registry.Host}/team/gone -ListTags").Select(o => (string)o.Tag));
            _session.Run("Remove-RegistryImage $remote -Confirm:$false");
            Assert.Empty(_session.Errors);
            Assert.Empty(_session.Run($"Find-Image {_registry.Host}/team/gone -ListTags"));
            _session.Run("Remove-RegistryImage $remote -Confirm:$false");
            Assert.Equal("ImageNotFound,ImageModule.Commands.RemoveRegistryImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void Install_Image_AllTags_pulls_every_tag_and_a_shared_base_layer_is_fetched_once()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "base", 2, 63));
            _session.Run("$base = Import-Image $tar -Name base:1");
            foreach (var tag in new[] { "1", "2", "3" })
                _session.Run($"Add-ImageTag base:1 base:{tag} | Out-Null; Publish-Image base:{tag} -Destination {_registry.Host}/team/base:{tag} | Out-Null");
            _session.Run("Get-Image base | Remove-Image -Force");
            Assert.Equal(0, StoreBlobs());

            var pulled = _session.Objects($"Install-Image {_registry.Host}/team/base -AllTags");
            Assert.Empty(_session.Errors);
            Assert.Equal(new[] { "1", "2", "3" }, pulled.Select(i => (string)i.Tag).OrderBy(t => t).ToArray());
            Assert.Single(pulled.Select(i => (string)i.Id).Distinct());
            // The layer came once; the later tags found it already there.
            Assert.Contains(_session.Progress, p => p.StatusDescription != null && p.StatusDescription.Contains("already exists"));

            _session.Run($"Install-Image {_registry.Host}/team/base:1 -AllTags");
            Assert.Equal("AllTagsWithTag,ImageModule.Commands.InstallImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
        }

        /// <summary>
        /// Docker Hub cannot be reached from the test machine, so its search API is replayed: the JSON below is the
        /// shape index.docker.io/v1/search returns (recorded, trimmed to four results), served on loopback.
        /// </summary>
        [Fact]
        public async Task Find_Image_Term_searches_with_limit_and_official_filters_on_a_recorded_Docker_Hub_response()
        {
            var recorded = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "Data", "dockerhub-search-nginx.json"));
            var port = RegistryFixture.FreePort();
            using var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            string? query = null;
            var serving = Task.Run(async () =>
            {
                for (var i = 0; i < 4; i++)
                {
                    var context = await listener.GetContextAsync();
                    query = context.Request.Url!.PathAndQuery;
                    context.Response.ContentType = "application/json";
                    await context.Response.OutputStream.WriteAsync(recorded);
                    context.Response.Close();
                }
            });
            _session.SetVariable("index", $"127.0.0.1:{port}");

            var all = _session.Objects("Find-Image nginx -Registry $index");
            Assert.Empty(_session.Errors);
            Assert.Equal(4, all.Count);
            Assert.Equal("/v1/search?q=nginx&n=25", query);
            var official = Assert.Single(_session.Objects("Find-Image nginx -Registry $index -IsOfficial -Limit 2"));
            // Names from a registry other than Docker Hub carry its host, so a result piped on means that registry.
            Assert.Equal($"127.0.0.1:{port}/nginx", (string)official.Name);
            Assert.Equal(20512, (int)official.StarCount);
            var popular = _session.Objects("Find-Image nginx -Registry $index -MinimumStars 150 -Limit 2");
            Assert.Equal(new[] { $"127.0.0.1:{port}/nginx", $"127.0.0.1:{port}/nginxinc/nginx-unprivileged" }, popular.Select(r => (string)r.Name).ToArray());
            var table = _session.RunAndRender("Find-Image nginx -Registry $index -Limit 1");
            Assert.Contains("[OK]", table);
            await serving.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Registries that need settings or logins: TLS with a generated CA, token auth, a pull-through mirror.</summary>
    public sealed class SecuredRegistryStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        [Fact]
        public void A_TLS_registry_is_refused_until_its_CA_is_set_and_then_pulls_and_pushes()
        {
            using var registry = new RegistryFixture(new RegistryOptions { Tls = true });
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "tls", 1, 64));
            _session.SetVariable("remote", $"{registry.Host}/secure/tls:1");
            _session.SetVariable("ca", registry.Certificate!.CertificatePath);
            _session.Run("Import-Image $tar -Name tls:1 | Out-Null");

            _session.Run("Publish-Image tls:1 -Destination $remote");
            var refused = Assert.Single(_session.Errors);
            Assert.Equal("RegistryCertificateUntrusted,ImageModule.Commands.PublishImageCommand", refused.FullyQualifiedErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.SecurityError, refused.CategoryInfo.Category);

            var settings = Assert.Single(_session.Objects($"Set-ImageRegistrySetting {registry.Host} -CertificateAuthority $ca -PassThru"));
            Assert.Equal(registry.Certificate.CertificatePath, (string)settings.CertificateAuthority);
            Assert.Contains(registry.Host, File.ReadAllText(_session.RegistrySettingsPath));
            var pushed = Assert.Single(_session.Objects("Publish-Image tls:1 -Destination $remote"));
            Assert.Empty(_session.Errors);
            _session.Run("Remove-Image tls:1");
            Assert.Equal((string)pushed.Digest, (string)Assert.Single(_session.Objects("Install-Image $remote")).Digest);
            Assert.Contains(registry.Host, _session.RunAndRender("Get-ImageRegistrySetting"));

            _session.Run($"Set-ImageRegistrySetting {registry.Host} -Reset");
            Assert.Empty(_session.Objects("Get-ImageRegistrySetting"));
        }

        [Fact]
        public void Token_auth_login_then_push_and_pull_with_JWTs_the_registry_verifies()
        {
            using var issuer = new TokenIssuer(_session.TempDir, "bob", "t0ken-Pa55");
            using var registry = new RegistryFixture(new RegistryOptions { Token = issuer });
            _session.SetVariable("dockerConfig", Path.Combine(_session.TempDir, "docker-config"));
            _session.SetVariable("registry", registry.Host);
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "tok", 1, 65));
            var previous = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            try
            {
                _session.Run("$env:DOCKER_CONFIG = $dockerConfig; Import-Image $tar -Name tok:1 | Out-Null");
                _session.Run("$bad = [pscredential]::new('bob', [Net.NetworkCredential]::new('', 'not-the-Pa55').SecurePassword); $good = [pscredential]::new('bob', [Net.NetworkCredential]::new('', 't0ken-Pa55').SecurePassword)");
                _session.Run("Connect-ImageRegistry $registry -Credential $bad");
                var refused = Assert.Single(_session.Errors);
                Assert.Equal("RegistryUnauthorized,ImageModule.Commands.ConnectImageRegistryCommand", refused.FullyQualifiedErrorId);
                Assert.DoesNotContain("not-the-Pa55", refused.ToString());

                _session.Errors.Clear();
                Assert.Single(_session.Objects("Connect-ImageRegistry $registry -Credential $good"));
                var pushed = Assert.Single(_session.Objects($"Publish-Image tok:1 -Destination {registry.Host}/team/tok:1"));
                _session.Run("Remove-Image tok:1");
                Assert.Equal((string)pushed.Digest, (string)Assert.Single(_session.Objects($"Install-Image {registry.Host}/team/tok:1")).Digest);
                Assert.Empty(_session.Errors);
                Assert.Contains("bob", issuer.Accounts);
                Assert.DoesNotContain("t0ken-Pa55", _session.HostOutput);
            }
            finally
            {
                Environment.SetEnvironmentVariable("DOCKER_CONFIG", previous);
            }
        }

        [Fact]
        public void A_pull_through_mirror_serves_pulls_and_the_origin_takes_over_when_it_is_down()
        {
            using var origin = new RegistryFixture();
            using var mirror = new RegistryFixture(new RegistryOptions { ProxyOf = origin.Url });
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "mir", 1, 66));
            var remote = $"{origin.Host}/team/mir:1";
            _session.Run($"Import-Image $tar -Name mir:1 | Out-Null; Publish-Image mir:1 -Destination {remote} | Out-Null; Remove-Image mir:1");
            _session.Run($"Set-ImageRegistrySetting {origin.Host} -Mirror {mirror.Host}");
            Assert.Empty(_session.Errors);

            var pulled = Assert.Single(_session.Objects($"Install-Image {remote} -Verbose"));
            Assert.Contains($"mirror {mirror.Host}", _session.HostOutput);
            Assert.True(Directory.Exists(Path.Combine(mirror.DataRoot, "docker", "registry", "v2", "blobs")), "the mirror cached what it served");

            mirror.Kill();
            _session.Run("Get-Image mir | Remove-Image");
            Assert.Equal((string)pulled.Id, (string)Assert.Single(_session.Objects($"Install-Image {remote}")).Id);
            Assert.Empty(_session.Errors);
        }
    }
}
