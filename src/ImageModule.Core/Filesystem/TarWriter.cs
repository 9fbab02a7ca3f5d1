using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// Writes POSIX tar (ustar, with a PAX record when a name, link or number does not fit). Deterministic: the same
    /// headers and content give the same bytes. Why not SharpCompress's TarWriter: it cannot write symlinks, hardlinks,
    /// modes or owners, which a flattened rootfs needs.
    /// </summary>
    public sealed class TarWriter
    {
        private const int Block = 512;
        private readonly Stream _stream;
        private readonly byte[] _zeros = new byte[Block];

        public TarWriter(Stream stream) { _stream = stream; }

        public long BytesWritten { get; private set; }

        /// <summary>Writes a regular file from a byte array.</summary>
        public Task WriteFileAsync(string name, byte[] content, CancellationToken cancellationToken = default, int mode = 0x1A4 /* 0644 */)
        {
            var header = new TarHeader { Name = name, Size = content.Length, Mode = mode, ModTime = DateTimeOffset.FromUnixTimeSeconds(0) };
            return WriteEntryAsync(header, new MemoryStream(content, false), null, cancellationToken);
        }

        /// <summary>Writes one entry; <paramref name="content"/> must supply exactly header.Size bytes for a regular file.</summary>
        public async Task WriteEntryAsync(TarHeader header, Stream? content, IProgress<long>? bytes = null, CancellationToken cancellationToken = default)
        {
            var size = header.Type == TarEntryType.File ? header.Size : 0;
            var name = header.Name;
            if (header.Type == TarEntryType.Directory && !name.EndsWith("/", StringComparison.Ordinal)) name += "/";

            var pax = new List<KeyValuePair<string, string>>();
            var nameBytes = Encoding.UTF8.GetBytes(name);
            string ustarName = name, ustarPrefix = "";
            if (!IsAscii(name) || (nameBytes.Length > 100 && !TrySplit(name, out ustarPrefix, out ustarName)))
            {
                pax.Add(new("path", name));
                ustarName = Truncate(name, 100);
                ustarPrefix = "";
            }
            var linkBytes = Encoding.UTF8.GetBytes(header.LinkName ?? "");
            if (linkBytes.Length > 100 || !IsAscii(header.LinkName ?? "")) pax.Add(new("linkpath", header.LinkName!));
            if (size > 077777777777L) pax.Add(new("size", size.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (header.Uid > 07777777) pax.Add(new("uid", header.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            if (header.Gid > 07777777) pax.Add(new("gid", header.Gid.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            var seconds = header.ModTime.ToUnixTimeSeconds();
            if (seconds < 0 || seconds > 077777777777L) { pax.Add(new("mtime", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture))); seconds = Math.Max(0, Math.Min(seconds, 077777777777L)); }
            if (header.ExtraPax != null) foreach (var kv in header.ExtraPax) pax.Add(kv);

            if (pax.Count > 0)
            {
                var payload = EncodePax(pax);
                var paxHeader = BuildHeader(Truncate("PaxHeaders/" + ustarName, 100), "", 'x', 0x1A4, 0, 0, "", "", payload.Length, seconds, 0, 0);
                await WriteRawAsync(paxHeader, cancellationToken).ConfigureAwait(false);
                await WriteRawAsync(payload, cancellationToken).ConfigureAwait(false);
                await PadAsync(payload.Length, cancellationToken).ConfigureAwait(false);
            }

            var flag = header.Type switch
            {
                TarEntryType.File => '0',
                TarEntryType.HardLink => '1',
                TarEntryType.Symlink => '2',
                TarEntryType.CharDevice => '3',
                TarEntryType.BlockDevice => '4',
                TarEntryType.Directory => '5',
                TarEntryType.Fifo => '6',
                _ => '0',
            };
            var raw = BuildHeader(ustarName, ustarPrefix, flag, header.Mode & 0xFFF, Math.Min(header.Uid, 07777777), Math.Min(header.Gid, 07777777),
                header.UserName, header.GroupName, Math.Min(size, 077777777777L), seconds, header.DevMajor, header.DevMinor, Truncate(header.LinkName ?? "", 100));
            await WriteRawAsync(raw, cancellationToken).ConfigureAwait(false);
            if (size > 0)
            {
                if (content is null) throw new ArgumentException("content required for a non-empty file", nameof(content));
                var buffer = new byte[81920];
                var left = size;
                while (left > 0)
                {
                    var n = await content.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, left), cancellationToken).ConfigureAwait(false);
                    if (n <= 0) throw new ImageModuleException(TarErrors.CorruptTar, ErrorKind.InvalidData, $"Content of '{header.Name}' ended {left} bytes early");
                    await WriteRawAsync(buffer, 0, n, cancellationToken).ConfigureAwait(false);
                    left -= n;
                    bytes?.Report(size - left);
                }
                await PadAsync(size, cancellationToken).ConfigureAwait(false);
            }
        }

        /// <summary>Writes the two zero blocks that end an archive. Does not close the stream.</summary>
        public async Task FinishAsync(CancellationToken cancellationToken = default)
        {
            await WriteRawAsync(_zeros, cancellationToken).ConfigureAwait(false);
            await WriteRawAsync(_zeros, cancellationToken).ConfigureAwait(false);
            await _stream.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private Task WriteRawAsync(byte[] data, CancellationToken ct) => WriteRawAsync(data, 0, data.Length, ct);

        private async Task WriteRawAsync(byte[] data, int offset, int count, CancellationToken ct)
        {
            await _stream.WriteAsync(data, offset, count, ct).ConfigureAwait(false);
            BytesWritten += count;
        }

        private Task PadAsync(long size, CancellationToken ct)
        {
            var pad = (int)((Block - size % Block) % Block);
            return pad == 0 ? Task.CompletedTask : WriteRawAsync(_zeros, 0, pad, ct);
        }

        private static byte[] EncodePax(List<KeyValuePair<string, string>> records)
        {
            var ms = new MemoryStream();
            foreach (var kv in records)
            {
                var body = Encoding.UTF8.GetBytes($" {kv.Key}={kv.Value}\n");
                // The length prefix counts itself; find the fixed point.
                var len = body.Length + 1;
                while (len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + body.Length != len) len = len.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + body.Length;
                var prefix = Encoding.ASCII.GetBytes(len.ToString(System.Globalization.CultureInfo.InvariantCulture));
                ms.Write(prefix, 0, prefix.Length);
                ms.Write(body, 0, body.Length);
            }
            return ms.ToArray();
        }

        private static byte[] BuildHeader(string name, string prefix, char flag, int mode, long uid, long gid, string uname, string gname, long size, long mtime, long devMajor, long devMinor, string link = "")
        {
            var b = new byte[Block];
            PutString(b, 0, 100, name);
            PutOctal(b, 100, 8, mode);
            PutOctal(b, 108, 8, uid);
            PutOctal(b, 116, 8, gid);
            PutOctal(b, 124, 12, size);
            PutOctal(b, 136, 12, mtime);
            for (var i = 148; i < 156; i++) b[i] = (byte)' ';
            b[156] = (byte)flag;
            PutString(b, 157, 100, link);
            PutString(b, 257, 6, "ustar\0");
            b[263] = (byte)'0'; b[264] = (byte)'0';
            PutString(b, 265, 32, Truncate(uname ?? "", 31));
            PutString(b, 297, 32, Truncate(gname ?? "", 31));
            if (flag == '3' || flag == '4')
            {
                PutOctal(b, 329, 8, devMajor);
                PutOctal(b, 337, 8, devMinor);
            }
            PutString(b, 345, 155, prefix);
            long sum = 0;
            foreach (var x in b) sum += x;
            var chk = Convert.ToString(sum, 8).PadLeft(6, '0');
            PutString(b, 148, 7, chk + "\0");
            b[155] = (byte)' ';
            return b;
        }

        private static void PutString(byte[] b, int offset, int length, string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            Array.Copy(bytes, 0, b, offset, Math.Min(bytes.Length, length));
        }

        private static void PutOctal(byte[] b, int offset, int length, long value)
        {
            var s = Convert.ToString(value, 8).PadLeft(length - 1, '0');
            PutString(b, offset, length - 1, s);
            b[offset + length - 1] = 0;
        }

        private static bool TrySplit(string name, out string prefix, out string rest)
        {
            prefix = ""; rest = name;
            if (!IsAscii(name)) return false;
            for (var i = name.Length - 1; i > 0; i--)
            {
                if (name[i] != '/') continue;
                if (i <= 155 && name.Length - i - 1 <= 100 && name.Length - i - 1 > 0)
                {
                    prefix = name.Substring(0, i); rest = name.Substring(i + 1);
                    return true;
                }
            }
            return false;
        }

        private static string Truncate(string s, int bytes)
        {
            if (Encoding.UTF8.GetByteCount(s) <= bytes) return s;
            var sb = new StringBuilder();
            foreach (var c in s) { if (c > 127) continue; if (sb.Length >= bytes) break; sb.Append(c); }
            return sb.ToString();
        }

        private static bool IsAscii(string s)
        {
            foreach (var c in s) if (c > 127) return false;
            return true;
        }
    }
}
