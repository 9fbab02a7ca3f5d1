using System;
using System.IO;

namespace ImageModule.Registry
{
    /// <summary>
    /// No byte of a response body arrived within the idle timeout. An IOException on purpose: to a download it is a
    /// dropped connection like any other, resumed from the byte reached (<see cref="ResumingStream"/>).
    /// </summary>
    public sealed class RegistryStalledException : IOException
    {
        public RegistryStalledException(string host, TimeSpan idle)
            : base($"{host} sent nothing for {RegistryTimeouts.Format(idle)} in the middle of a response body.")
        {
            Host = host;
            Idle = idle;
        }

        public string Host { get; }
        public TimeSpan Idle { get; }

        public ImageModuleException ToTimeout() => RegistryErrors.Timeout(Host, "reading the response body (no data)", Idle, this);
    }
}
