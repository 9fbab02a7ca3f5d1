using System;
using System.Globalization;
using System.IO;
using System.Management.Automation.Host;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// The host of a test's in-process engine (Microsoft.PowerShell.SDK): enough for Out-Default to render format views,
    /// for -WhatIf/-Confirm, warnings, verbose and progress. Output goes to the session's writers so the end-to-end
    /// tests read exactly the text a user sees.
    /// </summary>
    internal sealed class TestHost : PSHost
    {
        private readonly Guid _id = Guid.NewGuid();

        public TestHost(TextWriter output, TextWriter errors, TextReader? input)
        {
            HostUI = new TestHostUserInterface(output, errors, input);
        }

        public TestHostUserInterface HostUI { get; }
        public int? ExitCode { get; private set; }

        public override string Name => "ImageModule.Tests";
        public override Version Version => typeof(TestHost).Assembly.GetName().Version ?? new Version(0, 1);
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
