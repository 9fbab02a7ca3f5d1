using System;

namespace ImageModule
{
    /// <summary>What kind of failure an exception is; the cmdlet layer maps it to a PowerShell ErrorCategory.</summary>
    public enum ErrorKind
    {
        NotSpecified,
        InvalidArgument,
        InvalidData,
        ObjectNotFound,
        ResourceExists,
        ResourceUnavailable,
        ConnectionError,
        AuthenticationError,
        PermissionDenied,
        QuotaExceeded,
        OperationStopped,
        WriteError,
        ReadError,
        InvalidOperation,
        SecurityError,
        OperationTimeout,
    }

    /// <summary>
    /// Every failure the core reports. ErrorId is stable (scripts and tests match on it); the message is for people.
    /// </summary>
    public class ImageModuleException : Exception
    {
        public ImageModuleException(string errorId, ErrorKind kind, string message, object? target = null, Exception? inner = null)
            : base(message, inner)
        {
            ErrorId = errorId;
            Kind = kind;
            Target = target;
        }

        public string ErrorId { get; }
        public ErrorKind Kind { get; }
        public object? Target { get; }
    }

    public sealed class ImageNotFoundException : ImageModuleException
    {
        public ImageNotFoundException(string name, string? detail = null)
            : base("ImageNotFound", ErrorKind.ObjectNotFound, detail ?? $"No such image: {name}", name) { }
    }

    public sealed class InvalidReferenceException : ImageModuleException
    {
        public InvalidReferenceException(string reference, string reason)
            : base("InvalidReference", ErrorKind.InvalidArgument, $"Invalid image reference '{reference}': {reason}", reference)
        {
            Reason = reason;
        }

        public string Reason { get; }
    }

    public sealed class InvalidDigestException : ImageModuleException
    {
        public InvalidDigestException(string digest, string reason)
            : base("InvalidDigest", ErrorKind.InvalidArgument, $"Invalid digest '{digest}': {reason}", digest) { }
    }

    public sealed class DigestMismatchException : ImageModuleException
    {
        public DigestMismatchException(string expected, string actual, object? target = null)
            : base("DigestMismatch", ErrorKind.InvalidData, $"Content digest mismatch: expected {expected}, got {actual}", target ?? expected) { }
    }

    public sealed class SizeMismatchException : ImageModuleException
    {
        public SizeMismatchException(string digest, long expected, long actual)
            : base("SizeMismatch", ErrorKind.InvalidData, $"Content size mismatch for {digest}: expected {expected} bytes, got {actual}", digest) { }
    }
}
