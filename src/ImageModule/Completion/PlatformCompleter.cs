using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ImageModule.Completion
{
    /// <summary>
    /// Completes -Platform: the platforms of the images named on the command line (when they are in the store or
    /// engine) first, then the common os/arch[/variant] values registries serve.
    /// </summary>
    public sealed class PlatformCompleter : IArgumentCompleter
    {
        private static readonly string[] Common =
        {
            "linux/amd64", "linux/arm64", "linux/arm64/v8", "linux/arm/v7", "linux/arm/v6", "linux/386",
            "linux/ppc64le", "linux/s390x", "linux/riscv64", "windows/amd64", "windows/arm64",
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            var candidates = new List<(string, string)>();
            var name = CompletionSource.Bound(fakeBoundParameters, "Name");
            if (name != null)
            {
                foreach (var image in CompletionSource.Images(commandName, fakeBoundParameters).Where(i => Names(i, name) && i.Platform.Length > 0))
                    candidates.Add((image.Platform, $"The platform of {image.Name}"));
            }
            candidates.AddRange(Common.Select(p => (p, p)));
            return CompletionSource.Results(candidates.Where(c => c.Item1.StartsWith(word, StringComparison.OrdinalIgnoreCase)));
        }

        private static bool Names(Image image, string name) =>
            string.Equals(image.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(image.Repository + ":" + image.Tag, name, StringComparison.OrdinalIgnoreCase)
            || (!name.Contains(":") && string.Equals(image.Repository, name, StringComparison.OrdinalIgnoreCase));
    }
}
