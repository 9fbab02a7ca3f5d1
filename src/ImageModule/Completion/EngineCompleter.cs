using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ImageModule.Completion
{
    /// <summary>Completes -Engine: Store, Docker, Podman, and the engine $env:DOCKER_HOST names.</summary>
    public sealed class EngineCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            var word = CompletionSource.Unquoted(wordToComplete);
            var candidates = new List<(string, string)>
            {
                ("Docker", "The Docker engine: $env:DOCKER_HOST, else the default socket or pipe"),
                ("Podman", "podman's Docker-compatible API socket"),
                ("Store", "The embedded store (overrides a session default engine)"),
            };
            var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
            if (!string.IsNullOrEmpty(host)) candidates.Add((host!, "$env:DOCKER_HOST"));
            return CompletionSource.Results(candidates.Where(c => c.Item1.StartsWith(word, StringComparison.OrdinalIgnoreCase)));
        }
    }
}
