using System;
using System.Diagnostics;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ImageModule.Registry
{
    /// <summary>
    /// Registry logins kept the way docker keeps them, so `docker login` and Connect-ImageRegistry share them:
    /// $DOCKER_CONFIG/config.json or ~/.docker/config.json, with a credential helper (credHelpers per registry, else
    /// credsStore) when one is configured, else base64 "auth" entries under "auths". Other fields are left untouched.
    /// </summary>
    public sealed class DockerCredentialStore
    {
        /// <summary>docker's key for Docker Hub.</summary>
        public const string DockerHubKey = "https://index.docker.io/v1/";

        public DockerCredentialStore(string? configDirectory = null)
        {
            var dir = configDirectory ?? Environment.GetEnvironmentVariable("DOCKER_CONFIG");
            if (string.IsNullOrEmpty(dir))
            {
                var home = Environment.GetEnvironmentVariable("HOME");
                if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
                dir = Path.Combine(home!, ".docker");
            }
            ConfigPath = Path.Combine(dir!, "config.json");
        }

        public string ConfigPath { get; }

        public static string KeyFor(string registry) => registry == "docker.io" ? DockerHubKey : registry;

        public RegistryCredential? Get(string registry)
        {
            var key = KeyFor(registry);
            var config = Load();
            var helper = HelperFor(config, key);
            if (helper != null)
            {
                var output = RunHelper(helper, "get", key, allowFailure: true);
                if (output is null) return null;
                using var doc = JsonDocument.Parse(output);
                var user = doc.RootElement.TryGetProperty("Username", out var u) ? u.GetString() : null;
                var secret = doc.RootElement.TryGetProperty("Secret", out var s) ? s.GetString() : null;
                return string.IsNullOrEmpty(secret) ? null : new RegistryCredential(user ?? "", secret!);
            }
            var auth = config["auths"]?[key]?["auth"]?.GetValue<string>();
            if (string.IsNullOrEmpty(auth)) return null;
            string decoded;
            try { decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth!)); }
            catch (FormatException) { return null; }
            var colon = decoded.IndexOf(':');
            return colon < 0 ? null : new RegistryCredential(decoded.Substring(0, colon), decoded.Substring(colon + 1));
        }

        public void Store(string registry, RegistryCredential credential)
        {
            var key = KeyFor(registry);
            var config = Load();
            var helper = HelperFor(config, key);
            var auths = config["auths"] as JsonObject ?? new JsonObject();
            config["auths"] = auths;
            if (helper != null)
            {
                var payload = JsonSerializer.Serialize(new { ServerURL = key, Username = credential.UserName, Secret = credential.Password });
                RunHelper(helper, "store", payload, allowFailure: false);
                auths[key] = new JsonObject();
            }
            else
            {
                auths[key] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(credential.UserName + ":" + credential.Password)) };
            }
            Save(config);
        }

        /// <summary>Forgets a login; returns whether there was one.</summary>
        public bool Erase(string registry)
        {
            var key = KeyFor(registry);
            var config = Load();
            var helper = HelperFor(config, key);
            if (helper != null) RunHelper(helper, "erase", key, allowFailure: true);
            var removed = config["auths"] is JsonObject auths && auths.Remove(key);
            if (removed) Save(config);
            return removed || helper != null;
        }

        private static string? HelperFor(JsonObject config, string key) =>
            config["credHelpers"]?[key]?.GetValue<string>() ?? config["credsStore"]?.GetValue<string>();

        private JsonObject Load()
        {
            if (!File.Exists(ConfigPath)) return new JsonObject();
            try
            {
                return JsonNode.Parse(File.ReadAllText(ConfigPath)) as JsonObject ?? new JsonObject();
            }
            catch (JsonException e)
            {
                throw new ImageModuleException("DockerConfigInvalid", ErrorKind.InvalidData, $"{ConfigPath} is not valid JSON: {e.Message}", ConfigPath, e);
            }
        }

        private void Save(JsonObject config)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(ConfigPath)!);
            var temp = ConfigPath + "." + Guid.NewGuid().ToString("N").Substring(0, 8) + ".tmp";
            File.WriteAllText(temp, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            // The file holds secrets: owner-only, as docker writes it.
            if (!RuntimeInformation.IsOSPlatform(OSPlatform.Windows)) Filesystem.UnixNative.Chmod(temp, 0x180);
            if (File.Exists(ConfigPath)) File.Replace(temp, ConfigPath, null);
            else File.Move(temp, ConfigPath);
        }

        /// <summary>Runs docker-credential-&lt;helper&gt; ACTION with INPUT on stdin (the docker credential helper protocol).</summary>
        private static string? RunHelper(string helper, string action, string input, bool allowFailure)
        {
            var psi = new ProcessStartInfo("docker-credential-" + helper, action)
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            Process process;
            try { process = Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception e)
            {
                if (allowFailure) return null;
                throw new ImageModuleException("CredentialHelperMissing", ErrorKind.ObjectNotFound, $"The docker credential helper 'docker-credential-{helper}' was not found.", helper, e);
            }
            using (process)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
                var output = process.StandardOutput.ReadToEnd();
                process.StandardError.ReadToEnd();
                if (!process.WaitForExit(30_000)) { try { process.Kill(); } catch (InvalidOperationException) { } }
                if (process.HasExited && process.ExitCode == 0) return output;
                if (allowFailure) return null;
                // The helper's own output may echo what it was given; it is not repeated here.
                throw new ImageModuleException("CredentialHelperFailed", ErrorKind.InvalidOperation, $"docker-credential-{helper} {action} failed (exit {(process.HasExited ? process.ExitCode : -1)}).", helper);
            }
        }
    }
}
