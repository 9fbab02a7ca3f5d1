using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Threading;
using ImageModule.Engine;
using ImageModule.Store;

namespace ImageModule.Completion
{
    /// <summary>
    /// What completers read: the images of the store or engine the command line names (-StorePath, -Engine, or the
    /// session default), within a short bound so Tab never hangs on an engine that does not answer. Completion never
    /// throws: anything that fails completes nothing.
    /// </summary>
    internal static class CompletionSource
    {
        private static readonly TimeSpan Limit = TimeSpan.FromSeconds(3);

        public static IReadOnlyList<Image> Images(IDictionary fakeBoundParameters)
        {
            try
            {
                var engine = Bound(fakeBoundParameters, "Engine");
                using var timeout = new CancellationTokenSource(Limit);
                if (engine != null && !string.Equals(engine, "Store", StringComparison.OrdinalIgnoreCase))
                {
                    using var store = new EngineStore(EngineEndpoint.Resolve(engine), Limit);
                    var listing = store.ListAsync(timeout.Token);
                    return listing.Wait(Limit) ? listing.Result : Array.Empty<Image>();
                }
                return OciStore.Open(Bound(fakeBoundParameters, "StorePath")).ListAsync(timeout.Token).GetAwaiter().GetResult();
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
