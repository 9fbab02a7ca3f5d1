using System;
using System.IO;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImageModule.Oci
{
    /// <summary>A content digest, "algorithm:hex" (OCI image-spec descriptor.md#digests). Only sha256 and sha512 are accepted.</summary>
    [JsonConverter(typeof(DigestJsonConverter))]
    public readonly record struct Digest(string Algorithm, string Hex) : IComparable<Digest>
    {
        public const string Sha256 = "sha256";
        public const string Sha512 = "sha512";

        public static Digest Parse(string text)
        {
            if (!TryParse(text, out var digest, out var reason)) throw new InvalidDigestException(text ?? "", reason!);
            return digest;
        }

        public static bool TryParse(string? text, out Digest digest) => TryParse(text, out digest, out _);

        public static bool TryParse(string? text, out Digest digest, out string? reason)
        {
            digest = default;
            if (string.IsNullOrEmpty(text)) { reason = "empty"; return false; }
            var colon = text!.IndexOf(':');
            if (colon <= 0) { reason = "expected algorithm:hex"; return false; }
            var algorithm = text.Substring(0, colon);
            var hex = text.Substring(colon + 1);
            var length = algorithm switch { Sha256 => 64, Sha512 => 128, _ => -1 };
            if (length < 0) { reason = $"unsupported algorithm '{algorithm}'"; return false; }
            if (hex.Length != length) { reason = $"{algorithm} needs {length} hex characters, got {hex.Length}"; return false; }
            foreach (var c in hex)
            {
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) { reason = "hex must be lowercase [0-9a-f]"; return false; }
            }
            digest = new Digest(algorithm, hex);
            reason = null;
            return true;
        }

        public static Digest FromHash(string algorithm, byte[] hash) => new(algorithm, ToHex(hash));

        public static Digest Compute(byte[] content) => Compute(content, 0, content.Length);

        public static Digest Compute(byte[] content, int offset, int count)
        {
            using var sha = SHA256.Create();
            return FromHash(Sha256, sha.ComputeHash(content, offset, count));
        }

        public static Digest Compute(string text) => Compute(Encoding.UTF8.GetBytes(text));

        public static Digest Compute(Stream content)
        {
            using var sha = SHA256.Create();
            return FromHash(Sha256, sha.ComputeHash(content));
        }

        /// <summary>A hash of this digest's algorithm, for hashing while streaming.</summary>
        public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm == Sha512 ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);

        /// <summary>First 12 hex characters, as docker shows image IDs.</summary>
        public string Short => Hex.Length > 12 ? Hex.Substring(0, 12) : Hex ?? "";

        public bool IsEmpty => string.IsNullOrEmpty(Hex);

        public override string ToString() => IsEmpty ? "" : $"{Algorithm}:{Hex}";

        public int CompareTo(Digest other) => string.CompareOrdinal(ToString(), other.ToString());

        internal static string ToHex(byte[] bytes)
        {
            var chars = new char[bytes.Length * 2];
            const string alphabet = "0123456789abcdef";
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[2 * i] = alphabet[bytes[i] >> 4];
                chars[2 * i + 1] = alphabet[bytes[i] & 0xF];
            }
            return new string(chars);
        }
    }

    internal sealed class DigestJsonConverter : JsonConverter<Digest>
    {
        public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.GetString();
            return string.IsNullOrEmpty(text) ? default : Digest.Parse(text!);
        }

        public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}
