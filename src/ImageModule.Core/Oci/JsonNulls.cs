using System.Collections.Generic;
using System.Linq;

namespace ImageModule.Oci
{
    /// <summary>
    /// How the JSON models read an explicit <c>null</c>. Go's encoder writes a nil slice as <c>null</c> (Docker 25's
    /// <c>"manifests": null</c>, BuildKit's zero-layer <c>"layers": null</c> and <c>"diff_ids": null</c>), and Go's
    /// decoder reads <c>null</c> as the zero value; the spec's optional arrays and maps are therefore empty when null,
    /// and a null string inside a list is "" as Go would read it. Fields the spec requires (a manifest's config, a
    /// descriptor's digest) are checked after reading (<see cref="IJsonDocument"/>), never defaulted into something valid.
    /// </summary>
    internal static class JsonNulls
    {
        public static IReadOnlyList<T> List<T>(IReadOnlyList<T>? value) => value ?? System.Array.Empty<T>();

        public static IReadOnlyList<string>? Strings(IReadOnlyList<string>? value) =>
            value is null || !value.Any(s => s is null) ? value : value.Select(s => s ?? "").ToList();

        public static IReadOnlyDictionary<string, string>? Map(IReadOnlyDictionary<string, string>? value) =>
            value is null || !value.Values.Any(v => v is null) ? value : value.ToDictionary(kv => kv.Key, kv => kv.Value ?? "");
    }

    /// <summary>A document that can say, after it was read, what required field it lacks (null when it lacks none).</summary>
    internal interface IJsonDocument
    {
        string? Problem();
    }
}
