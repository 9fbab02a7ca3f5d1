using System;
using System.IO;
using System.Linq;
using System.Net.Http;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Which platform the cmdlets take: -Platform checked (a bad value stops the command as a wrong parameter; a
    /// platform the image does not have is PlatformNotFound, single-platform images included), and without it
    /// DOCKER_DEFAULT_PLATFORM, else linux on this machine's architecture (never windows/…, even on Windows).
    /// A real registry serves a two-platform index (linux/amd64 + linux/arm64) and a single-platform image.
    /// </summary>
    public sealed class PlatformStories : IClassFixture<DockerFixture>, IDisposable
    {
        private readonly DockerFixture _engine;
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new();
        private readonly string? _previousDefault = Environment.GetEnvironmentVariable("DOCKER_DEFAULT_PLATFORM");

        public PlatformStories(DockerFixture engine)
        {
            _engine = engine;
            Environment.SetEnvironmentVariable("DOCKER_DEFAULT_PLATFORM", null);
        }

        public void Dispose()
        {
            Environment.SetEnvironmentVariable("DOCKER_DEFAULT_PLATFORM", _previousDefault);
            _session.Dispose();
            _registry.Dispose();
        }

        private static string HostLinux => "linux/" + RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "amd64",
            Architecture.Arm64 => "arm64",
            Architecture.X86 => "386",
            _ => RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant(),
        };

        private string Multi => $"{_registry.Host}/plat/multi:1";
        private string Single => $"{_registry.Host}/plat/single:1";

        /// <summary>Two images of different platforms pushed to one repository and an OCI index over them; one single-platform image.</summary>
        private void PublishImages()
        {
            foreach (var (arch, seed) in new[] { ("amd64", 1), ("arm64", 2) })
            {
                _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "plat-" + arch, 0, seed));
                _session.SetVariable("platform", "linux/" + arch);
                _session.SetVariable("remote", $"{_registry.Host}/plat/multi:{arch}");
                _session.Run($"Import-Image $tar -Name plat/{arch}:1 -Platform $platform | Publish-Image -Destination $remote");
                Assert.Empty(_session.Errors);
            }
            _session.SetVariable("remote", Single);
            _session.Run("Publish-Image -Name plat/amd64:1 -Destination $remote");
            Assert.Empty(_session.Errors);

            using var http = new HttpClient { BaseAddress = new Uri(_registry.Url) };
            string Entry(string arch)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/plat/multi/manifests/{arch}");
                request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
                request.Headers.Accept.ParseAdd("application/vnd.docker.distribution.manifest.v2+json");
                using var response = http.Send(request);
                response.EnsureSuccessStatusCode();
                var bytes = response.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
                var digest = "sha256:" + Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
                var mediaType = response.Content.Headers.ContentType!.MediaType;
                return $"{{\"mediaType\":\"{mediaType}\",\"digest\":\"{digest}\",\"size\":{bytes.Length},\"platform\":{{\"architecture\":\"{arch}\",\"os\":\"linux\"}}}}";
            }
            var index = $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{Entry("amd64")},{Entry("arm64")}]}}";
            using var put = new HttpRequestMessage(HttpMethod.Put, "/v2/plat/multi/manifests/1")
            {
                Content = new ByteArrayContent(Encoding.UTF8.GetBytes(index)),
            };
            put.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/vnd.oci.image.index.v1+json");
            using var created = http.Send(put);
            Assert.True(created.IsSuccessStatusCode, created.StatusCode.ToString());
            _session.Run("Remove-Image plat/amd64:1, plat/arm64:1");
            Assert.Empty(_session.Errors);
        }

        private string Terminating(string script)
        {
            var result = _session.Run($"try {{ {script}; 'not stopped' }} catch {{ $_.FullyQualifiedErrorId + '|' + $_.CategoryInfo.Category + '|' + $_.Exception.Message }}");
            return (string)Assert.Single(result).BaseObject;
        }

        [Fact]
        public void Without_Platform_an_index_gives_DOCKER_DEFAULT_PLATFORM_else_linux_on_this_architecture()
        {
            PublishImages();
            _session.SetVariable("multi", Multi);
            Assert.Equal(HostLinux, (string)Assert.Single(_session.Objects("Install-Image $multi")).Platform);

            _session.Run("Remove-Image $multi");
            _session.Run("$env:DOCKER_DEFAULT_PLATFORM = 'linux/arm64'");
            Assert.Equal("linux/arm64", (string)Assert.Single(_session.Objects("Install-Image $multi")).Platform);
            Assert.Empty(_session.Errors);

            // As for docker pull, the variable is the platform asked for: a single-platform image of another one is refused.
            _session.SetVariable("single", Single);
            _session.Objects("Install-Image $single");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);

            // A value that is not a platform stops the command and names the variable.
            _session.Run("$env:DOCKER_DEFAULT_PLATFORM = 'linux/amd65'");
            var stopped = Terminating("Install-Image $multi");
            Assert.StartsWith("InvalidPlatform,", stopped);
            Assert.Contains("DOCKER_DEFAULT_PLATFORM", stopped);
        }

        [Fact]
        public void Install_Image_Platform_is_validated_and_required_of_single_platform_images_too()
        {
            PublishImages();
            _session.SetVariable("multi", Multi);
            _session.SetVariable("single", Single);

            // Not a platform: the command stops before any pull, as for a wrong parameter.
            foreach (var bogus in new[] { "bogus", "linux/amd65", "windos/amd64", "linux/arm/v9", "linux//arm64", "a/b/c/d" })
            {
                _session.SetVariable("bogus", bogus);
                var stopped = Terminating("Install-Image $single, $multi -Platform $bogus");
                Assert.StartsWith("InvalidPlatform,ImageModule.Commands.InstallImageCommand|InvalidArgument|", stopped);
            }
            Assert.Empty(_session.Objects("Get-Image"));

            // A platform the images do not have: each is PlatformNotFound (non-terminating), the single-platform one too.
            var pulled = _session.Objects("Install-Image $single, $multi -Platform linux/s390x");
            Assert.Empty(pulled);
            Assert.Equal(2, _session.Errors.Count);
            Assert.All(_session.Errors, e => Assert.Equal("PlatformNotFound", e.FullyQualifiedErrorId.Split(',')[0]));
            Assert.Contains("linux/amd64", _session.Errors[0].Exception.Message);
            Assert.Contains("linux/arm64", _session.Errors[1].Exception.Message);
            Assert.Empty(_session.Objects("Get-Image"));

            // One that only the index has: the single image is refused, the index gives that image; spellings normalize.
            pulled = _session.Objects("Install-Image $single, $multi -Platform linux/aarch64");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal("linux/arm64", (string)Assert.Single(pulled).Platform);
            Assert.Equal("linux/amd64", (string)Assert.Single(_session.Objects("Install-Image $single -Platform x86_64")).Platform);
        }

        [Fact]
        public void Copy_Image_Platform_is_validated_and_required_of_single_platform_images_too()
        {
            PublishImages();
            _session.SetVariable("multi", "docker://" + Multi);
            _session.SetVariable("single", "docker://" + Single);
            _session.SetVariable("layout", "oci:" + Path.Combine(_session.TempDir, "layout"));

            Assert.StartsWith("InvalidPlatform,ImageModule.Commands.CopyImageCommand|InvalidArgument|", Terminating("Copy-Image $single \"${layout}:x\" -Platform linux/bogus"));
            Assert.False(Directory.Exists(Path.Combine(_session.TempDir, "layout")));

            _session.Run("Copy-Image $single \"${layout}:x\" -Platform linux/arm64");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("single-platform image for linux/amd64", _session.Errors[0].Exception.Message);

            _session.Run("Copy-Image $multi \"${layout}:arm\" -Platform linux/arm64");
            Assert.Empty(_session.Errors);
            _session.Run("Copy-Image $single \"${layout}:amd\" -Platform linux/amd64");
            Assert.Empty(_session.Errors);
            var arm = ExternalTool.Run("skopeo", "inspect", "--config", $"oci:{Path.Combine(_session.TempDir, "layout")}:arm");
            Assert.Contains("\"architecture\": \"arm64\"", arm);
        }

        [Fact]
        public void Import_Image_Platform_is_validated_and_DOCKER_DEFAULT_PLATFORM_is_the_default()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "imp", 0, 7));
            Assert.StartsWith("InvalidPlatform,ImageModule.Commands.ImportImageCommand|InvalidArgument|", Terminating("Import-Image $tar -Name imp:1 -Platform bogus"));
            Assert.Empty(_session.Objects("Get-Image"));

            Assert.Equal(HostLinux, (string)Assert.Single(_session.Objects("Import-Image $tar -Name imp:host")).Platform);
            Assert.Equal("linux/arm/v7", (string)Assert.Single(_session.Objects("Import-Image $tar -Name imp:arm -Platform linux/arm/v7")).Platform);
            _session.Run("$env:DOCKER_DEFAULT_PLATFORM = 'linux/ppc64le'");
            Assert.Equal("linux/ppc64le", (string)Assert.Single(_session.Objects("Import-Image $tar -Name imp:env")).Platform);
            Assert.Empty(_session.Errors);
        }

        [Fact]
        public void Import_Image_Platform_keeps_one_platform_of_a_multi_platform_archive_as_docker_load_does()
        {
            PublishImages();
            // A two-platform oci-archive as skopeo writes it.
            var archive = Path.Combine(_session.TempDir, "multi.oci.tar");
            ExternalTool.Run("skopeo", "copy", "--all", "--src-tls-verify=false", "docker://" + Multi, $"oci-archive:{archive}:plat/multi:1");
            _session.SetVariable("archive", archive);

            var warnings = _session.Run("Import-Image $archive -Platform linux/arm64 3>&1 | Where-Object { $_ -is [Management.Automation.WarningRecord] }");
            Assert.Empty(warnings);
            Assert.Empty(_session.Errors);
            var arm = Assert.Single(_session.Objects("Get-Image plat/multi:1"));
            Assert.Equal("linux/arm64", (string)arm.Platform);
            // The name is the arm64 image's manifest, not the index.
            var index = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(_session.StorePath, "index.json")))!;
            var entry = Assert.Single(index["manifests"]!.AsArray(), e => (string?)e!["annotations"]?["org.opencontainers.image.ref.name"] == "docker.io/plat/multi:1");
            Assert.Equal("application/vnd.oci.image.manifest.v1+json", (string?)entry!["mediaType"]);

            // With a new name; and a platform the archive does not have names nothing.
            Assert.Equal("linux/amd64", (string)Assert.Single(_session.Objects("Import-Image $archive -Platform linux/amd64 -Name mine:amd")).Platform);
            _session.Run("Import-Image $archive -Platform linux/s390x -Name mine:s390x");
            var missing = Assert.Single(_session.Errors);
            Assert.Equal("PlatformNotFound", missing.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("linux/arm64", missing.Exception.Message);
            Assert.Empty(_session.Objects("Get-Image mine:s390x -ErrorAction SilentlyContinue"));
            _session.Errors.Clear();

            // A single-platform archive must be for the platform asked for.
            _session.SetVariable("single", Path.Combine(_session.TempDir, "arm.tar"));
            _session.Run("Save-Image mine:amd -Path $single; Import-Image $single -Platform linux/arm64 -Name mine:wrong");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Empty(_session.Objects("Get-Image mine:wrong -ErrorAction SilentlyContinue"));
        }

        [Fact]
        public void A_multi_platform_image_goes_to_an_engine_as_DOCKER_DEFAULT_PLATFORM_else_as_the_engine_s_platform()
        {
            PublishImages();
            _session.SetVariable("multi", Multi);
            _session.SetVariable("engine", "unix://" + _engine.Socket);
            Assert.Single(_session.Objects("Install-Image $multi -AllPlatforms"));

            _session.Run("$env:DOCKER_DEFAULT_PLATFORM = 'linux/arm64'; Get-Image $multi | Copy-EngineImage -Engine $engine");
            Assert.Empty(_session.Errors);
            Assert.Equal("linux/arm64", _engine.Docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", Multi).Trim());

            // Without the variable, the engine says which platform it runs (GET /version): this dockerd's.
            _engine.Docker("rmi", Multi);
            _session.Run("$env:DOCKER_DEFAULT_PLATFORM = $null; Get-Image $multi | Copy-EngineImage -Engine $engine");
            Assert.Empty(_session.Errors);
            var engineOs = _engine.Docker("version", "--format", "{{.Server.Os}}/{{.Server.Arch}}").Trim();
            Assert.Equal(engineOs, _engine.Docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", Multi).Trim());
        }

        [Fact]
        public void Copy_Image_to_and_from_an_engine_honours_Platform()
        {
            PublishImages();
            _session.SetVariable("multi", "docker://" + Multi);
            _session.SetVariable("engine", "unix://" + _engine.Socket);

            // Registry index → engine: the platform asked for, not the engine's.
            _session.Run("Copy-Image $multi docker-daemon:plat/copied:arm -Engine $engine -Platform linux/arm64");
            Assert.Empty(_session.Errors);
            Assert.Equal("linux/arm64", _engine.Docker("image", "inspect", "--format", "{{.Os}}/{{.Architecture}}", "plat/copied:arm").Trim());
            _session.Run("Copy-Image $multi docker-daemon:plat/copied:s390x -Engine $engine -Platform linux/s390x");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);

            // Engine → store: an engine image is single-platform; asking for another one is refused before anything moves.
            _session.Run("Copy-Image docker-daemon:plat/copied:arm store:plat/back:1 -Engine $engine -Platform linux/amd64");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("single-platform image for linux/arm64", _session.Errors[0].Exception.Message);
            Assert.Empty(_session.Objects("Get-Image plat/back:1 -ErrorAction SilentlyContinue"));
            _session.Run("Copy-Image docker-daemon:plat/copied:arm store:plat/back:1 -Engine $engine -Platform linux/arm64");
            Assert.Empty(_session.Errors);
            Assert.Equal("linux/arm64", (string)Assert.Single(_session.Objects("Get-Image plat/back:1")).Platform);
        }

        [Fact]
        public void The_store_names_no_file_with_a_colon_which_Windows_cannot_hold()
        {
            PublishImages();
            _session.SetVariable("multi", Multi);
            _session.SetVariable("single", Single);
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "colon", 0, 11));
            _session.Run("Install-Image $multi -AllPlatforms; Install-Image $single; Import-Image $tar -Name colon:1; Add-ImageTag colon:1 colon:2; Remove-Image colon:2");
            Assert.Empty(_session.Errors);
            var entries = Directory.EnumerateFileSystemEntries(_session.StorePath, "*", SearchOption.AllDirectories).ToList();
            Assert.Contains(entries, e => e.Contains(Path.Combine("blobs", "sha256")));
            Assert.DoesNotContain(entries.Select(e => Path.GetRelativePath(_session.StorePath, e)), e => e.Contains(':'));
        }

        [Fact]
        public void Reading_a_store_image_for_a_platform_it_is_not_is_PlatformNotFound()
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "read", 0, 9));
            _session.Run("Import-Image $tar -Name read:1 -Platform linux/amd64");
            _session.SetVariable("out", Path.Combine(_session.TempDir, "saved.tar"));
            _session.Run("Save-Image read:1 -Path $out -Platform linux/arm64");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.False(File.Exists(Path.Combine(_session.TempDir, "saved.tar")));
            _session.Run("Get-ImageFile read:1 -Platform linux/arm64");
            Assert.Equal("PlatformNotFound", Assert.Single(_session.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.NotEmpty(_session.Objects("Get-ImageFile read:1 -Platform linux/amd64"));
            Assert.Empty(_session.Errors);
        }
    }
}
