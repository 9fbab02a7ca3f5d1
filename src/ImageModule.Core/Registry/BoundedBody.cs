using System.IO;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>
    /// Reads a response body that is meant to be small (a manifest, a token, a page of tags, an error) with a cap:
    /// a declared Content-Length above it is refused before a byte is read, and the bytes are counted as they come,
    /// so a registry cannot make us hold more than the cap in memory whatever it declares.
    /// </summary>
    internal static class BoundedBody
    {
        public static async Task<byte[]> ReadAsync(HttpResponseMessage response, long max, string what, CancellationToken cancellationToken)
        {
            var declared = response.Content.Headers.ContentLength;
            if (declared > max) throw TooLarge(what, max, declared);
            using var body = await response.Content.ReadAsStreamAsync().ConfigureAwait(false);
            return await ReadAsync(body, max, what, cancellationToken).ConfigureAwait(false);
        }

        public static async Task<byte[]> ReadAsync(Stream stream, long max, string what, CancellationToken cancellationToken)
        {
            var buffer = new MemoryStream();
            var chunk = new byte[81920];
            int n;
            while ((n = await stream.ReadAsync(chunk, 0, chunk.Length, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + n > max) throw TooLarge(what, max, null);
                buffer.Write(chunk, 0, n);
            }
            return buffer.ToArray();
        }

        private static ImageModuleException TooLarge(string what, long max, long? declared) =>
            new("RegistryResponseTooLarge", ErrorKind.InvalidData,
                $"Refused {what}: it is larger than {max} bytes{(declared is long d ? $" (the registry declared {d})" : "")}.", what);
    }
}
