using System.Formats.Tar;
using System.IO;
using System.Threading.Tasks;
using Xunit;

namespace ImageModule.Tests.Filesystem
{
    public sealed class TarReaderTests
    {
        private static byte[] OneFileTar(string content)
        {
            using var buffer = new MemoryStream();
            using (var writer = new TarWriter(buffer, TarEntryFormat.Pax, leaveOpen: true))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "f.txt") { DataStream = new MemoryStream(System.Text.Encoding.ASCII.GetBytes(content)) });
            }
            return buffer.ToArray();
        }

        [Fact]
        public async Task A_layer_that_ends_right_after_its_last_file_is_read_as_go_and_docker_read_it()
        {
            var tar = OneFileTar("0123456789");
            // PAX header + its data block + file header = 3 blocks, then 10 bytes of content; no padding, no trailer.
            var cut = new byte[3 * 512 + 10];
            System.Array.Copy(tar, cut, cut.Length);
            var reader = new ImageModule.Filesystem.TarReader(new NonSeekable(cut));
            var entry = await reader.NextAsync();
            Assert.Equal("f.txt", entry!.Name);
            Assert.Null(await reader.NextAsync());
        }

        [Fact]
        public async Task A_layer_cut_inside_a_file_is_corrupt()
        {
            var tar = OneFileTar("0123456789");
            var cut = new byte[3 * 512 + 5];
            System.Array.Copy(tar, cut, cut.Length);
            var reader = new ImageModule.Filesystem.TarReader(new NonSeekable(cut));
            await reader.NextAsync();
            await Assert.ThrowsAnyAsync<ImageModuleException>(() => reader.NextAsync());
        }

        private sealed class NonSeekable : MemoryStream
        {
            public NonSeekable(byte[] data) : base(data) { }
            public override bool CanSeek => false;
        }
    }
}
