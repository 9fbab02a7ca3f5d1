using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ImageModule.Completion
{
    /// <summary>
    /// Completes Copy-Image locations: the transports (docker://, store:, docker-daemon:, oci:, oci-archive:,
    /// docker-archive:), and after "store:" the store's image names.
    /// </summary>
    public sealed class ImageLocationCompleter : IArgumentCompleter
    {
        private static readonly (string, string)[] Transports =
        {
            ("docker://", "A registry: docker://host/repository:tag"),
            ("store:", "The module's store: store:name:tag"),
            ("docker-daemon:", "An image in the engine -Engine names (default Docker)"),
            ("oci:", "An OCI image layout directory: oci:path[:ref]"),
            ("oci-archive:", "An OCI layout in a tar: oci-archive:file[:ref]"),
            ("docker-archive:", "A docker save archive: docker-archive:file[:ref]"),
        };

        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            if (word.StartsWith("store:", StringComparison.OrdinalIgnoreCase))
            {
                var name = word.Substring(6);
                var images = CompletionSource.Images(commandName, new Hashtable { ["StorePath"] = CompletionSource.BoundOrDefault(commandName, fakeBoundParameters, "StorePath"), ["Engine"] = "Store" });
                return CompletionSource.Results(images.Where(i => !i.Dangling)
                    .Select(i => (Text: i.Repository + ":" + i.Tag, Image: i))
                    .Where(c => c.Text.StartsWith(name, StringComparison.OrdinalIgnoreCase))
                    .OrderBy(c => c.Text, StringComparer.Ordinal)
                    .Select(c => ("store:" + c.Text, ImageNameCompleter.ToolTip(c.Image))));
            }
            return CompletionSource.Results(Transports.Where(t => t.Item1.StartsWith(word, StringComparison.OrdinalIgnoreCase)));
        }
    }
}
