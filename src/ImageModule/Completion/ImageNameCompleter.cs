using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using ImageModule.Commands;

namespace ImageModule.Completion
{
    /// <summary>
    /// Completes image names and tags ("alp" → alpine:3.20, "alpine:" → each tag) and ID prefixes (hex → short IDs)
    /// from the store, or from the engine -Engine names on the same command line.
    /// </summary>
    public sealed class ImageNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            var images = CompletionSource.Images(commandName, fakeBoundParameters);
            return CompletionSource.Results(Candidates(images, word));
        }

        private static IEnumerable<(string, string)> Candidates(IReadOnlyList<Image> images, string word)
        {
            foreach (var image in images.Where(i => !i.Dangling).OrderBy(i => i.Repository, StringComparer.Ordinal).ThenBy(i => i.Tag, StringComparer.Ordinal))
            {
                var tip = ToolTip(image);
                // The short form docker prints (alpine:3.20, localhost:5000/app:1) first; the full name when typed.
                var familiar = image.Repository + ":" + image.Tag;
                if (familiar.StartsWith(word, StringComparison.OrdinalIgnoreCase)) yield return (familiar, tip);
                else if (image.Name!.StartsWith(word, StringComparison.OrdinalIgnoreCase)) yield return (image.Name, tip);
            }
            if (word.Length > 0 && word.All(Uri.IsHexDigit))
            {
                foreach (var image in images.Where(i => i.ShortId.StartsWith(word, StringComparison.OrdinalIgnoreCase)))
                    yield return (image.ShortId, ToolTip(image));
            }
        }

        internal static string ToolTip(Image image) =>
            $"{image.Name ?? "<none>"}  {image.ShortId}  {ByteSize.Format(image.Size)}  {image.Platform}";
    }

    /// <summary>Completes image IDs (short, 12 hex) for -Id, from the store or the engine -Engine names.</summary>
    public sealed class ImageIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            if (word.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)) word = word.Substring(7);
            var images = CompletionSource.Images(commandName, fakeBoundParameters);
            return CompletionSource.Results(images
                .Where(i => i.ShortId.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .GroupBy(i => i.Id)
                .Select(g => (g.First().ShortId, string.Join(", ", g.Select(i => i.Name ?? "<none>")) + "  " + ByteSize.Format(g.First().Size))));
        }
    }
}
