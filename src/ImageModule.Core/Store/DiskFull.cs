using System;
using System.IO;

namespace ImageModule.Store
{
    /// <summary>
    /// Tells "no space left on the device" apart from other I/O errors and says which operation on which image ran out
    /// (ErrorId <c>DiskFull</c>), rather than naming an internal temp file.
    /// </summary>
    internal static class DiskFull
    {
        public const string ErrorId = "DiskFull";

        public static bool Is(Exception e) => e is IOException io && (io.HResult & 0xFFFF) switch
        {
            28 => true,     // ENOSPC (Linux, macOS)
            0x70 => true,   // ERROR_DISK_FULL
            0x27 => true,   // ERROR_HANDLE_DISK_FULL
            _ => false,
        };

        public static ImageModuleException Error(string operation, string what, string store, Exception inner) =>
            new(ErrorId, ErrorKind.QuotaExceeded, $"Not enough disk space to {operation} {what} in {store}. Free space (Remove-Image works on a full store) and try again.", what, inner);
    }
}
