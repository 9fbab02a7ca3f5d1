using System;
using System.Runtime.CompilerServices;
using System.Threading;
using Docker.DotNet;
using Docker.DotNet.LegacyHttp;

namespace ImageModule.Engine
{
    /// <summary>Builds Docker.DotNet clients for an endpoint: unix sockets and named pipes as they are, tcp:// as HTTP or TLS.</summary>
    internal static class EngineClientFactory
    {
        /// <param name="tls">Certificates and checks for a TLS endpoint (<see cref="EngineEndpoint.UsesTls"/>); null otherwise.</param>
        public static DockerClient Create(EngineEndpoint endpoint, Version? apiVersion, EngineTls? tls)
        {
            var uri = endpoint.Uri;
            if (uri.Scheme == "tcp")
                uri = new UriBuilder(uri) { Scheme = tls != null ? "https" : "http" }.Uri;
            // Streams (save, load) may run for as long as the image is large: no overall time-out. Connecting is bounded by
            // EngineStore's connect time-out, and every call by the cmdlet's cancellation (Ctrl+C).
            var builder = new DockerClientBuilder().WithEndpoint(uri).WithTimeout(Timeout.InfiniteTimeSpan);
            if (apiVersion != null) builder = builder.WithApiVersion(apiVersion);
            return tls != null ? BuildWithTls(builder, tls) : builder.Build();
        }

        // Kept out of Create: the transport options type differs between the package's netstandard2.0 and net8+ builds,
        // and the JIT resolves it only when this method runs, so unix/npipe/plain tcp clients never depend on it.
        // The auth provider is what makes the transport speak https (its TlsEnabled), and the managed transport is
        // chosen explicitly because EngineTls configures that transport's handler.
        [MethodImpl(MethodImplOptions.NoInlining)]
        private static DockerClient BuildWithTls(DockerClientBuilder builder, EngineTls tls) =>
            builder.WithAuthProvider(tls).WithTransportOptions(new LegacyHttpTransportOptions()).Build();
    }
}
