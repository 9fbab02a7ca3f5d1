using System;
using System.Threading;

namespace ImageModule.Content
{
    /// <summary>
    /// Verbose narration of long operations ("resolved …", "retrying after 503 …"). An async-local listener rather
    /// than a parameter, because what is worth telling happens deep in shared HTTP handlers and streams; the cmdlet
    /// bridge sets the listener for the work it runs and turns each line into WriteVerbose on the pipeline thread.
    /// Nothing said here may contain a secret: callers pass hosts, paths, digests and status codes only.
    /// </summary>
    public static class Narrator
    {
        private static readonly AsyncLocal<Action<string>?> Listener = new();

        /// <summary>Sends what the current flow says to <paramref name="listener"/> (null: to nobody).</summary>
        public static void Listen(Action<string>? listener) => Listener.Value = listener;

        public static void Say(string message) => Listener.Value?.Invoke(message);
    }
}
