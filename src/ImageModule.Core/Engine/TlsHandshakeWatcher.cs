using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Engine
{
    /// <summary>
    /// A pass-through stream under an SslStream that reads the peer's TLS record headers while they are still in clear
    /// text (up to its ChangeCipherSpec), to tell why a handshake failed: whether the peer speaks TLS at all, and which
    /// alert it sent (bad_certificate, certificate_required, …). The platform's TLS reports both only as "handshake
    /// failed", and on OpenSSL it has not even checked the peer's certificate yet when the peer refuses ours.
    /// </summary>
    internal sealed class TlsHandshakeWatcher : Stream
    {
        private const byte ChangeCipherSpec = 20, AlertRecord = 21, ApplicationData = 23;
        private readonly Stream _inner;
        private readonly byte[] _header = new byte[5];
        private int _headerFill;
        private int _bodyLeft;
        private int _bodyIndex;
        private bool _done;

        public TlsHandshakeWatcher(Stream inner) => _inner = inner;

        /// <summary>The peer's first bytes were a TLS record (null: it sent nothing yet).</summary>
        public bool? PeerSpeaksTls { get; private set; }

        /// <summary>The description code of the first alert the peer sent in clear text (RFC 5246 §7.2), if any.</summary>
        public int? Alert { get; private set; }

        private void Observe(byte[] buffer, int offset, int count)
        {
            for (var i = offset; i < offset + count && !_done; i++)
            {
                var b = buffer[i];
                if (_bodyLeft == 0)
                {
                    _header[_headerFill++] = b;
                    if (_headerFill < _header.Length) continue;
                    _headerFill = 0;
                    if (PeerSpeaksTls is null)
                    {
                        PeerSpeaksTls = _header[0] >= ChangeCipherSpec && _header[0] <= ApplicationData && _header[1] == 3;
                        if (PeerSpeaksTls == false) { _done = true; break; }
                    }
                    _bodyLeft = (_header[3] << 8) | _header[4];
                    _bodyIndex = 0;
                    continue;
                }
                // An alert's body is [level, description].
                if (_header[0] == AlertRecord && _bodyIndex == 1 && Alert is null) Alert = b;
                _bodyIndex++;
                _bodyLeft--;
                if (_bodyLeft == 0 && _header[0] == ChangeCipherSpec) _done = true; // encrypted from here on
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var read = _inner.Read(buffer, offset, count);
            Observe(buffer, offset, read);
            return read;
        }

        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        {
            var read = await _inner.ReadAsync(buffer, offset, count, cancellationToken).ConfigureAwait(false);
            Observe(buffer, offset, read);
            return read;
        }

        public override void Write(byte[] buffer, int offset, int count) => _inner.Write(buffer, offset, count);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            _inner.WriteAsync(buffer, offset, count, cancellationToken);

        public override void Flush() => _inner.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) _inner.Dispose();
            base.Dispose(disposing);
        }

        /// <summary>A readable name for an alert code: the ones a TLS server sends about certificates or versions.</summary>
        public static string AlertName(int code) => code switch
        {
            40 => "handshake_failure",
            42 => "bad_certificate",
            43 => "unsupported_certificate",
            44 => "certificate_revoked",
            45 => "certificate_expired",
            46 => "certificate_unknown",
            48 => "unknown_ca",
            70 => "protocol_version",
            71 => "insufficient_security",
            80 => "internal_error",
            116 => "certificate_required",
            _ => "alert " + code,
        };

        /// <summary>Alerts by which a server refuses the client's certificate (or its absence).</summary>
        public static bool IsCertificateAlert(int code) => code == 42 || code == 43 || code == 44 || code == 45 || code == 46 || code == 48 || code == 116;
    }
}
