using System;
using System.Globalization;
using System.IO;
using System.Management.Automation.Host;

namespace ImageModule.Runner
{
    /// <summary>
    /// A minimal console host for the real PowerShell engine (System.Management.Automation): enough for Out-Default to
    /// render format views, for -WhatIf/-Confirm, warnings, verbose and progress — without pwsh, which this machine kind
    /// cannot install. Output goes to injectable writers so the end-to-end tests can read exactly what a user sees.
    /// </summary>
    public sealed class RunnerHost : PSHost
    {
        private readonly Guid _id = Guid.NewGuid();

        public RunnerHost(TextWriter? output = null, TextWriter? errors = null, TextReader? input = null, bool? virtualTerminal = null)
        {
            HostUI = new RunnerHostUserInterface(output ?? Console.Out, errors ?? Console.Error, input, virtualTerminal);
        }

        public RunnerHostUserInterface HostUI { get; }
        public int? ExitCode { get; private set; }

        public override string Name => "ImageModule.Runner";
        public override Version Version => typeof(RunnerHost).Assembly.GetName().Version ?? new Version(0, 1);
        public override Guid InstanceId => _id;
        public override PSHostUserInterface UI => HostUI;
        public override CultureInfo CurrentCulture => CultureInfo.CurrentCulture;
        public override CultureInfo CurrentUICulture => CultureInfo.CurrentUICulture;
        public override void SetShouldExit(int exitCode) => ExitCode = exitCode;
        public override void EnterNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
        public override void ExitNestedPrompt() => throw new NotSupportedException("Nested prompts are not supported by this host.");
        public override void NotifyBeginApplication() { }
        public override void NotifyEndApplication() { }
    }
}
