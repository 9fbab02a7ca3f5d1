namespace ImageModule.Engine
{
    /// <summary>Stable ErrorIds of engine failures (scripts and tests match on them).</summary>
    public static class EngineErrors
    {
        /// <summary>The engine is not running, its socket is missing, or it did not answer within the connect time-out.</summary>
        public const string Unreachable = "EngineUnreachable";
        /// <summary>The socket exists but this user may not open it (not in the docker group, rootful podman).</summary>
        public const string AccessDenied = "EngineAccessDenied";
        /// <summary>The image is used by a container; -Force removes it anyway.</summary>
        public const string ImageInUse = "ImageInUse";
        /// <summary>Removing by ID an image that several names point at, without -Force.</summary>
        public const string ImageHasMultipleNames = "ImageHasMultipleNames";
        public const string InvalidEngine = "InvalidEngine";
        /// <summary>TLS with a tcp:// engine failed: its certificate files cannot be read, the other end does not speak TLS
        /// (or speaks it while the client spoke plain HTTP), or the engine refused the client certificate.</summary>
        public const string TlsError = "EngineTlsError";
        /// <summary>With DOCKER_TLS_VERIFY, the engine's certificate does not chain to ca.pem or does not name the host.</summary>
        public const string CertificateUntrusted = "EngineCertificateUntrusted";
        /// <summary>The engine requires a client certificate (dockerd --tlsverify) and DOCKER_CERT_PATH has none.</summary>
        public const string ClientCertificateRequired = "EngineClientCertificateRequired";
        /// <summary>The engine answered with an error not covered by a more specific ID.</summary>
        public const string EngineError = "EngineError";
        /// <summary>A blob-level operation the engine's API has no call for (it moves whole images as archives).</summary>
        public const string EngineBlobAccessUnsupported = "EngineBlobAccessUnsupported";
        /// <summary>The engine refused an archive it was sent, or sent one that could not be read.</summary>
        public const string EngineLoadFailed = "EngineLoadFailed";
    }
}
