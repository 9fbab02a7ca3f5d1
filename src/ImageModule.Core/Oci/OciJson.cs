using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>One place for JSON options so every blob we write is serialised the same way (digests depend on bytes).</summary>
    public static class OciJson
    {
        public static readonly JsonSerializerOptions Options = new()
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
            PropertyNameCaseInsensitive = false,
            // Keep '+' and '<' literal as Go's encoder would not; either is valid JSON and we never re-serialise foreign blobs.
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            NumberHandling = JsonNumberHandling.Strict,
        };

        public static byte[] Serialize<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);

        /// <summary>Error id of a document that is not valid JSON or lacks a field the spec requires.</summary>
        public const string InvalidJson = "InvalidJson";

        public static T Deserialize<T>(byte[] json, string what)
        {
            T value;
            try
            {
                value = JsonSerializer.Deserialize<T>(json, Options) ?? throw new JsonException("null document");
            }
            catch (Exception e) when (e is JsonException || e is InvalidDigestException || e is NotSupportedException || e is FormatException
                                      || e is InvalidOperationException || e is ArgumentException)
            {
                throw new ImageModuleException(InvalidJson, ErrorKind.InvalidData, $"Malformed {what}: {e.Message}", what, e);
            }
            // A well-formed document can still lack what the spec requires (a null config, a descriptor without digest).
            if (value is IJsonDocument document && document.Problem() is string problem)
                throw new ImageModuleException(InvalidJson, ErrorKind.InvalidData, $"Malformed {what}: {problem}", what);
            return value;
        }

        /// <summary>Reads just the mediaType field of a manifest-like document, to tell an index from a manifest.</summary>
        public static string? PeekMediaType(byte[] json)
        {
            try
            {
                using var doc = JsonDocument.Parse(json);
                if (doc.RootElement.ValueKind != JsonValueKind.Object) return null;
                if (doc.RootElement.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String) return mt.GetString();
                // OCI allows an index or manifest without mediaType; "manifests" marks an index.
                if (doc.RootElement.TryGetProperty("manifests", out _)) return MediaTypes.OciIndex;
                if (doc.RootElement.TryGetProperty("config", out _)) return MediaTypes.OciManifest;
                return null;
            }
            catch (JsonException)
            {
                return null;
            }
        }
    }
}
