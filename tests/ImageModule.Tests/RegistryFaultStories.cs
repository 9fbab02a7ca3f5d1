using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Pulls from registries that misbehave (<see cref="FaultServer"/>), through the cmdlets: each failure is one
    /// non-terminating error with a stable id, the other names still pull, -Verbose narrates and no secret shows.
    /// </summary>
    public sealed class RegistryFaultStories : IDisposable
    {
        private const string User = "alice";
        private const string Password = "Fault-St0ries-s3cret";
        private readonly ModuleSession _session = new();
        private readonly RegistryFixture _registry = new(User, Password);

        public RegistryFaultStories()
        {
            var secret = new SecureString();
            foreach (var c in Password) secret.AppendChar(c);
            _session.SetVariable("cred", new PSCredential(User, secret));
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "good", 2, 61));
            _session.Run("Import-Image $tar -Name good:1");
            _session.SetVariable("good", $"{_registry.Host}/team/good:1");
            _session.Run("Publish-Image good:1 -Destination $good -Credential $cred; Remove-Image good:1");
            Assert.Empty(_session.Errors);
        }

        public void Dispose()
        {
            _session.Dispose();
            _registry.Dispose();
        }

        private string[] Names() => _session.Objects("Get-Image").Select(i => (string)i.Name).ToArray();

        private void AssertNothingStaged()
        {
            var staging = Path.Combine(_session.StorePath, ".imagemodule", "tmp");
            Assert.Empty(Directory.Exists(staging) ? Directory.GetFiles(staging, "*", SearchOption.AllDirectories) : Array.Empty<string>());
        }

        private string ErrorId(int i) => _session.Errors[i].FullyQualifiedErrorId.Split(',')[0];

        [Fact]
        public void Install_Image_writes_one_error_for_a_broken_registry_pulls_the_next_name_and_narrates_without_secrets()
        {
            using var tokens = new FaultServer();
            tokens.OnRequest = r => Fault.Answer(200, "<html>not a token</html>", ("Content-Type", "text/html"));
            using var broken = new FaultServer();
            broken.OnRequest = r => Fault.Answer(401, "{}", ("WWW-Authenticate", $"Bearer realm=\"{tokens.Url}/token\",service=\"x\",scope=\"repository:team/app:pull\""));
            _session.SetVariable("broken", $"{broken.Host}/team/app:1");

            var output = _session.Run("Install-Image $broken, $good -Credential $cred -Verbose 4>&1");

            Assert.Single(_session.Errors);
            Assert.Equal("RegistryProtocolError", ErrorId(0));
            Assert.Equal(ErrorCategory.InvalidData, _session.Errors[0].CategoryInfo.Category);
            Assert.Equal(new[] { $"{_registry.Host}/team/good:1" }, Names());
            var verbose = output.Select(o => o.BaseObject).OfType<VerboseRecord>().Select(v => v.Message).ToList();
            Assert.Contains(verbose, v => v.StartsWith($"Resolved {_registry.Host}/team/good:1 to sha256:"));
            Assert.Contains(verbose, v => v.Contains("copying"));
            Assert.Contains(verbose, v => v.Contains("token service"));
            var everything = string.Join("\n", verbose.Concat(_session.Errors.Select(e => e.ToString())).Concat(output.Select(o => o.ToString())));
            Assert.DoesNotContain(Password, everything);
            Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)), everything);
            AssertNothingStaged();
        }

        [Fact]
        public void Missing_and_wrong_credentials_say_which_it_was_and_what_to_do()
        {
            var wrong = new SecureString();
            foreach (var c in "not-it") wrong.AppendChar(c);
            _session.SetVariable("wrong", new PSCredential(User, wrong));
            // No login is stored for this registry's random port, so nothing falls back on one.
            _session.Run("Install-Image $good");
            var missing = Assert.Single(_session.Errors);
            _session.Run("Install-Image $good -Credential $wrong");
            var refused = Assert.Single(_session.Errors);

            Assert.Equal(ErrorCategory.AuthenticationError, missing.CategoryInfo.Category);
            Assert.Equal(ErrorCategory.AuthenticationError, refused.CategoryInfo.Category);
            Assert.Contains("no credential", missing.Exception.Message);
            Assert.Contains("-Credential", missing.Exception.Message);
            Assert.Contains("Connect-ImageRegistry", missing.Exception.Message);
            Assert.Contains($"user '{User}'", refused.Exception.Message);
            Assert.Contains("Connect-ImageRegistry", refused.Exception.Message);
            Assert.DoesNotContain("not-it", refused.Exception.Message);
            Assert.Empty(Names());
        }

        [Fact]
        public void A_silent_registry_times_out_within_TimeoutSeconds_and_an_odd_port_is_an_invalid_reference_without_traffic()
        {
            _session.Run("Install-Image $good -Credential $cred");
            using var silent = new FaultServer();
            silent.OnRequest = r => new Fault { Silent = true };
            _session.SetVariable("silent", $"{silent.Host}/team/app:1");
            var before = File.ReadAllText(Path.Combine(_session.StorePath, "index.json"));

            var watch = Stopwatch.StartNew();
            _session.Run("Install-Image '127.0.0.1:99999/team/app:1', $silent -TimeoutSeconds 1");
            watch.Stop();

            Assert.Equal(2, _session.Errors.Count);
            Assert.Equal("InvalidReference", ErrorId(0));
            Assert.Contains("65535", _session.Errors[0].Exception.Message);
            Assert.Equal("RegistryTimeout", ErrorId(1));
            Assert.Equal(ErrorCategory.OperationTimeout, _session.Errors[1].CategoryInfo.Category);
            Assert.Contains(silent.Host, _session.Errors[1].Exception.Message);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(15), $"took {watch.Elapsed}");
            Assert.Equal(before, File.ReadAllText(Path.Combine(_session.StorePath, "index.json")));
            Assert.Equal(new[] { $"{_registry.Host}/team/good:1" }, Names());
            AssertNothingStaged();
        }

        [Fact]
        public void An_image_whose_config_is_not_JSON_is_refused_and_leaves_no_ghost_in_the_store()
        {
            // Served whole by the fault server: a valid manifest and layer, a config that is not JSON.
            var layer = Encoding.UTF8.GetBytes("a layer that is never fetched");
            var config = Encoding.UTF8.GetBytes("this is { not json");
            static string Sha(byte[] b) => "sha256:" + Convert.ToHexString(SHA256.HashData(b)).ToLowerInvariant();
            var manifest = Encoding.UTF8.GetBytes(
                "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"," +
                $"\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Sha(config)}\",\"size\":{config.Length}}}," +
                $"\"layers\":[{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"{Sha(layer)}\",\"size\":{layer.Length}}}]}}");
            using var fake = new FaultServer();
            fake.OnRequest = r =>
                r.Path == "/v2/" ? Fault.Answer(200, "{}")
                : r.Path.EndsWith("/manifests/1") ? new Fault { Status = 200, Body = manifest, Headers = new[] { ("Content-Type", "application/vnd.oci.image.manifest.v1+json") } }
                : r.Path.EndsWith(Sha(config)) ? new Fault { Status = 200, Body = config }
                : r.Path.EndsWith(Sha(layer)) ? new Fault { Status = 200, Body = layer }
                : null;
            _session.SetVariable("ghost", $"{fake.Host}/team/ghost:1");

            _session.Run("Install-Image $ghost, $good -Credential $cred");

            Assert.Single(_session.Errors);
            Assert.Equal("InvalidConfig", ErrorId(0));
            Assert.Equal(new[] { $"{_registry.Host}/team/good:1" }, Names());
            Assert.DoesNotContain("ghost", File.ReadAllText(Path.Combine(_session.StorePath, "index.json")));
            Assert.DoesNotContain(fake.Received, r => r.Path.EndsWith(Sha(layer)));
            AssertNothingStaged();
        }
    }
}
