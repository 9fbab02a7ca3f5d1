using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text.Json;
using ImageModule.Registry;

namespace ImageModule.Completion
{
    /// <summary>
    /// Completes registry hosts: the logins docker keeps (config.json auths and credHelpers, as docker login wrote
    /// them or Connect-ImageRegistry did) and the registries of the settings file. Credentials are never read.
    /// </summary>
    public sealed class RegistryCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            var candidates = new List<(string, string)>();
            try
            {
                candidates.AddRange(DockerLogins().Select(h => (h, $"{h} (login in {new DockerCredentialStore().ConfigPath})")));
            }
            catch (Exception e) when (e is IOException || e is JsonException || e is UnauthorizedAccessException) { }
            try
            {
                candidates.AddRange(RegistrySettings.Load().Registries.Select(r => (r.Registry, $"{r.Registry} (settings in {RegistrySettings.DefaultPath})")));
            }
            catch (Exception e) when (e is IOException || e is ImageModuleException || e is UnauthorizedAccessException) { }
            return CompletionSource.Results(candidates.Where(c => c.Item1.StartsWith(word, StringComparison.OrdinalIgnoreCase)).OrderBy(c => c.Item1, StringComparer.Ordinal));
        }

        /// <summary>Registry hosts named in the docker config file: keys of auths and credHelpers.</summary>
        private static IEnumerable<string> DockerLogins()
        {
            var path = new DockerCredentialStore().ConfigPath;
            if (!File.Exists(path)) yield break;
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var section in new[] { "auths", "credHelpers" })
            {
                if (!document.RootElement.TryGetProperty(section, out var entries) || entries.ValueKind != JsonValueKind.Object) continue;
                foreach (var entry in entries.EnumerateObject()) yield return HostOf(entry.Name);
            }
        }

        /// <summary>docker's keys: "https://index.docker.io/v1/" for Docker Hub, a bare host or an old-style URL.</summary>
        private static string HostOf(string key)
        {
            if (key == DockerCredentialStore.DockerHubKey) return "docker.io";
            var host = key;
            var scheme = host.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0) host = host.Substring(scheme + 3);
            var slash = host.IndexOf('/');
            return slash >= 0 ? host.Substring(0, slash) : host;
        }
    }
}
