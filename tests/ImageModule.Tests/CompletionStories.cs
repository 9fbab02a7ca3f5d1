using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>Tab completion as PowerShell computes it (TabExpansion2), for names, IDs, engines, platforms and registries.</summary>
    public sealed class CompletionStories : IDisposable
    {
        private readonly ModuleSession _session = new();

        public void Dispose() => _session.Dispose();

        private string[] Complete(string line)
        {
            _session.SetVariable("line", line);
            var texts = _session.Run("(TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText").Where(o => o != null).Select(o => o.ToString()!).ToArray();
            Assert.Empty(_session.Errors);
            return texts;
        }

        private dynamic Import(string name, int seed, string? platform = null)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "c" + seed, 0, seed));
            _session.SetVariable("name", name);
            _session.SetVariable("platform", platform);
            var image = Assert.Single(_session.Objects(platform is null ? "Import-Image $tar -Name $name" : "Import-Image $tar -Name $name -Platform $platform"));
            Assert.Empty(_session.Errors);
            return image;
        }

        [Fact]
        public void Image_names_tags_and_IDs_complete_from_the_store()
        {
            var alpine = Import("alpine:3", 401);
            Import("alpine:edge", 402);
            Import("localhost:5000/team/app:1", 403);

            Assert.Equal(new[] { "alpine:3", "alpine:edge" }, Complete("Get-Image al"));
            Assert.Equal(new[] { "alpine:edge" }, Complete("Remove-Image alpine:e"));
            Assert.Equal(new[] { "localhost:5000/team/app:1" }, Complete("Save-Image local"));
            Assert.Equal(new[] { "docker.io/library/alpine:3" }, Complete("Get-ImageLayer docker.io/library/alpine:3"));
            var shortId = (string)alpine.ShortId;
            Assert.Contains(shortId, Complete("Remove-Image -Id " + shortId.Substring(0, 3)));
            Assert.Contains(shortId, Complete("Get-Image " + shortId.Substring(0, 5)));
            // Copy-Image locations: transports, then the store's names after store:.
            Assert.Equal(new[] { "oci:", "oci-archive:" }, Complete("Copy-Image o"));
            Assert.Equal(new[] { "store:alpine:3", "store:alpine:edge" }, Complete("Copy-Image store:al"));

            // Another store named on the line is where names come from.
            var other = Path.Combine(_session.TempDir, "other");
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "c404", 0, 404));
            _session.SetVariable("other", other);
            _session.Run("Import-Image $tar -Name busybox:1 -StorePath $other | Out-Null");
            Assert.Equal(new[] { "busybox:1" }, Complete($"Get-Image -StorePath {other} bu"));
            Assert.Empty(Complete("Get-Image bu")); // "b" alone is hex: it could complete an ID

            // So is the store the session's defaults name, as the command will use it when it runs.
            _session.Run("$PSDefaultParameterValues['*-Image*:StorePath'] = $other");
            try
            {
                Assert.Equal(new[] { "busybox:1" }, Complete("Get-Image bu"));
                Assert.Equal(new[] { "store:busybox:1" }, Complete("Copy-Image store:bu"));
                Assert.Equal(new[] { "alpine:3", "alpine:edge" }, Complete($"Get-Image -StorePath {_session.StorePath} al"));
            }
            finally { _session.Run("$PSDefaultParameterValues.Remove('*-Image*:StorePath')"); }
        }

        [Fact]
        public void Engines_and_platforms_complete_with_the_images_own_platform_first()
        {
            Assert.Equal(new[] { "Podman" }, Complete("Get-Image -Engine P"));
            Assert.Equal(new[] { "Docker", "Podman", "Store" }, Complete("Remove-Image -Engine ").Take(3).ToArray());

            Import("multi:1", 405, "linux/s390x");
            var platforms = Complete("Save-Image multi:1 -Platform ");
            Assert.Equal("linux/s390x", platforms[0]);
            Assert.Contains("linux/amd64", platforms);
            Assert.Equal(new[] { "linux/arm64", "linux/arm64/v8" }, Complete("Install-Image alpine -Platform linux/arm6"));
        }

        [Fact]
        public void Registry_hosts_complete_from_docker_logins_and_registry_settings()
        {
            var dockerConfig = Path.Combine(_session.TempDir, "docker");
            Directory.CreateDirectory(dockerConfig);
            File.WriteAllText(Path.Combine(dockerConfig, "config.json"),
                "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"eDp5\"},\"registry.lab:5000\":{\"auth\":\"eDp5\"}},\"credHelpers\":{\"ecr.example.com\":\"ecr-login\"}}");
            var old = Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            Environment.SetEnvironmentVariable("DOCKER_CONFIG", dockerConfig);
            try
            {
                _session.Run("Set-ImageRegistrySetting mirror.lab:5001 -Insecure | Out-Null");
                Assert.Empty(_session.Errors);
                Assert.Equal(new[] { "docker.io", "ecr.example.com", "mirror.lab:5001", "registry.lab:5000" }, Complete("Connect-ImageRegistry "));
                Assert.Equal(new[] { "registry.lab:5000" }, Complete("Disconnect-ImageRegistry reg"));
                Assert.Equal(new[] { "mirror.lab:5001" }, Complete("Set-ImageRegistrySetting mi"));
                Assert.Equal(new[] { "ecr.example.com" }, Complete("Find-Image -Registry e"));
                // The secrets in auths are never part of a completion.
                Assert.DoesNotContain(Complete("Get-ImageRegistrySetting "), c => c.Contains("eDp5"));
            }
            finally
            {
                Environment.SetEnvironmentVariable("DOCKER_CONFIG", old);
            }
        }
    }
}
