using System;
using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// The few libc calls netstandard2.0 lacks (symlink, link, chmod, lchown, utimensat, mknod). Only called when
    /// <see cref="IsSupported"/> (Linux, macOS); constants differ between the two.
    /// </summary>
    internal static class UnixNative
    {
        private static readonly bool IsLinux = RuntimeInformation.IsOSPlatform(OSPlatform.Linux);
        public static readonly bool IsSupported = IsLinux || RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        private static int AtFdCwd => IsLinux ? -100 : -2;
        private static int AtSymlinkNoFollow => IsLinux ? 0x100 : 0x20;

        [StructLayout(LayoutKind.Sequential)]
        private struct Timespec { public long Seconds; public long Nanoseconds; }

        [DllImport("libc", EntryPoint = "symlink", SetLastError = true)] private static extern int SymlinkNative(byte[] target, byte[] path);
        [DllImport("libc", EntryPoint = "link", SetLastError = true)] private static extern int LinkNative(byte[] existing, byte[] path);
        [DllImport("libc", EntryPoint = "chmod", SetLastError = true)] private static extern int ChmodNative(byte[] path, uint mode);
        [DllImport("libc", EntryPoint = "lchown", SetLastError = true)] private static extern int LchownNative(byte[] path, uint uid, uint gid);
        [DllImport("libc", EntryPoint = "utimensat", SetLastError = true)] private static extern int UtimensatNative(int dirfd, byte[] path, Timespec[] times, int flags);
        [DllImport("libc", EntryPoint = "readlink", SetLastError = true)] private static extern IntPtr ReadlinkNative(byte[] path, byte[] buffer, IntPtr size);
        [DllImport("libc", EntryPoint = "mknod", SetLastError = true)] private static extern int MknodNative(byte[] path, uint mode, ulong dev);
        [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)] private static extern int MkfifoNative(byte[] path, uint mode);
        [DllImport("libc", EntryPoint = "geteuid")] private static extern uint GeteuidNative();

        public static bool IsRoot => IsSupported && GeteuidNative() == 0;

        public static void Symlink(string target, string path) => Check(SymlinkNative(Z(target), Z(path)), "symlink", path);
        public static void Link(string existing, string path) => Check(LinkNative(Z(existing), Z(path)), "link", path);
        public static void Chmod(string path, int mode) => Check(ChmodNative(Z(path), (uint)mode), "chmod", path);
        public static void Lchown(string path, long uid, long gid) => Check(LchownNative(Z(path), (uint)uid, (uint)gid), "lchown", path);
        public static void Mkfifo(string path, int mode) => Check(MkfifoNative(Z(path), (uint)mode), "mkfifo", path);

        public static void Mknod(string path, bool block, int mode, long major, long minor)
        {
            if (!IsLinux) throw new PlatformNotSupportedException("device nodes are created only on Linux");
            ulong ma = (ulong)major, mi = (ulong)minor;
            var dev = ((ma & 0xfffff000UL) << 32) | ((ma & 0xfffUL) << 8) | ((mi & 0xffffff00UL) << 12) | (mi & 0xffUL);
            Check(MknodNative(Z(path), (uint)((block ? 0x6000 : 0x2000) | (mode & 0xFFF)), dev), "mknod", path);
        }

        /// <summary>Sets atime and mtime without following a final symlink.</summary>
        public static void SetTimes(string path, DateTimeOffset time)
        {
            var ticks = time.UtcTicks - DateTimeOffset.FromUnixTimeSeconds(0).UtcTicks;
            var ts = new Timespec { Seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rem), Nanoseconds = rem * 100 };
            if (ts.Nanoseconds < 0) { ts.Seconds -= 1; ts.Nanoseconds += 1_000_000_000; }
            Check(UtimensatNative(AtFdCwd, Z(path), new[] { ts, ts }, AtSymlinkNoFollow), "utimensat", path);
        }

        public static string? ReadLink(string path)
        {
            var buffer = new byte[4096];
            var n = (long)ReadlinkNative(Z(path), buffer, (IntPtr)buffer.Length);
            return n < 0 ? null : Encoding.UTF8.GetString(buffer, 0, (int)n);
        }

        // NUL-terminated UTF-8: netstandard2.0 has no LPUTF8Str marshalling.
        private static byte[] Z(string s)
        {
            var bytes = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        private static void Check(int rc, string call, string path)
        {
            if (rc != 0)
            {
                var errno = Marshal.GetLastWin32Error();
                throw new ImageModuleException("FilesystemWriteFailed", ErrorKind.WriteError, $"{call}('{path}') failed: {new Win32Exception(errno).Message}", path);
            }
        }
    }
}
