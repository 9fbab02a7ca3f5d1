using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Store
{
    /// <summary>
    /// Cross-process exclusive lock around index and cache changes: an exclusively opened lock file (flock on Unix,
    /// share-mode on Windows), so two PowerShell sessions never interleave read-modify-write of index.json.
    /// In-process callers are serialised by a semaphore first, because the OS lock is per process on some platforms.
    /// </summary>
    internal sealed class StoreLock : IDisposable
    {
        private static readonly SemaphoreSlim InProcess = new(1, 1);
        private readonly FileStream _file;

        private StoreLock(FileStream file) => _file = file;

        public static async Task<StoreLock> AcquireAsync(string lockPath, TimeSpan timeout, CancellationToken cancellationToken)
        {
            if (!await InProcess.WaitAsync(timeout, cancellationToken).ConfigureAwait(false))
                throw Busy(lockPath);
            try
            {
                var deadline = DateTime.UtcNow + timeout;
                var delay = 10;
                while (true)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    try
                    {
                        var file = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
                        return new StoreLock(file);
                    }
                    catch (IOException) when (DateTime.UtcNow < deadline)
                    {
                        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                        delay = Math.Min(delay * 2, 200);
                    }
                    catch (IOException e)
                    {
                        throw Busy(lockPath, e);
                    }
                }
            }
            catch
            {
                InProcess.Release();
                throw;
            }
        }

        private static ImageModuleException Busy(string lockPath, Exception? inner = null) =>
            new("StoreBusy", ErrorKind.ResourceUnavailable, $"The image store is locked by another process ({lockPath}); try again.", lockPath, inner);

        public void Dispose()
        {
            _file.Dispose();
            InProcess.Release();
        }
    }
}
