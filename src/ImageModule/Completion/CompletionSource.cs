using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using System.Threading;
using ImageModule.Engine;
using ImageModule.Store;

namespace ImageModule.Completion
{
    /// <summary>
    /// What completers read: the images of the store or engine the command line names (-StorePath, -Engine, or the
    /// session default in $PSDefaultParameterValues), within a short bound so Tab never hangs on an engine that does not answer. Completion never
    /// throws: anything that fails completes nothing.
    /// </summary>
    internal static class CompletionSource
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);

        public static IReadOnlyList<Image> Images(string commandName, IDictionary fakeBoundParameters)
        {
            try
            {
                var engine = BoundOrDefault(commandName, fakeBoundParameters, "Engine");
                using var timeout = new CancellationTokenSource(Limit);
                if (engine != null && !string.Equals(engine, "Store", StringComparison.OrdinalIgnoreCase))
                {
                    using var store = new EngineStore(EngineEndpoint.Resolve(engine), Limit);
                    var listing = store.ListAsync(timeout.Token);
                    return listing.Wait(Limit) ? listing.Result : Array.Empty<Image>();
                }
                return OciStore.Open(BoundOrDefault(commandName, fakeBoundParameters, "StorePath")).ListAsync(timeout.Token).GetAwaiter().GetResult();
            }
            catch (Exception e) when (!(e is OutOfMemoryException))
            {
                return Array.Empty<Image>();
            }
        }

        /// <summary>A parameter the user already typed (fakeBoundParameters holds constant values only).</summary>
        public static string? Bound(IDictionary fakeBoundParameters, string name)
        {
            if (fakeBoundParameters is null || !fakeBoundParameters.Contains(name)) return null;
            var value = fakeBoundParameters[name];
            if (value is PSObject ps) value = ps.BaseObject;
            if (value is object[] array) value = array.FirstOrDefault();
            return value?.ToString();
        }

        /// <summary>
        /// A parameter typed on the line, else the session default the command will get when it runs
        /// ($PSDefaultParameterValues['*-Image*:Engine'] = 'Docker'). A script-block default is not run to complete.
        /// </summary>
        public static string? BoundOrDefault(string commandName, IDictionary fakeBoundParameters, string name) =>
            Bound(fakeBoundParameters, name) ?? SessionDefault(commandName, name);

        private static string? SessionDefault(string commandName, string parameter)
        {
            // The global dictionary, which the command gets at the prompt: PSReadLine completes from inside its own
            // module, whose scope sees an empty one.
            if (!(SessionVariable("global:PSDefaultParameterValues") is IDictionary defaults)) return null;
            foreach (DictionaryEntry entry in defaults)
            {
                var key = entry.Key?.ToString() ?? "";
                var colon = key.IndexOf(':');
                if (colon <= 0 || !string.Equals(key.Substring(colon + 1).Trim(), parameter, StringComparison.OrdinalIgnoreCase)) continue;
                if (!new WildcardPattern(key.Substring(0, colon).Trim(), WildcardOptions.IgnoreCase).IsMatch(commandName)) continue;
                if (Unwrapped(entry.Value) is string value) return value;
            }
            return null;
        }

        /// <summary>
        /// A variable of the session completing: read directly at the prompt, through a nested pipeline when completion
        /// runs inside one (TabExpansion2 called from a script, PSReadLine).
        /// </summary>
        private static object? SessionVariable(string name)
        {
            try { return Unwrapped(Runspace.DefaultRunspace?.SessionStateProxy.GetVariable(name)); }
            catch (PSInvalidOperationException) { }
            try
            {
                using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
                return Unwrapped(ps.AddScript("$" + name).Invoke().FirstOrDefault());
            }
            catch (Exception e) when (e is InvalidOperationException || e is RuntimeException)
            {
                return null; // no session to ask: complete from what the line says
            }
        }

        private static object? Unwrapped(object? value) => value is PSObject wrapped ? wrapped.BaseObject : value;

        /// <summary>The word as typed, without the quotes the user may have opened.</summary>
        public static string Unquoted(string? wordToComplete) => (wordToComplete ?? "").Trim('\'', '"');

        /// <summary>Results in order, each once, quoted when the text needs it on a command line.</summary>
        public static IEnumerable<CompletionResult> Results(IEnumerable<(string Text, string ToolTip)> candidates)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (text, toolTip) in candidates)
            {
                if (!seen.Add(text)) continue;
                yield return new CompletionResult(Quoted(text), text, CompletionResultType.ParameterValue, string.IsNullOrEmpty(toolTip) ? text : toolTip);
            }
        }

        private static string Quoted(string text) =>
            text.IndexOfAny(new[] { ' ', '$', '`', '\'', '"', '(', ')', '{', '}', ';', ',', '&', '|', '@', '#', '<', '>' }) >= 0
                ? "'" + text.Replace("'", "''") + "'"
                : text;
    }
}
