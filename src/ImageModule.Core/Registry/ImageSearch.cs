using System;
using System.Collections.Generic;
using System.Linq;
using System.Net.Http;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading;
using System.Threading.Tasks;

namespace ImageModule.Registry
{
    /// <summary>One hit of a registry search (docker search): NAME DESCRIPTION STARS OFFICIAL.</summary>
    public sealed record ImageSearchResult
    {
        [JsonPropertyName("name")] public string Name { get; init; } = "";
        [JsonPropertyName("description")] public string? Description { get; init; }
        [JsonPropertyName("star_count")] public int StarCount { get; init; }
        [JsonPropertyName("is_official")] public bool IsOfficial { get; init; }
        [JsonPropertyName("is_automated")] public bool IsAutomated { get; init; }
        /// <summary>The registry searched (docker.io for Docker Hub).</summary>
        [JsonIgnore] public string Registry { get; init; } = "";
    }

    /// <summary>
    /// The search API docker search uses (GET /v1/search?q=…&amp;n=…), on Docker Hub (index.docker.io) or a registry
    /// that offers it. Filters (official, stars) apply to what the registry returns, as docker's --filter does.
    /// </summary>
    public static class ImageSearch
    {
        public const string DockerHubIndex = "index.docker.io";
        public const int MaxLimit = 100;
        /// <summary>A hundred results are some tens of KiB; a bigger answer is refused, not read.</summary>
        public const long MaxResponseBytes = 4L << 20;

        public static async Task<IReadOnlyList<ImageSearchResult>> SearchAsync(string registry, string term, int limit, bool officialOnly, int minimumStars,
            RegistryHostSettings? settings, CancellationToken cancellationToken)
        {
            var host = registry == References.ImageReference.DockerHub ? DockerHubIndex : registry;
            settings ??= new RegistryHostSettings(registry);
            var timeouts = settings.Timeouts;
            var transport = RegistryTransport.Create(host, settings, timeouts.Connect);
            using var http = new HttpClient(new RetryHandler(new RedirectHandler(new TimeoutHandler(timeouts, transport)))) { Timeout = System.Threading.Timeout.InfiniteTimeSpan };
            var uri = new Uri($"https://{host}/v1/search?q={Uri.EscapeDataString(term)}&n={Math.Max(1, Math.Min(limit, MaxLimit))}");
            HttpResponseMessage response;
            try
            {
                response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                throw new ImageModuleException("RegistryUnreachable", ErrorKind.ConnectionError, $"Cannot reach {host} to search: {e.InnerException?.Message ?? e.Message}", registry, e);
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode) throw await RegistryErrors.FromResponseAsync(response, registry, term).ConfigureAwait(false);
                byte[] body;
                try
                {
                    body = await BoundedBody.ReadAsync(response, MaxResponseBytes, $"the search results of {host}", cancellationToken).ConfigureAwait(false);
                }
                catch (RegistryStalledException e)
                {
                    throw e.ToTimeout();
                }
                catch (Exception e) when (e is System.IO.IOException || e is HttpRequestException)
                {
                    throw new ImageModuleException("RegistryConnectionLost", ErrorKind.ConnectionError, $"The search results from {host} broke off: {e.Message}", registry, e);
                }
                return Parse(body, registry).Where(r => (!officialOnly || r.IsOfficial) && r.StarCount >= minimumStars).Take(limit).ToList();
            }
        }

        /// <summary>The /v1/search response: {"num_results":…, "query":…, "results":[{name, description, star_count, is_official, is_automated}]}.</summary>
        public static IReadOnlyList<ImageSearchResult> Parse(byte[] body, string registry)
        {
            try
            {
                var page = JsonSerializer.Deserialize<SearchPage>(body);
                return (page?.Results ?? new List<ImageSearchResult>()).Where(r => !string.IsNullOrEmpty(r.Name)).Select(r => r with { Registry = registry }).ToList();
            }
            catch (JsonException e)
            {
                throw new ImageModuleException("RegistryProtocolError", ErrorKind.InvalidData, $"{registry} answered the search with something that is not a search result: {e.Message}", registry, e);
            }
        }

        private sealed class SearchPage
        {
            [JsonPropertyName("results")] public List<ImageSearchResult>? Results { get; set; }
        }
    }
}
