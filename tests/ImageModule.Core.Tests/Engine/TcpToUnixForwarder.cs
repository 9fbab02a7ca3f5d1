using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Tests.Engine
{
    /// <summary>
    /// A plain-TCP engine endpoint on 127.0.0.1 (a free port): each connection is forwarded to an engine's unix socket,
    /// as `socat TCP-LISTEN,fork UNIX-CONNECT` would. Lets tests reach a real engine over tcp:// without TLS.
    /// </summary>
    public sealed class TcpToUnixForwarder : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<Socket> _sockets = new();
        private readonly string _socketPath;

        public TcpToUnixForwarder(string socketPath)
        {
            _socketPath = socketPath;
            _listener.Start();
            Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
            _ = Task.Run(AcceptAsync);
        }

        public int Port { get; }
        public string Uri => $"tcp://127.0.0.1:{Port}";

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                Socket client;
                try { client = await _listener.AcceptSocketAsync(_stop.Token); }
                catch (Exception) { return; }
                var engine = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                lock (_sockets) { _sockets.Add(client); _sockets.Add(engine); }
                try { await engine.ConnectAsync(new UnixDomainSocketEndPoint(_socketPath), _stop.Token); }
                catch (Exception) { client.Dispose(); engine.Dispose(); continue; }
                _ = PumpAsync(client, engine);
                _ = PumpAsync(engine, client);
            }
        }

        private async Task PumpAsync(Socket from, Socket to)
        {
            var buffer = new byte[81920];
            try
            {
                int read;
                while ((read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                to.Shutdown(SocketShutdown.Send);
            }
            catch (Exception) { from.Dispose(); to.Dispose(); }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            lock (_sockets) foreach (var s in _sockets) s.Dispose();
            _stop.Dispose();
        }
    }
}
