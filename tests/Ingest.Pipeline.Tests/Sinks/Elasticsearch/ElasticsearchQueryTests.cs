using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>The query interface over Elasticsearch: request shapes, and answers parsed into the API's shapes.</summary>
public sealed class ElasticsearchQueryTests
{
    private static readonly ElasticsearchOptions s_options = new() { Urls = ["http://es.test:9200"], Namespace = "prod" };

    private static (ElasticsearchQueries Queries, ScriptedInvoker Invoker) Create(Func<ScriptedInvoker.Call, (int, string)> respond)
    {
        var invoker = new ScriptedInvoker(respond);
        return (new ElasticsearchQueries(ElasticsearchEventSink.CreateClient(s_options, invoker), s_options), invoker);
    }

    private static string SourceOf(Ingest.Pipeline.Model.IndexedEvent e) =>
        System.Text.Encoding.UTF8.GetString(new EcsDocumentWriter().Write(e, "prod").Source);

    [Fact]
    public async Task Crash_groups_are_a_terms_aggregation_on_the_grouping_key()
    {
        var crash = EsTestEvents.From("01-nil-pointer-dereference.txt").First(e => e.Event is Ingest.GoRuntime.Model.CrashEvent);
        string answer = """
            {"hits":{"hits":[]},"aggregations":{"groups":{"buckets":[{"key":"abc123","doc_count":7,
              "first":{"value":1764410400000.0},"last":{"value":1764414000000.0},
              "services":{"buckets":[{"key":"checkout","doc_count":7}]},
              "hosts":{"buckets":[{"key":"node-7","doc_count":7}]},
              "pods":{"buckets":[{"key":"checkout-7d9f","doc_count":7}]},
              "latest":{"hits":{"hits":[{"_source":SOURCE}]}}}]}}}
            """.Replace("SOURCE", SourceOf(crash), StringComparison.Ordinal);
        var (queries, invoker) = Create(_ => (200, answer));
        var groups = await queries.CrashGroupsAsync(DateTimeOffset.UnixEpoch, 10, CancellationToken.None);

        var call = Assert.Single(invoker.Calls);
        Assert.Equal("POST", call.Method);
        Assert.StartsWith("/logs-go.crash-prod/_search", call.Path, StringComparison.Ordinal);
        Assert.Contains("ignore_unavailable=true", call.Path, StringComparison.Ordinal);
        var body = JsonNode.Parse(call.Body)!;
        Assert.Equal("error.grouping_key", body["aggs"]!["groups"]!["terms"]!["field"]!.GetValue<string>());
        Assert.Equal(0, body["size"]!.GetValue<int>());

        var g = Assert.Single(groups);
        Assert.Equal("abc123", g.Fingerprint);
        Assert.Equal(7, g.Count);
        Assert.Equal("nil_pointer_dereference", g.Category);
        Assert.Equal(["checkout"], g.Services);
        Assert.Equal(["node-7", "checkout-7d9f"], g.Hosts);
        Assert.Equal(crash.Id, g.LatestId);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1764410400000), g.FirstSeen);
    }

    [Fact]
    public void Leak_history_is_the_last_dumps_of_each_stream_before_the_committed_offset_read_back_as_stored()
    {
        var dumps = EsTestEvents.From("29-goroutine-leak-4-snapshots.txt").Where(e => e.Event is Ingest.GoRuntime.Model.GoroutineDumpEvent).Take(2).ToList();
        Assert.Equal(2, dumps.Count);
        // top_hits answers newest first.
        string answer = """
            {"hits":{"hits":[]},"aggregations":{"sources":{"buckets":[{"key":"KEY","doc_count":2,
              "last":{"hits":{"hits":[{"_source":SECOND},{"_source":FIRST}]}}}]}}}
            """.Replace("KEY", dumps[0].Stream.Source, StringComparison.Ordinal).Replace("FIRST", SourceOf(dumps[0]), StringComparison.Ordinal)
            .Replace("SECOND", SourceOf(dumps[1]), StringComparison.Ordinal);
        var (queries, invoker) = Create(_ => (200, answer));
        var history = queries.LeakSnapshots("logs", 0, 5000, 32);

        var call = Assert.Single(invoker.Calls);
        Assert.StartsWith("/logs-go.goroutine_dump-prod/_search", call.Path, StringComparison.Ordinal);
        var body = JsonNode.Parse(call.Body)!;
        var filters = body["query"]!["bool"]!["filter"]!.AsArray().Select(f => f!.ToJsonString()).ToList();
        Assert.Contains(filters, f => f.Contains("\"go.origin.end_pos\":{\"lt\":" + (5000L * Ingest.Pipeline.Model.LogRecord.MaxLinesPerMessage), StringComparison.Ordinal));
        Assert.Contains(filters, f => f.Contains("\"go.goroutine_count\":{\"gt\":1}", StringComparison.Ordinal));
        Assert.Equal(32, body["aggs"]!["sources"]!["aggs"]!["last"]!["top_hits"]!["size"]!.GetValue<int>());

        var snapshots = Assert.Single(history).Value;
        Assert.Equal(dumps.Select(d => d.Event.Line), snapshots.Select(s => s.Line));
        var first = (Ingest.GoRuntime.Model.GoroutineDumpEvent)dumps[0].Event;
        Assert.Equal(first.Buckets.Select(b => (b.CreatedBy, b.Count)), snapshots[0].Buckets.Select(b => (b.CreatedBy, b.Count)));
    }

    [Fact]
    public async Task Alerts_are_the_latest_state_of_each_episode_then_filtered_by_status()
    {
        var (queries, invoker) = Create(_ => (200, """{"hits":{"hits":[]}}"""));
        Assert.Empty(await queries.AlertsAsync("firing", "checkout", 10, CancellationToken.None));
        var body = JsonNode.Parse(Assert.Single(invoker.Calls).Body)!;
        Assert.Equal("go.episode", body["collapse"]!["field"]!.GetValue<string>());
        Assert.Equal("@timestamp", body["sort"]![0]!.AsObject().Single().Key);
        Assert.Equal("checkout", body["query"]!["bool"]!["filter"]![0]!["term"]!["service.name"]!.GetValue<string>());
        // The status is filtered after the collapse, never in the query.
        Assert.DoesNotContain("firing", invoker.Calls[0].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gc_cycles_for_a_service_and_range_come_back_oldest_first_as_api_documents()
    {
        var cycles = EsTestEvents.From("31-gctrace.txt").Take(2).ToList();
        string answer = "{\"hits\":{\"hits\":[{\"_source\":" + SourceOf(cycles[0]) + "},{\"_source\":" + SourceOf(cycles[1]) + "}]}}";
        var (queries, invoker) = Create(_ => (200, answer));
        var from = new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero);
        var docs = await queries.RangeAsync("gc", from, from.AddHours(2), 500, "checkout", CancellationToken.None);

        var call = Assert.Single(invoker.Calls);
        Assert.StartsWith("/metrics-go.gc-prod/_search", call.Path, StringComparison.Ordinal);
        var body = JsonNode.Parse(call.Body)!;
        Assert.Equal(500, body["size"]!.GetValue<int>());
        Assert.Equal("asc", body["sort"]![0]!["@timestamp"]!.GetValue<string>());
        Assert.Equal(from.ToString("O"), body["query"]!["bool"]!["filter"]![0]!["range"]!["@timestamp"]!["gte"]!.GetValue<string>());
        Assert.Equal(2, docs.Count);
        var first = JsonDocument.Parse(docs[0]).RootElement;
        Assert.Equal(cycles[0].Id, first.GetProperty("id").GetString());
        Assert.Equal("gc", first.GetProperty("event").GetProperty("type").GetString());
    }

    [Fact]
    public async Task Pages_continue_after_the_cursor_by_time_then_id()
    {
        var (queries, invoker) = Create(_ => (200, """{"hits":{"hits":[]}}"""));
        await queries.RecentAsync("crash", 25, null, null, CancellationToken.None, new Ingest.Pipeline.Sinks.PageCursor(1764410400123, "crash:logs:0:9:0"));
        var body = JsonNode.Parse(Assert.Single(invoker.Calls).Body)!;
        Assert.Equal(1764410400123, body["search_after"]![0]!.GetValue<long>());
        Assert.Equal("crash:logs:0:9:0", body["search_after"]![1]!.GetValue<string>());
        Assert.Equal("desc", body["sort"]![1]!["go.origin.id"]!.GetValue<string>());
        Assert.True(Ingest.Pipeline.Sinks.PageCursor.TryParse("1764410400123:crash:logs:0:9:0", out var c));
        Assert.Equal("crash:logs:0:9:0", c.Id);
        Assert.False(Ingest.Pipeline.Sinks.PageCursor.TryParse("x:y", out _));
    }

    [Fact]
    public async Task A_failed_search_is_an_error_not_an_empty_answer()
    {
        var (queries, _) = Create(_ => (500, """{"error":"boom"}"""));
        await Assert.ThrowsAsync<ElasticsearchQueries.QueryFailedException>(() => queries.RecentAsync("crash", 10, null, null, CancellationToken.None));
    }

    [Fact]
    public void Resume_watermarks_come_from_the_latest_end_position_per_source()
    {
        var (queries, invoker) = Create(_ => (200, """
            {"hits":{"hits":[]},"aggregations":{"sources":{"buckets":[
              {"key":"pod-a","doc_count":3,"end":{"hits":{"hits":[{"_source":{"go":{"origin":{"end_pos":9223372036854775000}}}}]}}}]}}}
            """));
        var marks = queries.Load("logs", 3);
        Assert.Equal(9223372036854775000, marks["pod-a"]);
        Assert.DoesNotContain("logs-go.leak_suspect", Assert.Single(invoker.Calls).Path, StringComparison.Ordinal);
    }
}
