using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Ingest.GoRuntime.Analysis;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>
/// <see cref="IEventQueries"/> over the data streams: searches with the Query DSL through the official
/// client's transport, answering with the same documents as the embedded store (rebuilt from go.* and the
/// ECS fields by <see cref="EcsDocumentWriter.ToApiDocument"/>). Documents written once per state (alerts,
/// leak suspects) are collapsed on go.episode to their latest state.
/// </summary>
public sealed class ElasticsearchQueries(ElasticsearchClient client, ElasticsearchOptions options) : IEventQueries, Delivery.IResumeWatermarks, Delivery.IStoredHistory
{
    /// <summary>
    /// Resume watermarks from the data streams: per source of the partition, the end position of its last
    /// stored event. Called when partitions are assigned; if the cluster cannot answer then, the partition is
    /// re-read without them (idempotent ids still hold; a stream cut mid-event may index a partial copy).
    /// </summary>
    public IReadOnlyDictionary<string, long> Load(string topic, int partition)
    {
        var body = new JsonObject
        {
            ["size"] = 0,
            ["query"] = new JsonObject
            {
                ["bool"] = new JsonObject
                {
                    ["filter"] = new JsonArray(
                        new JsonObject { ["term"] = new JsonObject { ["go.origin.topic"] = topic } },
                        new JsonObject { ["term"] = new JsonObject { ["go.origin.partition"] = partition } }),
                },
            },
            ["aggs"] = new JsonObject
            {
                ["sources"] = new JsonObject
                {
                    ["terms"] = new JsonObject { ["field"] = "go.origin.source", ["size"] = 65_536 },
                    // top_hits, not max: a max aggregation answers a double, and positions need all 64 bits.
                    ["aggs"] = new JsonObject
                    {
                        ["end"] = new JsonObject
                        {
                            ["top_hits"] = new JsonObject
                            {
                                ["size"] = 1,
                                ["sort"] = new JsonArray(new JsonObject { ["go.origin.end_pos"] = "desc" }),
                                ["_source"] = new JsonArray("go.origin.end_pos"),
                            },
                        },
                    },
                },
            },
        };
        // Leak suspects span snapshots of a stream and are not part of its prefix (as in the embedded store).
        string indices = string.Join(',', DataStreams.All.Where(d => d.EventType != "leak_suspect").Select(d => d.Name(options.Namespace)).Distinct());
        try
        {
            using var doc = SearchAsync(indices, body, CancellationToken.None).GetAwaiter().GetResult();
            var result = new Dictionary<string, long>(StringComparer.Ordinal);
            if (!doc.RootElement.TryGetProperty("aggregations", out var aggs)) return result;
            foreach (var b in aggs.GetProperty("sources").GetProperty("buckets").EnumerateArray())
            {
                var top = b.GetProperty("end").GetProperty("hits").GetProperty("hits");
                if (top.GetArrayLength() == 0) continue;
                result[b.GetProperty("key").GetString()!] = top[0].GetProperty("_source").GetProperty("go").GetProperty("origin").GetProperty("end_pos").GetInt64();
            }
            return result;
        }
        catch (QueryFailedException)
        {
            return new Dictionary<string, long>();
        }
    }

    public IReadOnlyDictionary<string, IReadOnlyList<LeakSnapshot>> LeakSnapshots(string topic, int partition, long before, int perStream)
    {
        var filter = new JsonArray(
            new JsonObject { ["term"] = new JsonObject { ["go.origin.topic"] = topic } },
            new JsonObject { ["term"] = new JsonObject { ["go.origin.partition"] = partition } },
            new JsonObject { ["range"] = new JsonObject { ["go.origin.end_pos"] = new JsonObject { ["lt"] = before * LogRecord.MaxLinesPerMessage } } },
            new JsonObject { ["range"] = new JsonObject { ["go.goroutine_count"] = new JsonObject { ["gt"] = 1 } } });
        var result = new Dictionary<string, IReadOnlyList<LeakSnapshot>>(StringComparer.Ordinal);
        try
        {
            foreach (var (source, docs) in LastPerSource("goroutine_dump", filter, perStream, ["go.raw_text"]))
            {
                result[source] = [.. docs.Select(d => Delivery.StoredDocuments.LeakSnapshot(d.Doc.RootElement))];
            }
        }
        catch (QueryFailedException)
        {
            // As for the watermarks: the series starts over (the dumps read again still count).
        }
        return result;
    }

    public IReadOnlyList<Delivery.StoredGcEvent> GcHistory(int perStream)
    {
        // top_hits answers at most 100 documents per bucket (index.max_inner_result_window).
        var cycles = LastPerSource("gc", [], Math.Min(perStream, 100), []);
        var dumps = LastPerSource("goroutine_dump", [], 1, ["go.raw_text", "go.buckets", "go.findings"]);
        return [.. cycles.Concat(dumps).SelectMany(kv => kv.Value)
            .OrderBy(d => d.Doc.RootElement.GetProperty("@timestamp").GetDateTimeOffset()).ThenBy(d => d.EndPos)
            .Select(d => Delivery.StoredDocuments.GcEvent(d.Doc.RootElement))];
    }

    /// <summary>Per stream, its last <paramref name="size"/> documents of a type (oldest first), as the API's documents.</summary>
    private Dictionary<string, List<(JsonDocument Doc, long EndPos)>> LastPerSource(string type, JsonArray filter, int size, string[] excludes)
    {
        var body = new JsonObject
        {
            ["size"] = 0,
            ["query"] = new JsonObject { ["bool"] = new JsonObject { ["filter"] = filter } },
            ["aggs"] = new JsonObject
            {
                ["sources"] = new JsonObject
                {
                    ["terms"] = new JsonObject { ["field"] = "go.origin.source", ["size"] = 65_536 },
                    ["aggs"] = new JsonObject
                    {
                        ["last"] = new JsonObject
                        {
                            ["top_hits"] = new JsonObject
                            {
                                ["size"] = size,
                                ["sort"] = new JsonArray(new JsonObject { ["go.origin.end_pos"] = "desc" }),
                                ["_source"] = new JsonObject { ["excludes"] = new JsonArray([.. excludes.Select(e => (JsonNode)e)]) },
                            },
                        },
                    },
                },
            },
        };
        using var doc = SearchAsync(Index(type), body, CancellationToken.None).GetAwaiter().GetResult();
        var result = new Dictionary<string, List<(JsonDocument, long)>>(StringComparer.Ordinal);
        if (!doc.RootElement.TryGetProperty("aggregations", out var aggs)) return result;
        foreach (var b in aggs.GetProperty("sources").GetProperty("buckets").EnumerateArray())
        {
            var hits = b.GetProperty("last").GetProperty("hits").GetProperty("hits").EnumerateArray()
                .Select(h => h.GetProperty("_source"))
                .Select(src => (JsonDocument.Parse(EcsDocumentWriter.ToApiDocument(src)), src.GetProperty("go").GetProperty("origin").GetProperty("end_pos").GetInt64()))
                .Reverse().ToList();
            result[b.GetProperty("key").GetString()!] = hits;
        }
        return result;
    }

    private string Index(string type) => DataStreams.For(type).Name(options.Namespace);

    private static bool Versioned(string type) => type is "alert" or "leak_suspect" or "incident" or "dependency_graph";

    public async Task<IReadOnlyList<CrashGroup>> CrashGroupsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["size"] = 0,
            ["query"] = new JsonObject { ["range"] = new JsonObject { ["@timestamp"] = new JsonObject { ["gte"] = since.ToString("O") } } },
            ["aggs"] = new JsonObject
            {
                ["groups"] = new JsonObject
                {
                    ["terms"] = new JsonObject { ["field"] = "error.grouping_key", ["size"] = Math.Clamp(limit, 1, 1000), ["order"] = new JsonObject { ["last"] = "desc" } },
                    ["aggs"] = new JsonObject
                    {
                        ["first"] = new JsonObject { ["min"] = new JsonObject { ["field"] = "@timestamp" } },
                        ["last"] = new JsonObject { ["max"] = new JsonObject { ["field"] = "@timestamp" } },
                        ["services"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "service.name", ["size"] = 50 } },
                        ["hosts"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "host.name", ["size"] = 50 } },
                        ["pods"] = new JsonObject { ["terms"] = new JsonObject { ["field"] = "kubernetes.pod.name", ["size"] = 50 } },
                        ["latest"] = new JsonObject
                        {
                            ["top_hits"] = new JsonObject
                            {
                                ["size"] = 1,
                                ["sort"] = new JsonArray(new JsonObject { ["@timestamp"] = "desc" }),
                                ["_source"] = new JsonArray("go.category", "go.message", "go.origin.id"),
                            },
                        },
                    },
                },
            },
        };
        using var doc = await SearchAsync(Index("crash"), body, cancellationToken).ConfigureAwait(false);
        var groups = new List<CrashGroup>();
        if (!doc.RootElement.TryGetProperty("aggregations", out var aggs)) return groups;
        foreach (var b in aggs.GetProperty("groups").GetProperty("buckets").EnumerateArray())
        {
            var latest = b.GetProperty("latest").GetProperty("hits").GetProperty("hits")[0].GetProperty("_source").GetProperty("go");
            static List<string> Keys(JsonElement agg) => agg.GetProperty("buckets").EnumerateArray().Select(x => x.GetProperty("key").GetString()!).ToList();
            var hosts = Keys(b.GetProperty("hosts"));
            hosts.AddRange(Keys(b.GetProperty("pods")).Where(p => !hosts.Contains(p)));
            groups.Add(new CrashGroup(
                b.GetProperty("key").GetString()!,
                latest.GetProperty("category").GetString()!,
                latest.TryGetProperty("message", out var msg) ? msg.GetString() ?? string.Empty : string.Empty,
                b.GetProperty("doc_count").GetInt64(),
                DateTimeOffset.FromUnixTimeMilliseconds((long)b.GetProperty("first").GetProperty("value").GetDouble()),
                DateTimeOffset.FromUnixTimeMilliseconds((long)b.GetProperty("last").GetProperty("value").GetDouble()),
                Keys(b.GetProperty("services")),
                hosts,
                latest.GetProperty("origin").GetProperty("id").GetString()!));
        }
        return groups;
    }

    public async Task<string?> ByIdAsync(string id, string type, CancellationToken cancellationToken)
    {
        if (!DataStreams.All.Any(s => s.EventType == type)) return null;
        var body = new JsonObject
        {
            ["size"] = 1,
            ["query"] = new JsonObject { ["term"] = new JsonObject { ["go.origin.id"] = id } },
            ["sort"] = LatestFirst(),
        };
        var docs = await HitsAsync(Index(type), body, cancellationToken).ConfigureAwait(false);
        return docs.FirstOrDefault();
    }

    public Task<IReadOnlyList<string>> RecentAsync(string type, int limit, DateTimeOffset? since, string? service, CancellationToken cancellationToken, PageCursor? before = null) =>
        ListAsync(type, since, null, service, limit, newestFirst: true, cancellationToken, before);

    public Task<IReadOnlyList<string>> RangeAsync(string type, DateTimeOffset from, DateTimeOffset to, int limit, string? service, CancellationToken cancellationToken) =>
        ListAsync(type, from, to, service, limit, newestFirst: false, cancellationToken);

    public async Task<IReadOnlyList<string>> AlertsAsync(string? status, string? service, int limit, CancellationToken cancellationToken)
    {
        // Latest state per episode first, then the status filter (a filter before the collapse would find
        // the old firing state of a resolved episode).
        var latest = await ListAsync("alert", null, null, service, 1000, newestFirst: true, cancellationToken).ConfigureAwait(false);
        return latest.Where(d => status is null || JsonDocument.Parse(d).RootElement.GetProperty("event").GetProperty("status").GetString() == status)
            .Take(Math.Clamp(limit, 1, 1000)).ToList();
    }

    private async Task<IReadOnlyList<string>> ListAsync(string type, DateTimeOffset? from, DateTimeOffset? to, string? service, int limit,
        bool newestFirst, CancellationToken cancellationToken, PageCursor? after = null)
    {
        var filters = new JsonArray();
        if (from is not null || to is not null)
        {
            var range = new JsonObject();
            if (from is { } f) range["gte"] = f.ToString("O");
            if (to is { } t) range["lte"] = t.ToString("O");
            filters.Add(new JsonObject { ["range"] = new JsonObject { ["@timestamp"] = range } });
        }
        if (service is not null) filters.Add(new JsonObject { ["term"] = new JsonObject { ["service.name"] = service } });
        // Data streams shared by event types (incidents and the dependency graph).
        filters.Add(new JsonObject { ["term"] = new JsonObject { ["go.type"] = type } });
        var body = new JsonObject
        {
            ["size"] = Math.Clamp(limit, 1, 10_000),
            ["query"] = new JsonObject { ["bool"] = new JsonObject { ["filter"] = filters } },
            ["sort"] = newestFirst ? LatestFirst() : new JsonArray(new JsonObject { ["@timestamp"] = "asc" }, new JsonObject { ["go.origin.offset"] = "asc" }),
        };
        if (Versioned(type))
        {
            body["collapse"] = new JsonObject { ["field"] = "go.episode" };
            // Collapsed results page by time alone.
            if (after is { } a) filters.Add(new JsonObject { ["range"] = new JsonObject { ["@timestamp"] = new JsonObject { ["lt"] = a.TimestampMs, ["format"] = "epoch_millis" } } });
        }
        else if (newestFirst)
        {
            // Pages follow (time, id), as in the embedded store.
            body["sort"] = new JsonArray(new JsonObject { ["@timestamp"] = "desc" }, new JsonObject { ["go.origin.id"] = "desc" });
            if (after is { } a) body["search_after"] = new JsonArray(a.TimestampMs, a.Id);
        }
        return await HitsAsync(Index(type), body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Newest first; among states written at the same instant, the one with more cycles, then resolved over firing.</summary>
    private static JsonArray LatestFirst() => new(
        new JsonObject { ["@timestamp"] = "desc" },
        new JsonObject { ["go.cycles"] = new JsonObject { ["order"] = "desc", ["unmapped_type"] = "integer" } },
        new JsonObject { ["go.status"] = new JsonObject { ["order"] = "desc", ["unmapped_type"] = "keyword" } });

    private async Task<List<string>> HitsAsync(string index, JsonObject body, CancellationToken cancellationToken)
    {
        using var doc = await SearchAsync(index, body, cancellationToken).ConfigureAwait(false);
        if (!doc.RootElement.TryGetProperty("hits", out var hits)) return [];
        return hits.GetProperty("hits").EnumerateArray().Select(h => EcsDocumentWriter.ToApiDocument(h.GetProperty("_source"))).ToList();
    }

    private async Task<JsonDocument> SearchAsync(string index, JsonObject body, CancellationToken cancellationToken)
    {
        // ignore_unavailable: a data stream that has no document yet does not exist; that is an empty answer.
        var response = await client.Transport.RequestAsync<BytesResponse>(Elastic.Transport.HttpMethod.POST,
            $"/{index}/_search?ignore_unavailable=true&allow_no_indices=true", PostData.String(body.ToJsonString()), cancellationToken).ConfigureAwait(false);
        var call = response.ApiCallDetails;
        if (!call.HasSuccessfulStatusCode)
        {
            string reason = call.HttpStatusCode is { } sc ? $"HTTP {sc}: {Encoding.UTF8.GetString(response.Body ?? [])}" : call.OriginalException?.Message ?? "no response";
            throw new QueryFailedException($"elasticsearch search on {index} failed: {(reason.Length > 500 ? reason[..500] : reason)}");
        }
        return JsonDocument.Parse(response.Body);
    }

    public sealed class QueryFailedException(string message) : Exception(message);
}
