using System;
using System.IO;
using System.IO.Compression;
using System.Text;
using System.Threading.Tasks;
using ImageModule.Filesystem;

namespace ImageModule.Tests.Archive
{
    /// <summary>Crafts tars for tests, including hostile ones.</summary>
    internal static class ArchiveTestData
    {
        /// <summary>Writes a tar of (name, content) pairs: content null = directory (name should end in '/').</summary>
        public static async Task WriteTarAsync(string path, bool gzip, params (string Name, string? Content)[] entries)
        {
            var headers = new (TarHeader, byte[]?)[entries.Length];
            for (var i = 0; i < entries.Length; i++)
            {
                var (n, c) = entries[i];
                headers[i] = c == null
                    ? (new TarHeader { Name = n, Type = TarEntryType.Directory, Mode = 0x1ED }, null)
                    : (new TarHeader { Name = n, Size = Encoding.UTF8.GetByteCount(c), Mode = 0x1A4 }, Encoding.UTF8.GetBytes(c));
            }
            await WriteTarAsync(path, gzip, headers);
        }

        public static async Task WriteTarAsync(string path, bool gzip, params (TarHeader Header, byte[]? Content)[] entries)
        {
            using var file = File.Create(path);
            Stream output = gzip ? new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true) : file;
            var tar = new TarWriter(output);
            foreach (var (h, c) in entries)
                await tar.WriteEntryAsync(c == null ? h : h with { Size = c.Length }, c == null ? null : new MemoryStream(c));
            await tar.FinishAsync();
            if (gzip) output.Dispose();
        }

        public static byte[] Tar(params (TarHeader Header, byte[]? Content)[] entries)
        {
            var ms = new MemoryStream();
            var tar = new TarWriter(ms);
            foreach (var (h, c) in entries)
                tar.WriteEntryAsync(c == null ? h : h with { Size = c.Length }, c == null ? null : new MemoryStream(c)).GetAwaiter().GetResult();
            tar.FinishAsync().GetAwaiter().GetResult();
            return ms.ToArray();
        }

        /// <summary>Copies a tar, passing every regular file's bytes through <paramref name="edit"/>.</summary>
        public static async Task RewriteAsync(string source, string destination, Func<string, byte[], byte[]> edit)
        {
            using var input = File.OpenRead(source);
            using var output = File.Create(destination);
            var reader = new TarReader(input);
            var writer = new TarWriter(output);
            TarHeader? h;
            while ((h = await reader.NextAsync()) != null)
            {
                if (h.Type != TarEntryType.File) { await writer.WriteEntryAsync(h, null); continue; }
                var ms = new MemoryStream();
                await reader.OpenContent().CopyToAsync(ms);
                var bytes = edit(h.Name.TrimStart('.', '/'), ms.ToArray());
                await writer.WriteEntryAsync(h with { Size = bytes.Length }, new MemoryStream(bytes));
            }
            await writer.FinishAsync();
        }
    }
}
