using System;
using System.IO;

namespace ImageModule.Store
{
    /// <summary>
    /// Tells "no space left on the device" apart from other I/O errors and says which operation on which image ran out
    /// (ErrorId <c>DiskFull</c>), rather than naming an internal temp file. The store knows the blob and the store it
    /// was writing; only the command knows the image it was working on, so it completes the message with <see cref="During"/>.
    /// </summary>
    public static class DiskFull
    {
        public const string ErrorId = "DiskFull";

        private const string Advice = "Free space (Remove-Image works on a full store) and try again.";

        public static bool Is(Exception e) => e is IOException io && (io.HResult & 0xFFFF) switch
        {
            28 => true,     // ENOSPC (Linux, macOS)
            0x70 => true,   // ERROR_DISK_FULL
            0x27 => true,   // ERROR_HANDLE_DISK_FULL
            _ => false,
        };

        internal static DiskFullException Error(string operation, string what, string store, Exception inner) =>
            new($"{operation} {what} in {store}", $"Not enough disk space to {operation} {what} in {store}. {Advice}", what, inner);

        /// <summary>
        /// The error a command reports when <paramref name="e"/> (a store's <see cref="DiskFullException"/> or a raw
        /// out-of-space I/O error, e.g. writing a Save-Image archive) stopped its work on <paramref name="item"/>.
        /// </summary>
        public static DiskFullException During(string command, object item, Exception e) => e is DiskFullException store
            ? new(store.Step, $"Not enough disk space for {command} '{item}': could not {store.Step}. {Advice}", item, store.InnerException ?? e)
            : new(command, $"Not enough disk space for {command} '{item}'. Free space and try again.", item, e);
    }

    /// <summary>Running out of disk space (ErrorId DiskFull); <see cref="Step"/> says what could not be written where.</summary>
    public sealed class DiskFullException : ImageModuleException
    {
        internal DiskFullException(string step, string message, object? target, Exception inner)
            : base(DiskFull.ErrorId, ErrorKind.QuotaExceeded, message, target, inner)
        {
            Step = step;
        }

        public string Step { get; }
    }
}
