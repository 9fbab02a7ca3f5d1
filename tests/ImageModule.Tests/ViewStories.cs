using System;
using System.IO;
using System.Linq;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>The default views in an 80-column console: every column people look at stays, nothing wraps or truncates badly.</summary>
    public sealed class ViewStories : IDisposable
    {
        private const string LongName = "registry.example.com:5000/platform-team/services/payment-gateway-service:2024.11.29-build.1234";
        private readonly ModuleSession _session = new();

        public ViewStories()
        {
            // An 80-column console, as a default terminal is.
            _session.Run("$Host.UI.RawUI.BufferSize = [System.Management.Automation.Host.Size]::new(80, 9001)");
        }

        public void Dispose() => _session.Dispose();

        private dynamic Import(string name, int seed, params string[] changes)
        {
            _session.SetVariable("tar", Rootfs.Create(_session.TempDir, "v" + seed, 1, seed));
            _session.SetVariable("name", name);
            _session.SetVariable("changes", changes);
            var image = Assert.Single(_session.Objects("Import-Image $tar -Name $name -Change $changes"));
            Assert.Empty(_session.Errors);
            return image;
        }

        private string Human(long bytes)
        {
            _session.SetVariable("bytes", bytes);
            return _session.Run("[ImageModule.Commands.ByteSize]::Format($bytes)").Single().ToString()!;
        }

        private static string[] Lines(string text) => text.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();

        private static void AssertFits(string text)
        {
            foreach (var line in Lines(text)) Assert.True(line.Length <= 80, $"{line.Length} columns: {line}");
        }

        [Fact]
        public void Get_Image_with_a_long_name_keeps_IMAGE_ID_CREATED_and_SIZE()
        {
            var big = Import(LongName, 501);
            var small = Import("alpine:3.20", 502);
            var text = _session.RunAndRender("Get-Image");
            AssertFits(text);
            Assert.Matches(@"REPOSITORY +TAG +IMAGE ID +CREATED +SIZE", text);
            var row = Assert.Single(Lines(text), l => l.Contains((string)big.ShortId));
            // The end of the repository is what tells images apart; its start gives way.
            Assert.Contains("payment-gateway-service", row);
            Assert.EndsWith(Human((long)big.Size), row.TrimEnd());
            Assert.DoesNotContain("Less than a sec", text);
            Assert.Contains(Lines(text), l => l.Contains((string)small.ShortId) && l.StartsWith("alpine "));
        }

        [Fact]
        public void Layers_and_files_of_several_images_are_grouped_by_image_and_keep_SIZE()
        {
            var big = Import(LongName, 503, "CMD [\"/bin/sh\", \"-c\", \"exec /usr/local/bin/payment-gateway --config /etc/payment-gateway/config.yaml\"]");
            Import("alpine:3.20", 504);
            var layers = _session.RunAndRender("Get-Image | Get-ImageLayer");
            AssertFits(layers);
            Assert.Equal(2, Lines(layers).Count(l => l.Trim().StartsWith("Image: ", StringComparison.Ordinal)));
            Assert.Equal(2, Lines(layers).Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, @"^LAYER +CREATED +CREATED BY +SIZE$")));
            Assert.Contains(Lines(layers), l => l.TrimEnd().EndsWith(" " + Human((long)big.Size)));

            var files = _session.RunAndRender("Get-Image | Get-ImageFile -Path 'data/*'");
            AssertFits(files);
            Assert.Contains(Lines(files), l => l.Contains("Image: docker.io/library/alpine:3.20"));
            Assert.Equal(2, Lines(files).Count(l => l.Trim().StartsWith("Image: ", StringComparison.Ordinal)));
        }

        [Fact]
        public void Registry_settings_header_does_not_wrap()
        {
            var ca = Path.Combine(_session.TempDir, "lab-ca.pem");
            File.WriteAllText(ca, CertificateText);
            _session.SetVariable("ca", ca);
            _session.Run("Set-ImageRegistrySetting registry.example.com:5000 -Mirror mirror.lab:5001, mirror2.lab:5002 -CertificateAuthority $ca | Out-Null; Set-ImageRegistrySetting localhost:5000 -Insecure | Out-Null");
            Assert.Empty(_session.Errors);
            var text = _session.RunAndRender("Get-ImageRegistrySetting");
            AssertFits(text);
            Assert.Matches(@"(?m)^Registry +Mirrors +Insecure +CA\s*$", text);
            Assert.Contains("lab-ca.pem", text);
        }

        [Fact]
        public void Relative_times_fit_their_column_and_Config_reads_as_text()
        {
            foreach (var seconds in new[] { 0.001, 1, 59, 61, 3599, 3601, 86400 * 2, 86400 * 13, 86400 * 59, 86400 * 400, 86400 * 36500.0 })
            {
                _session.SetVariable("age", TimeSpan.FromSeconds(seconds));
                var text = _session.Run("[ImageModule.Commands.RelativeTime]::Format($age)").Single().ToString()!;
                Assert.True(text.Length <= 14, $"{seconds}s is '{text}'");
            }
            Import("app:1", 505, "ENV MODE=prod", "WORKDIR /app", "CMD [\"/bin/sh\"]");
            var config = _session.Run("\"$((Get-Image app:1).Config)\"").Single().ToString();
            Assert.Equal("Cmd: /bin/sh; Env: MODE=prod; WorkingDir: /app", config);
        }

        [Fact]
        public void Progress_names_the_operation_the_destination_and_the_layer()
        {
            Import("app:1", 506);
            var layout = Path.Combine(_session.TempDir, "layout");
            _session.SetVariable("dest", "oci:" + layout + ":1");
            _session.Run("Copy-Image store:app:1 $dest | Out-Null");
            Assert.Empty(_session.Errors);
            Assert.Contains(_session.Progress, p => p.Activity == $"Copying store:app:1 to oci:{layout}:1");
            Assert.Contains(_session.Progress, p => p.Activity == $"Copying store:app:1 to oci:{layout}:1 — layer 1/1");
            _session.SetVariable("tar", Path.Combine(_session.TempDir, "app.tar"));
            _session.Run("Save-Image app:1 -Path $tar | Out-Null");
            Assert.Contains(_session.Progress, p => p.Activity.StartsWith("Saving docker.io/library/app:1 to ", StringComparison.Ordinal));
            Assert.DoesNotContain(_session.Progress, p => p.Activity.StartsWith("Copying 1", StringComparison.Ordinal));
        }

        // Any PEM-looking text: the settings check the file exists and is readable, the view shows its name.
        private const string CertificateText = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    }
}
