using System;

namespace ImageModule.Registry
{
    /// <summary>
    /// How long a registry may keep us waiting: to open a connection (TCP and TLS), from the request to the response
    /// headers, and between two reads of a body. Tens of seconds, not minutes: a registry that is slower than this is
    /// broken for the user anyway, and a blob that stalls is resumed from the byte reached.
    /// </summary>
    public sealed record RegistryTimeouts
    {
        public static readonly RegistryTimeouts Default = new();

        public TimeSpan Connect { get; init; } = TimeSpan.FromSeconds(30);
        public TimeSpan Response { get; init; } = TimeSpan.FromSeconds(60);
        public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(60);

        /// <summary>These timeouts with each one given (seconds, &gt; 0) replaced.</summary>
        public RegistryTimeouts With(double? connect, double? response, double? idle) => this with
        {
            Connect = Seconds(connect) ?? Connect,
            Response = Seconds(response) ?? Response,
            Idle = Seconds(idle) ?? Idle,
        };

        private static TimeSpan? Seconds(double? value) => value is double s && s > 0 ? TimeSpan.FromSeconds(s) : null;

        internal static string Format(TimeSpan span) => span.TotalSeconds >= 1 ? $"{span.TotalSeconds:0.#} s" : $"{span.TotalMilliseconds:0} ms";
    }
}
