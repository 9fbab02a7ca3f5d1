using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ImageModule.Runner
{
    /// <summary>
    /// imagemodule-run [-File script.ps1 [args…]] [-Command "…"] [-NoModule]
    /// Runs PowerShell with ImageModule imported and everything piped to Out-Default, as pwsh would show it.
    /// </summary>
    public static class Program
    {
        /// <summary>Binds "-Name value" and "-Switch" as pwsh -File does; anything else is positional.</summary>
        private static void AddScriptArguments(PowerShell ps, List<string> args)
        {
            for (var i = 0; i < args.Count; i++)
            {
                var arg = args[i];
                var isName = arg.Length > 1 && arg[0] == '-' && char.IsLetter(arg[1]);
                if (!isName)
                {
                    ps.AddArgument(arg);
                    continue;
                }
                var name = arg.Substring(1).TrimEnd(':');
                var hasValue = i + 1 < args.Count && !(args[i + 1].Length > 1 && args[i + 1][0] == '-' && char.IsLetter(args[i + 1][1]));
                if (hasValue) ps.AddParameter(name, args[++i]);
                else ps.AddParameter(name, true);
            }
        }

        public static int Main(string[] args)
        {
            string? file = null, command = null;
            var scriptArgs = new List<string>();
            var importModule = true;
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i].ToLowerInvariant())
                {
                    case "-file" when i + 1 < args.Length:
                        file = args[++i];
                        scriptArgs.AddRange(args.Skip(i + 1));
                        i = args.Length;
                        break;
                    case "-command" when i + 1 < args.Length:
                        command = string.Join(" ", args.Skip(i + 1));
                        i = args.Length;
                        break;
                    case "-nomodule":
                        importModule = false;
                        break;
                    default:
                        Console.Error.WriteLine("usage: imagemodule-run [-NoModule] (-File script.ps1 [args...] | -Command \"...\")");
                        return 2;
                }
            }
            if (file is null && command is null)
            {
                Console.Error.WriteLine("usage: imagemodule-run [-NoModule] (-File script.ps1 [args...] | -Command \"...\")");
                return 2;
            }

            var host = new RunnerHost(input: Console.IsInputRedirected ? TextReader.Null : Console.In);
            Runspace runspace;
            try
            {
                runspace = ModuleRunspace.Open(host, importModule: importModule);
            }
            catch (Exception e) when (e is RuntimeException || e is FileNotFoundException)
            {
                Console.Error.WriteLine(e.Message);
                return 1;
            }
            using (runspace)
            using (var ps = PowerShell.Create())
            {
                ps.Runspace = runspace;
                Console.CancelKeyPress += (_, e) =>
                {
                    e.Cancel = true;
                    ps.BeginStop(null, null);
                };
                if (file != null)
                {
                    ps.AddCommand(Path.GetFullPath(file));
                    AddScriptArguments(ps, scriptArgs);
                }
                else
                {
                    ps.AddScript(command!);
                }
                // Errors go through Out-Default too, so they render as pwsh renders them, in order with the output.
                ps.Commands.Commands[0].MergeMyResults(PipelineResultTypes.Error, PipelineResultTypes.Output);
                ps.AddCommand("Out-Default");
                var errors = 0;
                try
                {
                    ps.Invoke();
                    using var count = PowerShell.Create();
                    count.Runspace = runspace;
                    errors = count.AddScript("$global:Error.Count").Invoke<int>().FirstOrDefault();
                }
                catch (RuntimeException e)
                {
                    host.UI.WriteErrorLine(e.ErrorRecord?.ToString() ?? e.Message);
                    return 1;
                }
                return host.ExitCode ?? (errors > 0 ? 1 : 0);
            }
        }
    }
}
