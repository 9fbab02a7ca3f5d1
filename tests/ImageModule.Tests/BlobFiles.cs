using System;
using System.IO;
using System.Security.Cryptography;
using Xunit;

namespace ImageModule.EndToEnd
{
    /// <summary>A store's blob files as a test damages and checks them from outside.</summary>
    public static class BlobFiles
    {
        public static string PathOf(string store, string digest) => Path.Combine(store, "blobs", "sha256", digest.Substring(7));

        /// <summary>Flips one byte in the middle of a blob, the way bit-flipping tools and editors do it: same size, new mtime.</summary>
        public static void Flip(string store, string digest)
        {
            var path = PathOf(store, digest);
            var bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x20;
            File.WriteAllBytes(path, bytes);
        }

        public static void AssertHashesRight(string store, string digest)
        {
            using var file = File.OpenRead(PathOf(store, digest));
            Assert.Equal(digest, "sha256:" + Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant());
        }
    }
}
