using System.Collections.Generic;
using ImageModule.Oci;
using Xunit;

namespace ImageModule.Tests
{
    /// <summary>Parsing -Platform values and DOCKER_DEFAULT_PLATFORM: known names only, containerd's spellings, a clear InvalidPlatform.</summary>
    public sealed class PlatformTests
    {
        [Theory]
        [InlineData("linux/amd64", "linux/amd64")]
        [InlineData("Linux/AMD64", "linux/amd64")]
        [InlineData("linux/x86_64", "linux/amd64")]
        [InlineData("linux/aarch64", "linux/arm64")]
        [InlineData("linux/arm64/v8", "linux/arm64")]
        [InlineData("linux/arm", "linux/arm/v7")]
        [InlineData("linux/arm/v6", "linux/arm/v6")]
        [InlineData("linux/amd64/v3", "linux/amd64/v3")]
        [InlineData("windows/amd64", "windows/amd64")]
        [InlineData("arm64", "linux/arm64")]
        [InlineData("s390x", "linux/s390x")]
        [InlineData("linux/riscv64", "linux/riscv64")]
        [InlineData("macos/arm64", "darwin/arm64")]
        public void Known_platforms_parse_to_their_canonical_spelling(string text, string expected) =>
            Assert.Equal(expected, Platform.Parse(text).ToString());

        [Theory]
        [InlineData("bogus")]
        [InlineData("")]
        [InlineData("linux/")]
        [InlineData("/amd64")]
        [InlineData("linux/amd65")]
        [InlineData("windos/amd64")]
        [InlineData("linux/arm/v9")]
        [InlineData("linux/amd64/v7")]
        [InlineData("linux/arm64/x")]
        [InlineData("linux/amd64/v2/extra")]
        [InlineData("linux amd64")]
        public void Anything_else_is_InvalidPlatform(string text)
        {
            var e = Assert.Throws<ImageModuleException>(() => Platform.Parse(text));
            Assert.Equal("InvalidPlatform", e.ErrorId);
            Assert.Equal(ErrorKind.InvalidArgument, e.Kind);
            Assert.Contains("os/arch[/variant]", e.Message);
        }

        [Fact]
        public void A_lone_os_name_means_that_os_on_this_architecture()
        {
            var windows = Platform.Parse("windows");
            Assert.Equal("windows", windows.Os);
            Assert.Equal(Platform.Host.Architecture, windows.Architecture);
        }

        [Fact]
        public void DOCKER_DEFAULT_PLATFORM_is_read_when_set_and_named_when_wrong()
        {
            Assert.Null(Platform.FromEnvironment(_ => null));
            Assert.Null(Platform.FromEnvironment(_ => " "));
            var env = new Dictionary<string, string> { ["DOCKER_DEFAULT_PLATFORM"] = "linux/arm64" };
            Assert.Equal("linux/arm64", Platform.FromEnvironment(k => env.GetValueOrDefault(k))!.ToString());
            env["DOCKER_DEFAULT_PLATFORM"] = "linux/arm65";
            var e = Assert.Throws<ImageModuleException>(() => Platform.FromEnvironment(k => env.GetValueOrDefault(k)));
            Assert.Equal("InvalidPlatform", e.ErrorId);
            Assert.StartsWith("DOCKER_DEFAULT_PLATFORM: ", e.Message);
        }

        [Fact]
        public void The_platform_without_an_override_is_linux_whatever_the_OS()
        {
            // The override is not set in the test run: the default is the host fallback, and that is linux everywhere.
            Assert.Equal("linux", Platform.Host.Os);
            if (System.Environment.GetEnvironmentVariable("DOCKER_DEFAULT_PLATFORM") is null) Assert.Equal(Platform.Host, Platform.Default);
        }
    }
}
