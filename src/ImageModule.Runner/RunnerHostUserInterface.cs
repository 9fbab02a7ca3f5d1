using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.IO;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace ImageModule.Runner
{
    /// <summary>Writes what the engine asks to show; prompts read a line of input (none in CI: defaults are taken).</summary>
    public sealed class RunnerHostUserInterface : PSHostUserInterface
    {
        private readonly TextWriter _out;
        private readonly TextWriter _err;
        private readonly TextReader? _in;
        private readonly bool _virtualTerminal;
        private readonly bool _showProgress;
        private readonly object _gate = new();

        public RunnerHostUserInterface(TextWriter output, TextWriter errors, TextReader? input, bool? virtualTerminal)
        {
            _out = output;
            _err = errors;
            _in = input;
            var plain = Environment.GetEnvironmentVariable("NO_COLOR") != null || Environment.GetEnvironmentVariable("TERM") == "dumb";
            _virtualTerminal = virtualTerminal ?? (!plain && !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out));
            _showProgress = Environment.GetEnvironmentVariable("IMAGEMODULE_PROGRESS") == "1"
                || (!Console.IsErrorRedirected && ReferenceEquals(errors, Console.Error));
            RawUI = new RunnerRawUserInterface(Console.IsOutputRedirected || !ReferenceEquals(output, Console.Out) ? 120 : SafeWidth());
        }

        public override PSHostRawUserInterface RawUI { get; }
        public override bool SupportsVirtualTerminal => _virtualTerminal;

        /// <summary>Progress records seen (tests assert that long work reports progress).</summary>
        public List<ProgressRecord> Progress { get; } = new();

        private static int SafeWidth()
        {
            try { return Console.WindowWidth > 0 ? Console.WindowWidth : 120; }
            catch (IOException) { return 120; }
        }

        private string Plain(string text) => GetOutputString(text, _virtualTerminal);

        public override void Write(string value) { lock (_gate) _out.Write(Plain(value)); }
        public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Write(value);
        public override void WriteLine(string value) { lock (_gate) _out.WriteLine(Plain(value)); }
        public override void WriteErrorLine(string value) { lock (_gate) _err.WriteLine(Plain(value)); }
        public override void WriteDebugLine(string message) { lock (_gate) _out.WriteLine("DEBUG: " + Plain(message)); }
        public override void WriteVerboseLine(string message) { lock (_gate) _out.WriteLine("VERBOSE: " + Plain(message)); }
        public override void WriteWarningLine(string message) { lock (_gate) _out.WriteLine("WARNING: " + Plain(message)); }

        public override void WriteProgress(long sourceId, ProgressRecord record)
        {
            lock (_gate)
            {
                Progress.Add(record);
                if (!_showProgress) return;
                if (record.RecordType == ProgressRecordType.Completed)
                {
                    _err.Write("\r\x1b[K");
                    return;
                }
                var percent = record.PercentComplete >= 0 ? $" {record.PercentComplete,3}%" : "";
                var eta = record.SecondsRemaining > 0 ? $" {TimeSpan.FromSeconds(record.SecondsRemaining):mm\\:ss} left" : "";
                var line = $"{record.Activity}: {record.StatusDescription}{percent}{eta}";
                if (line.Length > 118) line = line.Substring(0, 118);
                _err.Write("\r\x1b[K" + line);
            }
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
