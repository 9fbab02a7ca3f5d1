using ImageModule.References;
using Xunit;

namespace ImageModule.Tests
{
    public sealed class ReferenceTests
    {
        private const string Sha = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        private const string Sha512 = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";

        [Theory]
        [InlineData("alpine", "docker.io/library/alpine:latest", "alpine:latest")]
        [InlineData("alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20")]
        [InlineData("library/alpine", "docker.io/library/alpine:latest", "alpine:latest")]
        [InlineData("docker.io/alpine", "docker.io/library/alpine:latest", "alpine:latest")]
        [InlineData("docker.io/library/alpine:edge", "docker.io/library/alpine:edge", "alpine:edge")]
        [InlineData("index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest")]
        [InlineData("registry-1.docker.io/user/app:1", "docker.io/user/app:1", "user/app:1")]
        [InlineData("user/app", "docker.io/user/app:latest", "user/app:latest")]
        [InlineData("user/app/sub", "docker.io/user/app/sub:latest", "user/app/sub:latest")]
        [InlineData("localhost/app", "localhost/app:latest", "localhost/app:latest")]
        [InlineData("localhost:5000/app", "localhost:5000/app:latest", "localhost:5000/app:latest")]
        [InlineData("localhost:5000/a/b:c", "localhost:5000/a/b:c", "localhost:5000/a/b:c")]
        [InlineData("127.0.0.1:5000/a", "127.0.0.1:5000/a:latest", "127.0.0.1:5000/a:latest")]
        [InlineData("[::1]:5000/a:b", "[::1]:5000/a:b", "[::1]:5000/a:b")]
        [InlineData("[2001:db8::1]/x", "[2001:db8::1]/x:latest", "[2001:db8::1]/x:latest")]
        [InlineData("ghcr.io/owner/repo:v1.2.3", "ghcr.io/owner/repo:v1.2.3", "ghcr.io/owner/repo:v1.2.3")]
        [InlineData("quay.io/a/b/c/d:tag_1", "quay.io/a/b/c/d:tag_1", "quay.io/a/b/c/d:tag_1")]
        [InlineData("Registry.Example.COM/app", "Registry.Example.COM/app:latest", "Registry.Example.COM/app:latest")]
        [InlineData("my-registry:443/team/app", "my-registry:443/team/app:latest", "my-registry:443/team/app:latest")]
        [InlineData("a.b/c", "a.b/c:latest", "a.b/c:latest")]
        [InlineData("app_name", "docker.io/library/app_name:latest", "app_name:latest")]
        [InlineData("app__name", "docker.io/library/app__name:latest", "app__name:latest")]
        [InlineData("app---name", "docker.io/library/app---name:latest", "app---name:latest")]
        [InlineData("app.name", "docker.io/library/app.name:latest", "app.name:latest")]
        [InlineData("a0", "docker.io/library/a0:latest", "a0:latest")]
        [InlineData("0a", "docker.io/library/0a:latest", "0a:latest")]
        [InlineData("app:TAG", "docker.io/library/app:TAG", "app:TAG")]
        [InlineData("app:_tag", "docker.io/library/app:_tag", "app:_tag")]
        [InlineData("app:1.0-rc.1", "docker.io/library/app:1.0-rc.1", "app:1.0-rc.1")]
        [InlineData("alpine@" + Sha, "docker.io/library/alpine@" + Sha, "alpine@" + Sha)]
        [InlineData("alpine:3@" + Sha, "docker.io/library/alpine:3@" + Sha, "alpine:3@" + Sha)]
        [InlineData("localhost:5000/a@" + Sha, "localhost:5000/a@" + Sha, "localhost:5000/a@" + Sha)]
        [InlineData("alpine@" + Sha512, "docker.io/library/alpine@" + Sha512, "alpine@" + Sha512)]
        [InlineData("example.com:5000/a/b/c:t", "example.com:5000/a/b/c:t", "example.com:5000/a/b/c:t")]
        [InlineData("sub.example.com/app", "sub.example.com/app:latest", "sub.example.com/app:latest")]
        [InlineData("xn--bcher-kva.example/app", "xn--bcher-kva.example/app:latest", "xn--bcher-kva.example/app:latest")]
        [InlineData("docker.io/library/library", "docker.io/library/library:latest", "library:latest")]
        [InlineData("docker.io/library/a/b", "docker.io/library/a/b:latest", "library/a/b:latest")]
        [InlineData("localhost:5000/app:latest", "localhost:5000/app:latest", "localhost:5000/app:latest")]
        [InlineData("app:a", "docker.io/library/app:a", "app:a")]
        public void Valid_references_normalise(string input, string full, string familiar)
        {
            var reference = ImageReference.Parse(input);
            Assert.Equal(full, reference.ToString());
            Assert.Equal(familiar, reference.FamiliarString);
            Assert.Equal(reference, ImageReference.Parse(reference.ToString()));
        }

        [Fact]
        public void Parts_are_exposed_and_the_default_tag_is_optional()
        {
            var r = ImageReference.Parse("localhost:5000/team/app:v2");
            Assert.Equal("localhost:5000", r.Registry);
            Assert.Equal("team/app", r.Repository);
            Assert.Equal("v2", r.Tag);
            Assert.Equal("localhost:5000/team/app", r.Name);
            Assert.Equal("localhost:5000", r.RegistryHost);
            Assert.Null(ImageReference.Parse("alpine", defaultTag: false).Tag);
            Assert.Null(ImageReference.Parse("alpine@" + Sha).Tag);
            Assert.Equal("registry-1.docker.io", ImageReference.Parse("alpine").RegistryHost);
            Assert.Equal("docker.io/library/alpine:9", ImageReference.Parse("alpine@" + Sha).WithTag("9").ToString());
        }

        [Fact]
        public void Tags_may_have_128_characters_but_not_129()
        {
            Assert.Equal(128, ImageReference.Parse("app:" + new string('a', 128)).Tag!.Length);
            Assert.Contains("128", Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse("app:" + new string('a', 129))).Reason);
        }

        [Theory]
        [InlineData("")]
        [InlineData(" ")]
        [InlineData(" alpine")]
        [InlineData("alpine ")]
        [InlineData("al pine")]
        [InlineData(":tag")]
        [InlineData("app:")]
        [InlineData("app@")]
        [InlineData("app@sha256:short")]
        [InlineData("app@md5:d41d8cd98f00b204e9800998ecf8427e")]
        [InlineData("app@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
        [InlineData("Alpine")]
        [InlineData("docker.io/Library/alpine")]
        [InlineData("localhost:5000/App")]
        [InlineData("a//b")]
        [InlineData("a/")]
        [InlineData("/a")]
        [InlineData("-a")]
        [InlineData("a-")]
        [InlineData("a.")]
        [InlineData("_a")]
        [InlineData("a:-tag")]
        [InlineData("a:.tag")]
        [InlineData("a:t!ag")]
        [InlineData("a:b:c")]
        [InlineData("localhost:5000/")]
        [InlineData("exa_mple.com/app")]
        [InlineData("a/b@sha256:")]
        [InlineData("a___b")]
        public void Invalid_references_are_rejected_with_a_reason(string input)
        {
            var e = Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(input));
            Assert.False(string.IsNullOrWhiteSpace(e.Reason));
            Assert.Equal("InvalidReference", e.ErrorId);
            Assert.False(ImageReference.TryParse(input, out _, out var reason));
            Assert.NotNull(reason);
        }

        [Fact]
        public void Uppercase_repositories_say_so()
        {
            Assert.Equal("repository name must be lowercase", Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse("Upper/Case")).Reason);
        }

        [Fact]
        public void A_name_over_255_characters_is_rejected()
        {
            var longName = "example.com/" + string.Join("/", System.Linq.Enumerable.Repeat(new string('a', 60), 5));
            Assert.Contains("255", Assert.Throws<InvalidReferenceException>(() => ImageReference.Parse(longName)).Reason);
        }
    }
}
