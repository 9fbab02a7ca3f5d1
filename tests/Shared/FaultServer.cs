using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Testing
{
    /// <summary>What a <see cref="FaultServer"/> received: one HTTP request, headers as sent (names lower-cased).</summary>
    public sealed record ReceivedRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string Path => Target.Split('?')[0];
        public string? Authorization => Headers.TryGetValue("authorization", out var value) ? value : null;
        public string? Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : null;
        public override string ToString() => $"{Method} {Target}";
    }

    /// <summary>
    /// How to misbehave on one request. A null <see cref="Status"/> forwards the request to the upstream registry and
    /// then applies the body faults to its answer; a status answers with the canned headers and body instead.
    /// </summary>
    public sealed record Fault
    {
        public int? Status { get; init; }
        public IReadOnlyList<(string Name, string Value)> Headers { get; init; } = Array.Empty<(string, string)>();
        public byte[]? Body { get; init; }
        /// <summary>Accept the request and never answer (a silent server).</summary>
        public bool Silent { get; init; }
        /// <summary>Close the connection without answering.</summary>
        public bool Drop { get; init; }
        /// <summary>Send this many body bytes, then close the connection.</summary>
        public long? CutAfter { get; init; }
        /// <summary>Send this many body bytes, then keep the connection open and send nothing more.</summary>
        public long? StallAfter { get; init; }
        /// <summary>Send the body one byte at a time with this pause between bytes (a slow-loris server).</summary>
        public TimeSpan? Trickle { get; init; }
        /// <summary>Declare a Content-Length this much larger (or smaller) than the body sent.</summary>
        public long ContentLengthDelta { get; init; }
        /// <summary>Flip a byte in the middle of the body.</summary>
        public bool Corrupt { get; init; }

        public static Fault Answer(int status, string? body = null, params (string Name, string Value)[] headers) =>
            new() { Status = status, Body = body is null ? null : Encoding.UTF8.GetBytes(body), Headers = headers };

        public static Fault Redirect(int status, string location) => new() { Status = status, Headers = new[] { ("Location", location) } };
    }

    /// <summary>
    /// A misbehaving HTTP/1.1 server on a random 127.0.0.1 port, written on raw sockets so it can do what no real server
    /// does: cut, stall or trickle a body, lie about Content-Length, redirect anywhere, answer garbage. With an upstream
    /// it stands in front of a real registry and forwards what <see cref="OnRequest"/> leaves alone (the Host header it
    /// forwards is its own, so the registry's Location headers point back at it). Without one it answers 404 unless
    /// told otherwise. It records every request, for tests that assert on what a CDN or an attacker received.
    /// One request per connection (Connection: close), every wait bounded by disposal.
    /// </summary>
    public sealed class FaultServer : IDisposable
    {
        private readonly TcpListener _listener;
        private readonly string? _upstream;
        private readonly HttpClient _forward;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private readonly ConcurrentQueue<ReceivedRequest> _received = new();
        private int _connections;

        public FaultServer(string? upstream = null)
        {
            _upstream = upstream?.TrimEnd('/');
            _forward = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = TimeSpan.FromSeconds(60) };
            _listener = new TcpListener(IPAddress.Loopback, 0);
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _accepting = Task.Run(AcceptAsync);
        }

        public int Port { get; }
        public string Host => $"127.0.0.1:{Port}";
        public string Url => $"http://{Host}";

        /// <summary>Decides each request's fault; null (or no callback) forwards it unchanged.</summary>
        public Func<ReceivedRequest, Fault?>? OnRequest { get; set; }

        /// <summary>An Authorization header to add to forwarded requests (the upstream's own, never the client's).</summary>
        public string? UpstreamAuthorization { get; set; }

        public IReadOnlyList<ReceivedRequest> Received => _received.ToArray();
        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync().ConfigureAwait(false); }
                catch (Exception) when (_stop.IsCancellationRequested) { return; }
                catch (SocketException) { continue; }
                Interlocked.Increment(ref _connections);
                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    var stream = client.GetStream();
                    var request = await ReadRequestAsync(stream).ConfigureAwait(false);
                    if (request is null) return;
                    _received.Enqueue(request);
                    var fault = OnRequest?.Invoke(request) ?? new Fault();
                    if (fault.Drop) return;
                    if (fault.Silent)
                    {
                        await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
                        return;
                    }
                    var (status, reason, headers, body) = fault.Status is int code
                        ? (code, ((HttpStatusCode)code).ToString(), fault.Headers.ToList(), fault.Body ?? Array.Empty<byte>())
                        : await ForwardAsync(request).ConfigureAwait(false);
                    await WriteResponseAsync(stream, request, fault, status, reason, headers, body).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException || e is SocketException || e is OperationCanceledException || e is ObjectDisposedException || e is HttpRequestException)
                {
                    // The client went away, or the test ended: nothing to answer.
                }
            }
        }

        private async Task<(int, string, List<(string, string)>, byte[])> ForwardAsync(ReceivedRequest request)
        {
            if (_upstream is null) return (404, "Not Found", new List<(string, string)>(), Array.Empty<byte>());
            using var forward = new HttpRequestMessage(new HttpMethod(request.Method), _upstream + request.Target);
            if (request.Body.Length > 0 || request.Method == "PUT" || request.Method == "PATCH" || request.Method == "POST") forward.Content = new ByteArrayContent(request.Body);
            foreach (var (name, value) in request.Headers)
            {
                if (name is "host" or "connection" or "content-length" or "transfer-encoding" or "authorization") continue;
                if (name.StartsWith("content-", StringComparison.Ordinal)) forward.Content?.Headers.TryAddWithoutValidation(name, value);
                else forward.Headers.TryAddWithoutValidation(name, value);
            }
            // The client's Authorization is forwarded too (the proxy stands for the registry), unless replaced.
            var authorization = UpstreamAuthorization ?? request.Authorization;
            if (authorization != null) forward.Headers.TryAddWithoutValidation("Authorization", authorization);
            forward.Headers.Host = Host;
            using var response = await _forward.SendAsync(forward, _stop.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            var headers = response.Headers.Concat(response.Content.Headers)
                .Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !h.Key.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && !h.Key.Equals("Connection", StringComparison.OrdinalIgnoreCase))
                .SelectMany(h => h.Value.Select(v => (h.Key, v))).ToList();
            return ((int)response.StatusCode, response.ReasonPhrase ?? "", headers, body);
        }

        private async Task WriteResponseAsync(NetworkStream stream, ReceivedRequest request, Fault fault, int status, string reason, List<(string Name, string Value)> headers, byte[] body)
        {
            if (fault.Corrupt && body.Length > 0)
            {
                body = (byte[])body.Clone();
                body[body.Length / 2] ^= 0xFF;
            }
            var head = new StringBuilder($"HTTP/1.1 {status} {reason}\r\n");
            foreach (var (name, value) in headers) head.Append(name).Append(": ").Append(value).Append("\r\n");
            var declared = headers.Any(h => h.Name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)) ? (long?)null : body.Length + fault.ContentLengthDelta;
            if (declared != null) head.Append("Content-Length: ").Append(declared).Append("\r\n");
            head.Append("Connection: close\r\n\r\n");
            var headBytes = Encoding.ASCII.GetBytes(head.ToString());
            await stream.WriteAsync(headBytes, 0, headBytes.Length, _stop.Token).ConfigureAwait(false);
            if (request.Method == "HEAD") return;
            var limit = Math.Min(body.Length, Math.Min(fault.CutAfter ?? long.MaxValue, fault.StallAfter ?? long.MaxValue));
            if (fault.Trickle is TimeSpan pause)
            {
                for (var i = 0; i < limit; i++)
                {
                    await stream.WriteAsync(body, i, 1, _stop.Token).ConfigureAwait(false);
                    await Task.Delay(pause, _stop.Token).ConfigureAwait(false);
                }
            }
            else
            {
                await stream.WriteAsync(body, 0, (int)limit, _stop.Token).ConfigureAwait(false);
            }
            await stream.FlushAsync(_stop.Token).ConfigureAwait(false);
            if (fault.StallAfter != null && limit < body.Length) await Task.Delay(Timeout.Infinite, _stop.Token).ConfigureAwait(false);
            // A Content-Length longer than the body: everything was sent, then the server hangs up.
        }

        private static async Task<ReceivedRequest?> ReadRequestAsync(NetworkStream stream)
        {
            var head = new List<byte>();
            var one = new byte[1];
            if (await stream.ReadAsync(one, 0, 1).ConfigureAwait(false) == 0) return null;
            // A TLS ClientHello on this plain-HTTP port: answer as Go's server does, so the client falls back to HTTP.
            if (one[0] == 0x16)
            {
                var refusal = Encoding.ASCII.GetBytes("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");
                await stream.WriteAsync(refusal, 0, refusal.Length).ConfigureAwait(false);
                return null;
            }
            head.Add(one[0]);
            while (head.Count < 64 * 1024)
            {
                var n = await stream.ReadAsync(one, 0, 1).ConfigureAwait(false);
                if (n == 0) return null;
                head.Add(one[0]);
                if (head.Count >= 4 && head[head.Count - 4] == '\r' && head[head.Count - 3] == '\n' && head[head.Count - 2] == '\r' && head[head.Count - 1] == '\n') break;
            }
            var lines = Encoding.ASCII.GetString(head.ToArray()).Split(new[] { "\r\n" }, StringSplitOptions.None);
            var parts = lines[0].Split(' ');
            if (parts.Length < 3) return null;
            var headers = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
            {
                var colon = line.IndexOf(':');
                if (colon <= 0) continue;
                var name = line.Substring(0, colon).Trim().ToLowerInvariant();
                var value = line.Substring(colon + 1).Trim();
                headers[name] = headers.TryGetValue(name, out var earlier) ? earlier + ", " + value : value;
            }
            var body = Array.Empty<byte>();
            if (headers.TryGetValue("content-length", out var lengthText) && long.TryParse(lengthText, out var length) && length > 0)
            {
                body = new byte[length];
                var read = 0;
                while (read < length)
                {
                    var n = await stream.ReadAsync(body, read, (int)Math.Min(length - read, 1 << 20)).ConfigureAwait(false);
                    if (n == 0) return null;
                    read += n;
                }
            }
            else if (headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked"))
            {
                body = await ReadChunkedAsync(stream).ConfigureAwait(false);
            }
            return new ReceivedRequest(parts[0], parts[1], headers, body);
        }

        private static async Task<byte[]> ReadChunkedAsync(NetworkStream stream)
        {
            var body = new MemoryStream();
            while (true)
            {
                var sizeLine = await ReadLineAsync(stream).ConfigureAwait(false);
                var size = Convert.ToInt32(sizeLine.Split(';')[0].Trim(), 16);
                if (size == 0)
                {
                    await ReadLineAsync(stream).ConfigureAwait(false);
                    return body.ToArray();
                }
                var chunk = new byte[size];
                var read = 0;
                while (read < size)
                {
                    var n = await stream.ReadAsync(chunk, read, size - read).ConfigureAwait(false);
                    if (n == 0) throw new IOException("chunked body ended early");
                    read += n;
                }
                body.Write(chunk, 0, size);
                await ReadLineAsync(stream).ConfigureAwait(false);
            }
        }

        private static async Task<string> ReadLineAsync(NetworkStream stream)
        {
            var line = new StringBuilder();
            var one = new byte[1];
            while (line.Length < 1024)
            {
                if (await stream.ReadAsync(one, 0, 1).ConfigureAwait(false) == 0) throw new IOException("connection closed");
                if (one[0] == '\n') return line.ToString().TrimEnd('\r');
                line.Append((char)one[0]);
            }
            throw new IOException("line too long");
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            try { _accepting.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
            _forward.Dispose();
        }
    }
}
