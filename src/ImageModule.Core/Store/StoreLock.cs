using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Store
{
    /// <summary>How a <see cref="StoreLock"/> is held.</summary>
    internal enum StoreLockMode
    {
        /// <summary>Many holders at once: an ingest recording a digest in its lease and checking whether the blob exists.</summary>
        Shared,

        /// <summary>One holder: every index.json change and the collector.</summary>
        Exclusive,
    }

    /// <summary>
    /// The store lock: .imagemodule/lock opened with a share mode. On Linux and macOS .NET takes flock(LOCK_SH) for a
    /// shared open and flock(LOCK_EX) for FileShare.None; on Windows the share modes themselves exclude each other. Either
    /// way the kernel drops the lock when its process dies, so a killed process never leaves the store locked. Each
    /// acquisition opens its own handle, so holders in one process exclude each other exactly as processes do; exclusive
    /// holders in one process also queue on a semaphore first, so they do not poll against each other.
    /// </summary>
    internal sealed class StoreLock : IDisposable
    {
        private static readonly SemaphoreSlim InProcessExclusive = new(1, 1);
        private readonly FileStream _file;
        private readonly bool _releaseSemaphore;

        private StoreLock(FileStream file, bool releaseSemaphore)
        {
            _file = file;
            _releaseSemaphore = releaseSemaphore;
        }

        /// <summary>How long a command waits for another process to release the store; read on each wait, so a script may change it.</summary>
        public const string TimeoutVariable = "IMAGEMODULE_STORE_LOCK_TIMEOUT";

        private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

        /// <summary>
        /// The lock of a store, created with the store if need be; <c>StoreBusy</c> after 60 s, or after the seconds in
        /// <see cref="TimeoutVariable"/> (0 = do not wait).
        /// </summary>
        public static Task<StoreLock> AcquireAsync(OciLayout layout, StoreLockMode mode, CancellationToken cancellationToken)
        {
            if (!File.Exists(layout.LockPath)) layout.EnsureCreated();
            return AcquireAsync(layout.LockPath, mode, ConfiguredTimeout(), cancellationToken);
        }

        private static TimeSpan ConfiguredTimeout() =>
            double.TryParse(Environment.GetEnvironmentVariable(TimeoutVariable), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds)
                && seconds >= 0 && seconds <= int.MaxValue / 1000
                ? TimeSpan.FromSeconds(seconds)
                : DefaultTimeout;

        public static async Task<StoreLock> AcquireAsync(string lockPath, StoreLockMode mode, TimeSpan timeout, CancellationToken cancellationToken)
        {
            var exclusive = mode == StoreLockMode.Exclusive;
            if (exclusive && !await InProcessExclusive.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
                throw Busy(lockPath, timeout);
            try
            {
                var deadline = DateTime.UtcNow + timeout;
                var delay = 1;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (TryOpen(lockPath, mode) is { } file) return new StoreLock(file, exclusive);
                    if (DateTime.UtcNow >= deadline) throw Busy(lockPath, timeout);
                    await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                    delay = Math.Min(delay * 2, 50);
                }
            }
            catch
            {
                if (exclusive) InProcessExclusive.Release();
                throw;
            }
        }

        /// <summary>One attempt, no waiting (cleaning at open is skipped when another process is busy).</summary>
        public static StoreLock? TryAcquire(string lockPath, StoreLockMode mode)
        {
            var exclusive = mode == StoreLockMode.Exclusive;
            if (exclusive && !InProcessExclusive.Wait(0)) return null;
            var file = TryOpen(lockPath, mode);
            if (file is null && exclusive) InProcessExclusive.Release();
            return file is null ? null : new StoreLock(file, exclusive);
        }

        private static FileStream? TryOpen(string lockPath, StoreLockMode mode)
        {
            try
            {
                // Read access for the shared mode: .NET takes LOCK_SH without asking what file system it is on.
                return mode == StoreLockMode.Exclusive
                    ? new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None)
                    : new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            }
            catch (IOException)
            {
                return null;
            }
        }

        private static ImageModuleException Busy(string lockPath, TimeSpan waited) =>
            new("StoreBusy", ErrorKind.ResourceUnavailable,
                $"The image store is locked by another process ({lockPath}); waited {waited.TotalSeconds:0.#} s. Try again when it is done, or set $env:{TimeoutVariable} (seconds) to wait longer.", lockPath);

        public void Dispose()
        {
            _file.Dispose();
            if (_releaseSemaphore) InProcessExclusive.Release();
        }
    }
}
