using System;
using System.IO;
using ImageModule.Oci;

namespace ImageModule.Content
{
    /// <summary>
    /// Turns a decompressor's complaint about the bytes it was given (zlib's InvalidDataException, SharpCompress's
    /// format errors, a managed decoder's index error on garbage) into <see cref="CorruptLayer"/> naming the blob, so a
    /// damaged layer reads the same in every cmdlet that unpacks layers and never surfaces as a raw System.* error.
    /// </summary>
    public static class CorruptContent
    {
        public const string CorruptLayer = "CorruptLayer";

        /// <summary>Whether <paramref name="e"/> is a decoder saying its input is not valid compressed data.</summary>
        public static bool IsDecoderFailure(Exception e) =>
            e is InvalidDataException || e is EndOfStreamException
            || (e.GetType().Namespace ?? "").StartsWith("SharpCompress", StringComparison.Ordinal)
            || e is IndexOutOfRangeException || e is ArgumentOutOfRangeException || e is NotSupportedException
            || (e is InvalidOperationException && !(e is ObjectDisposedException));

        public static ImageModuleException Layer(Digest layer, string what, Exception cause) =>
            new(CorruptLayer, ErrorKind.InvalidData,
                $"Layer {layer} {what} is corrupt: {cause.Message}. Test-ImageStore finds damaged blobs; Repair-ImageStore fetches them again.",
                layer.ToString(), cause);
    }
}
