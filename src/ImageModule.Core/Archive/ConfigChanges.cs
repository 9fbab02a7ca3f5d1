using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.Json;
using ImageModule.Oci;

namespace ImageModule.Archive
{
    /// <summary>
    /// Applies Dockerfile-style instructions to a container config, as `docker import --change` does:
    /// ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL.
    /// </summary>
    public static class ConfigChanges
    {
        public static ContainerConfig Apply(ContainerConfig config, IEnumerable<string> changes)
        {
            foreach (var change in changes) config = Apply(config, change);
            return config;
        }

        public static ContainerConfig Apply(ContainerConfig config, string change)
        {
            change ??= "";
            var text = change.Trim();
            var space = IndexOfWhite(text);
            if (space <= 0) throw Invalid(change, "expected INSTRUCTION arguments");
            var instruction = text.Substring(0, space).ToUpperInvariant();
            var args = text.Substring(space + 1).Trim();
            if (args.Length == 0) throw Invalid(change, "missing arguments");
            switch (instruction)
            {
                case "ENV":
                {
                    var env = (config.Env ?? Array.Empty<string>()).ToList();
                    foreach (var (k, v) in KeyValues(args, change)) { env.RemoveAll(e => e.StartsWith(k + "=", StringComparison.Ordinal)); env.Add(k + "=" + v); }
                    return config with { Env = env };
                }
                case "LABEL":
                {
                    var labels = new Dictionary<string, string>(config.Labels?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, string>(), StringComparer.Ordinal);
                    foreach (var (k, v) in KeyValues(args, change)) labels[k] = v;
                    return config with { Labels = labels };
                }
                case "CMD": return config with { Cmd = CommandForm(args, change) };
                case "ENTRYPOINT": return config with { Entrypoint = CommandForm(args, change) };
                case "WORKDIR": return config with { WorkingDir = args };
                case "USER": return config with { User = args };
                case "STOPSIGNAL": return config with { StopSignal = args };
                case "EXPOSE":
                {
                    var ports = new Dictionary<string, EmptyObject>(config.ExposedPorts?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, EmptyObject>(), StringComparer.Ordinal);
                    foreach (var p in args.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries))
                    {
                        var port = p.Contains("/") ? p.ToLowerInvariant() : p + "/tcp";
                        var number = port.Substring(0, port.IndexOf('/'));
                        if (!number.Split('-').All(n => int.TryParse(n, out var v) && v > 0 && v < 65536)) throw Invalid(change, $"bad port '{p}'");
                        ports[port] = new EmptyObject();
                    }
                    return config with { ExposedPorts = ports };
                }
                case "VOLUME":
                {
                    var volumes = new Dictionary<string, EmptyObject>(config.Volumes?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, EmptyObject>(), StringComparer.Ordinal);
                    var list = args.StartsWith("[", StringComparison.Ordinal) ? JsonArray(args, change) : args.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries).ToList();
                    foreach (var v in list) volumes[v] = new EmptyObject();
                    return config with { Volumes = volumes };
                }
                default:
                    throw Invalid(change, $"'{instruction}' is not one of ENV, CMD, ENTRYPOINT, WORKDIR, USER, EXPOSE, LABEL, VOLUME, STOPSIGNAL");
            }
        }

        private static List<string> CommandForm(string args, string change) =>
            args.StartsWith("[", StringComparison.Ordinal) ? JsonArray(args, change) : new List<string> { "/bin/sh", "-c", args };

        private static List<string> JsonArray(string args, string change)
        {
            try
            {
                return JsonSerializer.Deserialize<List<string>>(args) ?? throw Invalid(change, "expected a JSON array of strings");
            }
            catch (JsonException e)
            {
                throw Invalid(change, "expected a JSON array of strings: " + e.Message);
            }
        }

        /// <summary>"K=V K2="a b"" or the legacy "K V with spaces" form.</summary>
        private static IEnumerable<(string, string)> KeyValues(string args, string change)
        {
            var words = SplitWords(args);
            if (words.Count > 0 && !words[0].Contains("="))
            {
                var sp = IndexOfWhite(args);
                if (sp < 0) throw Invalid(change, "expected KEY=VALUE");
                return new[] { (args.Substring(0, sp), args.Substring(sp + 1).Trim()) };
            }
            var result = new List<(string, string)>();
            foreach (var w in words)
            {
                var eq = w.IndexOf('=');
                if (eq <= 0) throw Invalid(change, $"expected KEY=VALUE, got '{w}'");
                result.Add((w.Substring(0, eq), w.Substring(eq + 1)));
            }
            return result;
        }

        /// <summary>Splits on whitespace outside quotes, removing the quotes (Dockerfile word rules, without variable expansion).</summary>
        private static List<string> SplitWords(string s)
        {
            var words = new List<string>();
            var current = new System.Text.StringBuilder();
            char quote = '\0';
            var inWord = false;
            for (var i = 0; i < s.Length; i++)
            {
                var c = s[i];
                if (quote != '\0')
                {
                    if (c == quote) quote = '\0';
                    else if (c == '\\' && quote == '"' && i + 1 < s.Length) current.Append(s[++i]);
                    else current.Append(c);
                    continue;
                }
                if (c == '"' || c == '\'') { quote = c; inWord = true; continue; }
                if (c == '\\' && i + 1 < s.Length) { current.Append(s[++i]); inWord = true; continue; }
                if (char.IsWhiteSpace(c))
                {
                    if (inWord) { words.Add(current.ToString()); current.Clear(); inWord = false; }
                    continue;
                }
                current.Append(c);
                inWord = true;
            }
            if (inWord) words.Add(current.ToString());
            return words;
        }

        private static int IndexOfWhite(string s)
        {
            for (var i = 0; i < s.Length; i++) if (char.IsWhiteSpace(s[i])) return i;
            return -1;
        }

        private static ImageModuleException Invalid(string change, string why) =>
            new(ArchiveErrors.InvalidChange, ErrorKind.InvalidArgument, $"Invalid change '{change}': {why}", change);
    }
}
