using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Pull and push against a real registry on loopback, with skopeo as the peer.</summary>
    public sealed class RegistryStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        private int BlobCount() => Directory.Exists(Path.Combine(_session.StorePath, "blobs", "sha256")) ? Directory.GetFiles(Path.Combine(_session.StorePath, "blobs", "sha256")).Length : 0;

        [Fact]
        public void Publish_then_Install_round_trips_with_digests_skopeo_agrees_on()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "app", 3, 41));
            var local = Assert.Single(_session.Objects("Import-Image $tar -Name app:1"));
            var remote = $"{_registry.Host}/team/app:1";
            _session.SetVariable("remote", remote);

            var published = Assert.Single(_session.Objects("Publish-Image -Name app:1 -Destination $remote"));
            Assert.Empty(_session.Errors);
            Assert.Equal(remote, (string)published.Name);
            var raw = ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{remote}");
            Assert.Contains((string)published.Digest, raw);
            Assert.Contains((string)local.LayerDiffIds[0], ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", "--config", $"docker://{remote}"));

            _session.Run("Remove-Image app:1");
            Assert.Equal(0, BlobCount());
            var pulled = Assert.Single(_session.Objects("Install-Image $remote"));
            Assert.Empty(_session.Errors);
            Assert.Equal((string)local.Id, (string)pulled.Id);
            Assert.Equal((string)published.Digest, (string)pulled.Digest);
            Assert.Contains(_session.Progress, p => p.PercentComplete > 0);

            // Pulling again is one request, counted in the registry's own log: the manifest, and no blob.
            var mark = _registry.Requests.Count;
            Assert.Single(_session.Objects("Install-Image $remote"));
            var repull = _registry.RequestsSince(mark);
            Assert.True(repull.Count == 1 && repull[0].Path.Contains("/manifests/", StringComparison.Ordinal), "re-pull asked for: " + string.Join("; ", repull));

            // By digest too.
            _session.SetVariable("pinned", $"{_registry.Host}/team/app@{published.Digest}");
            var byDigest = Assert.Single(_session.Objects("Install-Image $pinned"));
            Assert.Equal((string)local.Id, (string)byDigest.Id);
        }

        [Fact]
        public void Stopping_a_pull_midway_stops_promptly_and_names_nothing()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "stoppull", 200, 47));
            var remote = $"{_registry.Host}/team/stoppull:1";
            _session.Run($"Import-Image $tar -Name stoppull:1 | Out-Null; Publish-Image stoppull:1 -Destination {remote} | Out-Null; Remove-Image stoppull:1");
            Assert.Empty(_session.Errors);
            var temp = Path.Combine(_session.StorePath, ".imagemodule", "tmp");
            var elapsed = _session.RunAndStop($"Install-Image {remote}",
                () => Directory.Exists(temp) && Directory.GetFiles(temp, "*", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 1_000_000),
                TimeSpan.FromSeconds(60));
            Assert.True(elapsed < TimeSpan.FromSeconds(5), $"stopping took {elapsed}");
            Assert.Empty(_session.Objects("Get-Image"));
            // Partial downloads are staged in this process's directory under tmp/ (see Staging).
            Assert.Empty(Directory.GetFiles(temp, "*", SearchOption.AllDirectories));
        }

        [Fact]
        public void Find_lists_tags_and_the_catalog_across_pages()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "tags", 1, 43));
            _session.Run("Import-Image $tar -Name app:1 | Out-Null");
            _session.SetVariable("registry", _registry.Host);
            _session.Run("foreach ($t in 'v1', 'v2', 'v3', 'latest') { Publish-Image app:1 -Destination \"$registry/team/app:$t\" | Out-Null }; Publish-Image app:1 -Destination \"$registry/other/tool:1\" | Out-Null");
            Assert.Empty(_session.Errors);

            var tags = _session.Objects("Find-Image \"$registry/team/app\" -ListTags -PageSize 2").Select(o => (string)o.Tag).OrderBy(t => t).ToArray();
            Assert.Equal(new[] { "latest", "v1", "v2", "v3" }, tags);
            Assert.Equal(3, _session.Run("Find-Image \"$registry/team/app\" -ListTags -Filter 'v*'").Count);
            var repositories = _session.Objects("Find-Image -Registry $registry -PageSize 1").Select(o => (string)o.Repository).ToArray();
            Assert.Equal(new[] { "other/tool", "team/app" }, repositories.OrderBy(r => r).ToArray());

            _session.Run("Find-Image \"$registry/team/nothing\" -ListTags");
            Assert.Equal("ImageNotFound,ImageModule.Commands.FindImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
        }

        [Fact]
        public void An_image_skopeo_pushed_installs_with_the_same_config_digest()
        {
            var layout = Path.Combine(_session.TempDir, "layout");
            var file = Path.Combine(_session.TempDir, "payload.bin");
            File.WriteAllBytes(file, Enumerable.Range(0, 300_000).Select(i => (byte)(i * 13)).ToArray());
            ExternalTool.Run("umoci", "init", "--layout", layout);
            ExternalTool.Run("umoci", "new", "--image", layout + ":x");
            ExternalTool.Run("umoci", "insert", "--rootless", "--image", layout + ":x", file, "/payload.bin");
            var remote = $"{_registry.Host}/peer/x:7";
            ExternalTool.Run("skopeo", "copy", "--dest-tls-verify=false", $"oci:{layout}:x", $"docker://{remote}");
            var config = ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", "--raw", $"docker://{remote}");
            _session.SetVariable("remote", remote);
            var pulled = Assert.Single(_session.Objects("Install-Image $remote"));
            Assert.Contains((string)pulled.Id, config);
        }

        [Fact]
        public void A_layer_corrupted_in_the_store_is_refused_by_the_registry_and_names_nothing()
        {
            // Pushes read the store without hashing it: the registry checks every upload against its digest.
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "rot", 2, 47));
            var local = Assert.Single(_session.Objects("Import-Image $tar -Name rot:1"));
            var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Path.Combine(_session.StorePath, "blobs", "sha256", ((string)local.Digest).Substring(7))));
            var layer = manifest.RootElement.GetProperty("layers")[0].GetProperty("digest").GetString()!.Substring(7);
            var path = Path.Combine(_session.StorePath, "blobs", "sha256", layer);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0xff;
            File.WriteAllBytes(path, bytes);

            _session.SetVariable("remote", $"{_registry.Host}/team/rot:1");
            _session.Run("Publish-Image -Name rot:1 -Destination $remote");
            Assert.Equal("DigestMismatch,ImageModule.Commands.PublishImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            Assert.ThrowsAny<Exception>(() => ExternalTool.Run("skopeo", "inspect", "--tls-verify=false", $"docker://{_registry.Host}/team/rot:1"));
        }

        [Fact]
        public void A_missing_image_is_ImageNotFound_and_adds_nothing()
        {
            _session.SetVariable("remote", $"{_registry.Host}/team/missing:1");
            _session.Run("Install-Image $remote");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("ImageNotFound,ImageModule.Commands.InstallImageCommand", error.FullyQualifiedErrorId);
            Assert.Empty(_session.Objects("Get-Image"));
        }

        [Fact]
        public void An_unreachable_registry_is_a_ConnectionError()
        {
            _session.Run("Install-Image 127.0.0.1:1/nothing/here:1");
            var error = Assert.Single(_session.Errors);
            Assert.Equal("RegistryUnreachable,ImageModule.Commands.InstallImageCommand", error.FullyQualifiedErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.ConnectionError, error.CategoryInfo.Category);
        }
    }

    /// <summary>A registry behind htpasswd basic auth.</summary>
    public sealed class PrivateRegistryStories : IDisposable
    {
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new("alice", "s3cret-Passw0rd");

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        [Fact]
        public void The_right_password_pushes_and_pulls_and_a_wrong_one_is_refused_without_echoing_it()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "priv", 1, 42));
            _session.Run("Import-Image $tar -Name priv:1 | Out-Null");
            _session.SetVariable("remote", $"{_registry.Host}/private/app:1");
            // ConvertTo-SecureString is not in the hosted engine's core cmdlets; NetworkCredential makes the same SecureString.
            _session.Run("$good = [pscredential]::new('alice', [Net.NetworkCredential]::new('', 's3cret-Passw0rd').SecurePassword); $bad = [pscredential]::new('alice', [Net.NetworkCredential]::new('', 'wrong-Passw0rd').SecurePassword)");
            Assert.Empty(_session.Errors);

            _session.Run("Publish-Image priv:1 -Destination $remote");
            Assert.Equal("RegistryUnauthorized,ImageModule.Commands.PublishImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);

            _session.Run("Publish-Image priv:1 -Destination $remote -Credential $bad");
            var refused = Assert.Single(_session.Errors);
            Assert.Equal("RegistryUnauthorized,ImageModule.Commands.PublishImageCommand", refused.FullyQualifiedErrorId);
            Assert.Equal(System.Management.Automation.ErrorCategory.AuthenticationError, refused.CategoryInfo.Category);
            Assert.DoesNotContain("wrong-Passw0rd", refused.ToString());

            Assert.Single(_session.Objects("Publish-Image priv:1 -Destination $remote -Credential $good"));
            Assert.Empty(_session.Errors);
            _session.Run("Remove-Image priv:1");
            Assert.Single(_session.Objects("Install-Image $remote -Credential $good"));
            Assert.Empty(_session.Errors);
            Assert.DoesNotContain("s3cret-Passw0rd", _session.HostOutput);
        }

        [Fact]
        public void Connect_stores_the_login_like_docker_and_Disconnect_forgets_it()
        {
            var dockerConfig = Path.Combine(_session.TempDir, "docker-config");
            _session.SetVariable("dockerConfig", dockerConfig);
            _session.SetVariable("registry", _registry.Host);
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "login", 1, 44));
            _session.Run("$env:DOCKER_CONFIG = $dockerConfig; Import-Image $tar -Name login:1 | Out-Null");
            _session.Run("$good = [pscredential]::new('alice', [Net.NetworkCredential]::new('', 's3cret-Passw0rd').SecurePassword); $bad = [pscredential]::new('alice', [Net.NetworkCredential]::new('', 'wrong-Passw0rd').SecurePassword)");
            try
            {
                _session.Run("Connect-ImageRegistry $registry -Credential $bad");
                Assert.Equal("RegistryUnauthorized,ImageModule.Commands.ConnectImageRegistryCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
                Assert.False(File.Exists(Path.Combine(dockerConfig, "config.json")));

                var connection = Assert.Single(_session.Objects("Connect-ImageRegistry $registry -Credential $good"));
                Assert.Equal("alice", (string)connection.UserName);
                var config = File.ReadAllText(Path.Combine(dockerConfig, "config.json"));
                Assert.Contains(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alice:s3cret-Passw0rd")), config);
                Assert.Contains($"\"{_registry.Host}\"", config);
                if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dockerConfig, "config.json")));
                Assert.DoesNotContain("s3cret-Passw0rd", _session.RunAndRender("Connect-ImageRegistry $registry -Credential $good"));

                // Later commands use the stored login without -Credential.
                Assert.Single(_session.Objects($"Publish-Image login:1 -Destination {_registry.Host}/private/login:1"));
                Assert.Empty(_session.Errors);

                _session.Run("Disconnect-ImageRegistry $registry");
                Assert.Empty(_session.Errors);
                Assert.DoesNotContain(_registry.Host, File.ReadAllText(Path.Combine(dockerConfig, "config.json")));
                _session.Run($"Publish-Image login:1 -Destination {_registry.Host}/private/login:2");
                Assert.Equal("RegistryUnauthorized,ImageModule.Commands.PublishImageCommand", Assert.Single(_session.Errors).FullyQualifiedErrorId);
            }
            finally
            {
                _session.Run("$env:DOCKER_CONFIG = $null");
            }
        }

        /// <summary>
        /// docker's credsStore with a real helper (docker-credential-pass over a throwaway gpg key and password store):
        /// the secret goes to the helper, never into config.json, and comes back for later commands.
        /// </summary>
        [Fact]
        public void Connect_with_a_credential_helper_keeps_the_secret_out_of_the_config_file()
        {
            var gnupg = Path.Combine(_session.TempDir, "gnupg");
            var passwords = Path.Combine(_session.TempDir, "password-store");
            Directory.CreateDirectory(gnupg);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(gnupg, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var previous = (Environment.GetEnvironmentVariable("GNUPGHOME"), Environment.GetEnvironmentVariable("PASSWORD_STORE_DIR"));
            Environment.SetEnvironmentVariable("GNUPGHOME", gnupg);
            Environment.SetEnvironmentVariable("PASSWORD_STORE_DIR", passwords);
            var dockerConfig = Path.Combine(_session.TempDir, "docker-config-helper");
            Directory.CreateDirectory(dockerConfig);
            File.WriteAllText(Path.Combine(dockerConfig, "config.json"), "{\"credsStore\": \"pass\", \"experimental\": \"kept\"}");
            try
            {
                ExternalTool.Run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "imagemodule-test@example.invalid", "default", "default", "never");
                ExternalTool.Run("pass", "init", "imagemodule-test@example.invalid");
                _session.SetVariable("dockerConfig", dockerConfig);
                _session.SetVariable("registry", _registry.Host);
                _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "helper", 1, 45));
                _session.Run("$env:DOCKER_CONFIG = $dockerConfig; Import-Image $tar -Name helper:1 | Out-Null");
                _session.Run("$good = [pscredential]::new('alice', [Net.NetworkCredential]::new('', 's3cret-Passw0rd').SecurePassword)");

                Assert.Single(_session.Objects("Connect-ImageRegistry $registry -Credential $good"));
                Assert.Empty(_session.Errors);
                var config = File.ReadAllText(Path.Combine(dockerConfig, "config.json"));
                Assert.DoesNotContain(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("alice:s3cret-Passw0rd")), config);
                Assert.Contains("kept", config);
                Assert.Contains(_registry.Host, ExternalTool.Run("docker-credential-pass", "list"));

                Assert.Single(_session.Objects($"Publish-Image helper:1 -Destination {_registry.Host}/private/helper:1"));
                Assert.Empty(_session.Errors);
                _session.Run("Disconnect-ImageRegistry $registry");
                Assert.DoesNotContain(_registry.Host, ExternalTool.Run("docker-credential-pass", "list"));
            }
            finally
            {
                _session.Run("$env:DOCKER_CONFIG = $null");
                try { ExternalTool.Run(TimeSpan.FromSeconds(10), "gpgconf", "--kill", "gpg-agent"); } catch (Exception) { }
                Environment.SetEnvironmentVariable("GNUPGHOME", previous.Item1);
                Environment.SetEnvironmentVariable("PASSWORD_STORE_DIR", previous.Item2);
            }
        }
    }
}
