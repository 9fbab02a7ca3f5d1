using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Filesystem
{
    /// <summary>
    /// A forward-only reader of POSIX ustar/PAX and GNU tar streams.
    /// Why not SharpCompress's TarReader: its public entry type does not say whether an entry is a symlink, a hardlink,
    /// a device or a FIFO, and layer application cannot be done safely without that.
    /// Compression is handled outside (see <see cref="ImageModule.Compression.Decompression"/>).
    /// </summary>
    public sealed class TarReader
    {
        private const int Block = 512;
        private readonly Stream _stream;
        private readonly byte[] _block = new byte[Block];
        private long _remaining;   // content bytes of the current entry not yet consumed
        private long _padding;     // padding after the current entry's content
        private TarEntryStream? _current;
        private Dictionary<string, string>? _globalPax;

        public TarReader(Stream stream) { _stream = stream; }

        /// <summary>The current entry's header, or null before the first and after the last.</summary>
        public TarHeader? Current { get; private set; }

        /// <summary>Moves to the next entry, skipping any unread content. Returns null at the end of the archive.</summary>
        public async Task<TarHeader?> NextAsync(CancellationToken cancellationToken = default)
        {
            await SkipRestAsync(cancellationToken).ConfigureAwait(false);
            Dictionary<string, string>? pax = null;
            string? longName = null, longLink = null;
            while (true)
            {
                if (!await ReadBlockAsync(_block, cancellationToken).ConfigureAwait(false)) { Current = null; return null; }
                if (IsZero(_block)) { Current = null; return null; }
                if (!ChecksumOk(_block)) throw Corrupt("bad header checksum");
                var flag = (char)_block[156];
                var size = ParseNumber(_block, 124, 12);
                if (size < 0) throw Corrupt("negative size");
                switch (flag)
                {
                    case 'x':
                    case 'g':
                    {
                        var records = ParsePax(await ReadSmallAsync(size, cancellationToken).ConfigureAwait(false));
                        if (flag == 'g') { _globalPax = records; continue; }
                        pax = records;
                        continue;
                    }
                    case 'L':
                        longName = TrimNul(Encoding.UTF8.GetString(await ReadSmallAsync(size, cancellationToken).ConfigureAwait(false)));
                        continue;
                    case 'K':
                        longLink = TrimNul(Encoding.UTF8.GetString(await ReadSmallAsync(size, cancellationToken).ConfigureAwait(false)));
                        continue;
                }

                var name = CString(_block, 0, 100);
                var magic = Encoding.ASCII.GetString(_block, 257, 6);
                if (magic.StartsWith("ustar", StringComparison.Ordinal))
                {
                    var prefix = CString(_block, 345, 155);
                    if (prefix.Length > 0 && magic == "ustar\0") name = prefix + "/" + name;
                }
                var header = new TarHeader
                {
                    Name = name,
                    LinkName = CString(_block, 157, 100),
                    Mode = (int)(ParseNumber(_block, 100, 8) & 0xFFF),
                    Uid = ParseNumber(_block, 108, 8),
                    Gid = ParseNumber(_block, 116, 8),
                    Size = size,
                    ModTime = DateTimeOffset.FromUnixTimeSeconds(ParseNumber(_block, 136, 12)),
                    UserName = CString(_block, 265, 32),
                    GroupName = CString(_block, 297, 32),
                    DevMajor = ParseNumber(_block, 329, 8),
                    DevMinor = ParseNumber(_block, 337, 8),
                    Type = flag switch
                    {
                        '\0' or '0' or '7' => TarEntryType.File,
                        '1' => TarEntryType.HardLink,
                        '2' => TarEntryType.Symlink,
                        '3' => TarEntryType.CharDevice,
                        '4' => TarEntryType.BlockDevice,
                        '5' => TarEntryType.Directory,
                        '6' => TarEntryType.Fifo,
                        _ => throw Corrupt($"unsupported tar entry type '{flag}'"),
                    },
                };
                // Old tars mark directories only by a trailing slash.
                if (header.Type == TarEntryType.File && name.EndsWith("/", StringComparison.Ordinal)) header = header with { Type = TarEntryType.Directory };
                if (longName != null) header = header with { Name = longName };
                if (longLink != null) header = header with { LinkName = longLink };
                header = ApplyPax(header, _globalPax);
                header = ApplyPax(header, pax);
                if (header.Type != TarEntryType.File) header = header with { Size = header.Type == TarEntryType.HardLink ? header.Size : 0 };

                // Content length on the wire is the header's size field (or PAX size); links and dirs normally carry none.
                var wire = header.Type == TarEntryType.File || header.Type == TarEntryType.HardLink ? header.Size : size;
                _remaining = wire;
                _padding = (Block - wire % Block) % Block;
                _current = null;
                Current = header;
                return header;
            }
        }

        /// <summary>Opens the current entry's content. The stream ends at the entry's end and needs no disposing.</summary>
        public Stream OpenContent()
        {
            if (Current is null) throw new InvalidOperationException("no current entry");
            return _current ??= new TarEntryStream(this);
        }

        private async Task SkipRestAsync(CancellationToken ct)
        {
            var content = _remaining;
            var skip = _remaining + _padding;
            _remaining = 0; _padding = 0;
            if (skip == 0) return;
            if (_stream.CanSeek)
            {
                // Seeking past the end succeeds silently; a file that ends inside an entry's content is cut off.
                var left = _stream.Length - _stream.Position;
                if (left < content) throw Truncated($"an entry needs {content} more bytes but the archive ends after {left}");
                _stream.Seek(Math.Min(skip, left), SeekOrigin.Current);
                return;
            }
            var padding = skip - content;
            var buffer = new byte[(int)Math.Min(skip, 81920)];
            while (skip > 0)
            {
                var n = await _stream.ReadAsync(buffer, 0, (int)Math.Min(buffer.Length, skip), ct).ConfigureAwait(false);
                if (n <= 0)
                {
                    // Go's tar writer, left unclosed, ends after the last entry's data without padding or trailer
                    // (umoci layers copied by skopeo do); Go and docker read such layers, so a short final pad is the end.
                    if (skip <= padding) return;
                    throw Truncated($"unexpected end of archive, {skip - padding} bytes short of the entry's size");
                }
                skip -= n;
            }
        }

        private async Task<bool> ReadBlockAsync(byte[] block, CancellationToken ct)
        {
            var got = 0;
            while (got < Block)
            {
                var n = await _stream.ReadAsync(block, got, Block - got, ct).ConfigureAwait(false);
                if (n <= 0) break;
                got += n;
            }
            if (got == 0) return false;
            if (got < Block) throw Truncated("the archive ends inside an entry header");
            return true;
        }

        private async Task<byte[]> ReadSmallAsync(long size, CancellationToken ct)
        {
            if (size > 1 << 20) throw Corrupt("extended header larger than 1 MiB");
            var data = new byte[size];
            var got = 0;
            while (got < size)
            {
                var n = await _stream.ReadAsync(data, got, (int)size - got, ct).ConfigureAwait(false);
                if (n <= 0) throw Truncated("unexpected end of archive inside an extended header");
                got += n;
            }
            _remaining = 0;
            _padding = (Block - size % Block) % Block;
            await SkipRestAsync(ct).ConfigureAwait(false);
            return data;
        }

        internal int ReadContent(byte[] buffer, int offset, int count)
        {
            if (_remaining <= 0) return 0;
            var n = _stream.Read(buffer, offset, (int)Math.Min(count, _remaining));
            if (n <= 0) throw Truncated($"unexpected end of archive inside '{Current?.Name}', {_remaining} bytes short");
            _remaining -= n;
            return n;
        }

        internal async Task<int> ReadContentAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            if (_remaining <= 0) return 0;
            var n = await _stream.ReadAsync(buffer, offset, (int)Math.Min(count, _remaining), ct).ConfigureAwait(false);
            if (n <= 0) throw Truncated($"unexpected end of archive inside '{Current?.Name}', {_remaining} bytes short");
            _remaining -= n;
            return n;
        }

        internal long Remaining => _remaining;

        private static TarHeader ApplyPax(TarHeader h, Dictionary<string, string>? pax)
        {
            if (pax is null) return h;
            Dictionary<string, string>? extra = null;
            foreach (var kv in pax)
            {
                switch (kv.Key)
                {
                    case "path": h = h with { Name = kv.Value }; break;
                    case "linkpath": h = h with { LinkName = kv.Value }; break;
                    case "size": h = h with { Size = ParseLong(kv.Value) }; break;
                    case "uid": h = h with { Uid = ParseLong(kv.Value) }; break;
                    case "gid": h = h with { Gid = ParseLong(kv.Value) }; break;
                    case "uname": h = h with { UserName = kv.Value }; break;
                    case "gname": h = h with { GroupName = kv.Value }; break;
                    case "mtime":
                    {
                        var dot = kv.Value.IndexOf('.');
                        var seconds = ParseLong(dot < 0 ? kv.Value : kv.Value.Substring(0, dot));
                        var ticks = 0L;
                        if (dot >= 0)
                        {
                            var frac = (kv.Value.Substring(dot + 1) + "0000000").Substring(0, 7);
                            long.TryParse(frac, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ticks);
                        }
                        h = h with { ModTime = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(ticks) };
                        break;
                    }
                    default:
                        (extra ??= new Dictionary<string, string>(StringComparer.Ordinal))[kv.Key] = kv.Value;
                        break;
                }
            }
            return extra is null ? h : h with { ExtraPax = extra };
        }

        private static long ParseLong(string s)
        {
            if (!long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var v)) throw Corrupt($"bad PAX number '{s}'");
            return v;
        }

        private static Dictionary<string, string> ParsePax(byte[] data)
        {
            // Each record is "<len> <key>=<value>\n", len counting the whole record in bytes.
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            var pos = 0;
            while (pos < data.Length)
            {
                var space = Array.IndexOf(data, (byte)' ', pos);
                if (space < 0) break;
                if (!int.TryParse(Encoding.ASCII.GetString(data, pos, space - pos), out var len) || len <= 0 || pos + len > data.Length) throw Corrupt("bad PAX record");
                var record = Encoding.UTF8.GetString(data, space + 1, pos + len - space - 2);
                var eq = record.IndexOf('=');
                if (eq > 0) result[record.Substring(0, eq)] = record.Substring(eq + 1);
                pos += len;
            }
            return result;
        }

        private static long ParseNumber(byte[] b, int offset, int length)
        {
            if ((b[offset] & 0x80) != 0)
            {
                // GNU base-256: big-endian two's complement in the remaining bits.
                long v = b[offset] & 0x7F;
                if ((b[offset] & 0x40) != 0) v |= ~0x7FL; // negative
                for (var i = 1; i < length; i++) v = (v << 8) | b[offset + i];
                return v;
            }
            long r = 0;
            var end = offset + length;
            var i2 = offset;
            while (i2 < end && (b[i2] == ' ' || b[i2] == 0)) i2++;
            for (; i2 < end; i2++)
            {
                var c = b[i2];
                if (c == 0 || c == ' ') break;
                if (c < '0' || c > '7') throw Corrupt("bad octal number");
                r = (r << 3) + (c - '0');
            }
            return r;
        }

        private static bool ChecksumOk(byte[] b)
        {
            long unsigned = 0, signed = 0;
            for (var i = 0; i < Block; i++)
            {
                var v = i >= 148 && i < 156 ? (byte)' ' : b[i];
                unsigned += v;
                signed += (sbyte)v;
            }
            var stored = ParseNumber(b, 148, 8);
            return stored == unsigned || stored == signed;
        }

        private static bool IsZero(byte[] b)
        {
            foreach (var x in b) if (x != 0) return false;
            return true;
        }

        private static string CString(byte[] b, int offset, int length)
        {
            var end = Array.IndexOf(b, (byte)0, offset, length);
            return Encoding.UTF8.GetString(b, offset, (end < 0 ? offset + length : end) - offset);
        }

        private static ImageModuleException Truncated(string why) =>
            TarErrors.Truncation($"Truncated tar archive: {why}");

        private static string TrimNul(string s) => s.TrimEnd('\0');

        private static ImageModuleException Corrupt(string why) =>
            new ImageModuleException(TarErrors.CorruptTar, ErrorKind.InvalidData, $"Corrupt tar archive: {why}");

        private sealed class TarEntryStream : ImageModule.Content.ReadOnlyStream
        {
            private readonly TarReader _reader;
            public TarEntryStream(TarReader reader) { _reader = reader; }
            public override int Read(byte[] buffer, int offset, int count) => _reader.ReadContent(buffer, offset, count);
            public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _reader.ReadContentAsync(buffer, offset, count, cancellationToken);
        }
    }
}
