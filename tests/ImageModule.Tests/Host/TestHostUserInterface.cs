using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace ImageModule.EndToEnd
{
    /// <summary>
    /// Writes what the engine asks to show into the session's writers, without escape codes, at a fixed width of 120
    /// columns; records progress; prompts read a line of input (none in tests: defaults are taken).
    /// </summary>
    internal sealed class TestHostUserInterface : PSHostUserInterface
    {
        private readonly TextWriter _out;
        private readonly TextWriter _err;
        private readonly TextReader? _in;
        private readonly object _gate = new();

        public TestHostUserInterface(TextWriter output, TextWriter errors, TextReader? input)
        {
            _out = output;
            _err = errors;
            _in = input;
            RawUI = new TestRawUserInterface(120);
        }

        public override PSHostRawUserInterface RawUI { get; }
        public override bool SupportsVirtualTerminal => false;

        /// <summary>Progress records seen (tests assert that long work reports progress).</summary>
        public List<ProgressRecord> Progress { get; } = new();

        // Table headers carry escape codes even when nothing is a terminal; the text a test reads has none.
        private string Plain(string text) => GetOutputString(text, supportsVirtualTerminal: false);

        public override void Write(string value) { lock (_gate) _out.Write(Plain(value)); }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) { lock (_gate) _out.WriteLine(Plain(value)); }
        public override void WriteErrorLine(string value) { lock (_gate) _err.WriteLine(Plain(value)); }
        public override void WriteDebugLine(string message) { lock (_gate) _out.WriteLine("DEBUG: " + Plain(message)); }
        public override void WriteVerboseLine(string message) { lock (_gate) _out.WriteLine("VERBOSE: " + Plain(message)); }
        public override void WriteWarningLine(string message) { lock (_gate) _out.WriteLine("WARNING: " + Plain(message)); }

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            lock (_gate) Progress.Add(record);
        }

        public override string ReadLine() => _in?.ReadLine() ?? "";

        public override SecureString ReadLineAsSecureString()
        {
            var secure = new SecureString();
            foreach (var c in ReadLine()) secure.AppendChar(c);
            secure.MakeReadOnly();
            return secure;
        }

        public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
        {
            var result = new Dictionary<string, PSObject>();
            if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
            if (!string.IsNullOrEmpty(message)) WriteLine(message);
            foreach (var field in descriptions)
            {
                Write(field.Name + ": ");
                result[field.Name] = PSObject.AsPSObject(ReadLine());
            }
            return result;
        }

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
            PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

        public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName,
            PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
        {
            if (!string.IsNullOrEmpty(message)) WriteLine(message);
            if (string.IsNullOrEmpty(userName))
            {
                Write("User: ");
                userName = ReadLine();
            }
            Write("Password for " + userName + ": ");
            return new PSCredential(userName, ReadLineAsSecureString());
        }

        public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
        {
            if (!string.IsNullOrEmpty(caption)) WriteLine(caption);
            if (!string.IsNullOrEmpty(message)) WriteLine(message);
            var labels = new List<string>();
            foreach (var choice in choices) labels.Add("[" + choice.Label.Replace("&", "") + "]");
            Write(string.Join(" ", labels) + $" (default is \"{choices[Math.Max(0, defaultChoice)].Label.Replace("&", "")}\"): ");
            var answer = _in?.ReadLine();
            WriteLine("");
            if (string.IsNullOrWhiteSpace(answer)) return defaultChoice;
            for (var i = 0; i < choices.Count; i++)
            {
                var label = choices[i].Label;
                var hot = label.IndexOf('&');
                var hotKey = hot >= 0 && hot + 1 < label.Length ? label[hot + 1].ToString() : label.Substring(0, 1);
                if (string.Equals(answer.Trim(), hotKey, StringComparison.OrdinalIgnoreCase) ||
                    string.Equals(answer.Trim(), label.Replace("&", ""), StringComparison.OrdinalIgnoreCase)) return i;
            }
            return defaultChoice;
        }
    }
}
