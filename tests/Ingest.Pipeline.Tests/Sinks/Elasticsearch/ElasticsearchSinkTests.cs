using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Tests.Support;
using Polly.CircuitBreaker;

namespace Ingest.Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>Request shapes and response handling, through the official client over InMemoryRequestInvoker.</summary>
public sealed class ElasticsearchSinkTests
{
    private static ElasticsearchOptions Options(bool bootstrap = true) => new()
    {
        Urls = ["http://es.test:9200"], Bootstrap = bootstrap, BreakerMinimumThroughput = 2, BreakerBreakDuration = TimeSpan.FromMinutes(5), ItemRetries = 2,
    };

    private static (ElasticsearchEventSink Sink, ScriptedInvoker Invoker) Create(ElasticsearchOptions o, Func<ScriptedInvoker.Call, (int, string)> respond)
    {
        var invoker = new ScriptedInvoker(respond);
        return (new ElasticsearchEventSink(o, ElasticsearchEventSink.CreateClient(o, invoker)), invoker);
    }

    /// <summary>A bulk answer with one status per item, in order (null: 201 for all).</summary>
    private static string BulkAnswer(string body, params int[] statuses)
    {
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var items = new JsonArray();
        for (int i = 0; i * 2 < lines.Length; i++)
        {
            var action = JsonNode.Parse(lines[i * 2])!["create"]!;
            int status = statuses.Length == 0 ? 201 : statuses[i];
            var result = new JsonObject { ["_index"] = action["_index"]!.GetValue<string>(), ["_id"] = action["_id"]!.GetValue<string>(), ["status"] = status };
            if (status >= 300) result["error"] = new JsonObject { ["type"] = status == 400 ? "document_parsing_exception" : "es_rejected_execution_exception", ["reason"] = $"scripted {status}" };
            items.Add(new JsonObject { ["create"] = result });
        }
        return new JsonObject { ["errors"] = statuses.Any(s => s >= 300), ["items"] = items }.ToJsonString();
    }

    private static (int, string) Acknowledge(ScriptedInvoker.Call c) =>
        c.Method == "PUT" ? (200, """{"acknowledged":true}""") : (200, BulkAnswer(c.Body));

    [Fact]
    public async Task Bootstrap_installs_the_lifecycle_policy_and_one_data_stream_template_per_event_type()
    {
        var (sink, invoker) = Create(Options(), Acknowledge);
        await sink.BootstrapAsync(CancellationToken.None);
        var puts = invoker.Calls.Where(c => c.Method == "PUT").ToList();
        Assert.Equal(3 + DataStreams.ByTemplate.Count(), puts.Count);

        var policy = JsonNode.Parse(puts.Single(c => c.Path == "/_ilm/policy/ingest-go").Body)!["policy"]!["phases"]!;
        Assert.Equal("1d", policy["hot"]!["actions"]!["rollover"]!["max_age"]!.GetValue<string>());
        Assert.Equal("30d", policy["delete"]!["min_age"]!.GetValue<string>());

        var ecs = JsonNode.Parse(puts.Single(c => c.Path == "/_component_template/ingest-go-ecs").Body)!["template"]!["mappings"]!;
        Assert.False(ecs["dynamic"]!.GetValue<bool>());
        Assert.Equal("wildcard", ecs["properties"]!["error"]!["properties"]!["stack_trace"]!["type"]!.GetValue<string>());
        Assert.Equal("keyword", ecs["properties"]!["error"]!["properties"]!["grouping_key"]!["type"]!.GetValue<string>());

        foreach (var (template, pattern) in new[] { ("ingest-logs-go.crash", "logs-go.crash-*"), ("ingest-metrics-go.gc", "metrics-go.gc-*"), ("ingest-logs-go.alert", "logs-go.alert-*") })
        {
            var t = JsonNode.Parse(puts.Single(c => c.Path == "/_index_template/" + template).Body)!;
            Assert.Equal(pattern, t["index_patterns"]![0]!.GetValue<string>());
            Assert.NotNull(t["data_stream"]);
            Assert.Equal(200, t["priority"]!.GetValue<int>());
            Assert.Equal(["ingest-go-settings", "ingest-go-ecs"], t["composed_of"]!.AsArray().Select(n => n!.GetValue<string>()));
        }
        // Two event types share the incident stream: its template has both's fields.
        var incidentGo = JsonNode.Parse(puts.Single(c => c.Path == "/_index_template/ingest-logs-go.incident").Body)!["template"]!["mappings"]!["properties"]!["go"]!["properties"]!;
        Assert.NotNull(incidentGo["root_cause"]);
        Assert.NotNull(incidentGo["edges"]);
        var crash = JsonNode.Parse(puts.Single(c => c.Path == "/_index_template/ingest-logs-go.crash").Body)!["template"]!["mappings"]!["properties"]!["go"]!["properties"]!;
        Assert.Equal("keyword", crash["category"]!["type"]!.GetValue<string>());
        Assert.Equal("keyword", crash["root_cause"]!["properties"]!["function"]!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Bulk_creates_each_event_in_its_data_stream_with_its_id_and_ecs_fields_after_bootstrap()
    {
        var events = EsTestEvents.From("01-nil-pointer-dereference.txt", "31-gctrace.txt");
        var (sink, invoker) = Create(Options(), Acknowledge);
        var rejected = await sink.WriteBatchAsync(events, CancellationToken.None);
        Assert.Empty(rejected);
        // Templates first, then the data.
        int firstBulk = invoker.Calls.FindIndex(c => c.Path == "/_bulk");
        Assert.Equal(3 + DataStreams.ByTemplate.Count(), firstBulk);
        Assert.Equal(events.Count, sink.Created);

        var lines = invoker.Calls[firstBulk].Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(events.Count * 2, lines.Length);
        var crashEvent = events.First(e => e.Event is CrashEvent);
        var crash = (CrashEvent)crashEvent.Event;
        int at = events.IndexOf(crashEvent);
        var action = JsonDocument.Parse(lines[at * 2]).RootElement.GetProperty("create");
        Assert.Equal("logs-go.crash-default", action.GetProperty("_index").GetString());
        Assert.Equal(crashEvent.Id, action.GetProperty("_id").GetString());
        var source = JsonDocument.Parse(lines[at * 2 + 1]).RootElement;
        Assert.Equal("go.crash", source.GetProperty("event").GetProperty("dataset").GetString());
        Assert.Equal("event", source.GetProperty("event").GetProperty("kind").GetString());
        Assert.Equal(crash.Fingerprint, source.GetProperty("error").GetProperty("grouping_key").GetString());
        Assert.Equal(crash.RawText, source.GetProperty("error").GetProperty("stack_trace").GetString());
        Assert.Equal(crash.Category, source.GetProperty("go").GetProperty("category").GetString());
        Assert.False(source.GetProperty("go").TryGetProperty("raw_text", out _)); // kept once, in error.stack_trace
        Assert.Equal("checkout", source.GetProperty("service").GetProperty("name").GetString());
        Assert.Equal("1.4.2", source.GetProperty("service").GetProperty("version").GetString());
        Assert.Equal("node-7", source.GetProperty("host").GetProperty("name").GetString());
        Assert.Equal("checkout-7d9f", source.GetProperty("kubernetes").GetProperty("pod").GetProperty("name").GetString());
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", source.GetProperty("trace").GetProperty("id").GetString());
        Assert.Equal("logs", source.GetProperty("data_stream").GetProperty("type").GetString());

        var gcAction = JsonDocument.Parse(lines[events.FindIndex(e => e.Event is GcCycleEvent) * 2]).RootElement.GetProperty("create");
        Assert.Equal("metrics-go.gc-default", gcAction.GetProperty("_index").GetString());

        // The API gets back exactly the document the embedded store would hold.
        string api = EcsDocumentWriter.ToApiDocument(source);
        string expected = System.Text.Encoding.UTF8.GetString(new EventDocument().Serialize(crashEvent));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(api)), api);
    }

    [Fact]
    public async Task Partial_failures_are_classified_per_item_and_only_the_retryable_ones_are_sent_again()
    {
        var events = EsTestEvents.From("31-gctrace.txt").Take(4).ToList();
        int bulks = 0;
        var (sink, invoker) = Create(Options(bootstrap: false), c => ++bulks == 1 ? (200, BulkAnswer(c.Body, 201, 409, 429, 400)) : (200, BulkAnswer(c.Body)));
        var rejected = await sink.WriteBatchAsync(events, CancellationToken.None);

        var refused = Assert.Single(rejected);
        Assert.Same(events[3], refused.Event);
        Assert.Contains("400", refused.Reason, StringComparison.Ordinal);
        Assert.Contains("document_parsing_exception", refused.Reason, StringComparison.Ordinal);
        Assert.Equal(2, invoker.Calls.Count);
        var second = invoker.Calls[1].Body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, second.Length); // only the 429 item
        Assert.Equal(events[2].Id, JsonDocument.Parse(second[0]).RootElement.GetProperty("create").GetProperty("_id").GetString());
        Assert.Equal(2, sink.Created);
        Assert.Equal(1, sink.Duplicates);
        Assert.Equal(1, sink.Retried);
        Assert.Equal(ElasticsearchEventSink.ItemOutcome.Stored, ElasticsearchEventSink.Classify(201));
        Assert.Equal(ElasticsearchEventSink.ItemOutcome.Retry, ElasticsearchEventSink.Classify(503));
        Assert.Equal(ElasticsearchEventSink.ItemOutcome.Reject, ElasticsearchEventSink.Classify(413));
    }

    [Fact]
    public async Task A_cluster_answering_503_opens_the_circuit_and_later_writes_fail_fast()
    {
        var events = EsTestEvents.From("31-gctrace.txt").Take(2).ToList();
        var (sink, invoker) = Create(Options(bootstrap: false), _ => (503, """{"error":"unavailable"}"""));
        await Assert.ThrowsAsync<ElasticsearchEventSink.ClusterUnavailableException>(() => sink.WriteBatchAsync(events, CancellationToken.None));
        await Assert.ThrowsAsync<ElasticsearchEventSink.ClusterUnavailableException>(() => sink.WriteBatchAsync(events, CancellationToken.None));
        Assert.Equal(CircuitState.Open, sink.Circuit);
        int calls = invoker.Calls.Count;
        await Assert.ThrowsAsync<BrokenCircuitException>(() => sink.WriteBatchAsync(events, CancellationToken.None));
        Assert.Equal(calls, invoker.Calls.Count); // no request while open
    }

    [Fact]
    public void Alert_states_are_separate_documents_of_one_episode()
    {
        var alert = new GcAlertEvent
        {
            Stream = "pod-a", Line = 5L * LogRecord.MaxLinesPerMessage, Service = "checkout", Instance = "pod-a", Kind = "gc_thrash", Fingerprint = "f",
            Status = "firing", StartedAt = DateTimeOffset.UnixEpoch, LastSeenAt = DateTimeOffset.UnixEpoch, FirstCycle = 1, LastCycle = 1, Cycles = 1,
            Value = 1, Threshold = 0.5, PeakValue = 1, Reason = "r",
        };
        var stream = new StreamKey("logs", 0, "pod-a");
        var firing = new IndexedEvent { Id = IndexedEvent.IdFor(alert, stream), Event = alert, Stream = stream, FirstOffset = 5, Timestamp = DateTimeOffset.UnixEpoch, Metadata = SourceMetadata.Empty };
        var resolvedAlert = new GcAlertEvent
        {
            Stream = alert.Stream, Line = alert.Line, Service = alert.Service, Instance = alert.Instance, Kind = alert.Kind, Fingerprint = alert.Fingerprint,
            Status = "resolved", StartedAt = alert.StartedAt, LastSeenAt = alert.LastSeenAt, FirstCycle = 1, LastCycle = 1, Cycles = 1, Value = 1, Threshold = 0.5, PeakValue = 1, Reason = "r",
        };
        var resolved = firing with { Event = resolvedAlert };
        Assert.Equal(firing.Id, resolved.Id);
        Assert.NotEqual(EcsDocumentWriter.DocumentId(firing), EcsDocumentWriter.DocumentId(resolved));
        var writer = new EcsDocumentWriter();
        var doc = JsonDocument.Parse(writer.Write(resolved, "default").Source).RootElement;
        Assert.Equal(firing.Id, doc.GetProperty("go").GetProperty("episode").GetString());
        Assert.Equal("logs-go.alert-default", writer.Write(resolved, "default").DataStream);
    }
}

public sealed class ElasticsearchOptionsTests
{
    [Fact]
    public void Configuration_mistakes_are_named()
    {
        Assert.Empty(new ElasticsearchOptions { Urls = ["https://es:9200"] }.Validate());
        Assert.Contains(new ElasticsearchOptions().Validate(), e => e.Contains("Urls is required", StringComparison.Ordinal));
        Assert.Contains(new ElasticsearchOptions { Urls = ["es:9200"] }.Validate(), e => e.Contains("invalid URL", StringComparison.Ordinal));
        Assert.Contains(new ElasticsearchOptions { Urls = ["https://es:9200"], ApiKey = "k", Username = "u", Password = "p" }.Validate(), e => e.Contains("not both", StringComparison.Ordinal));
        Assert.Contains(new ElasticsearchOptions { Urls = ["https://es:9200"], Namespace = "Prod-1" }.Validate(), e => e.Contains("Namespace", StringComparison.Ordinal));
        Assert.Contains(new ElasticsearchOptions { Urls = ["https://es:9200"], CaFile = "/nonexistent/ca.pem" }.Validate(), e => e.Contains("CaFile", StringComparison.Ordinal));
    }
}
