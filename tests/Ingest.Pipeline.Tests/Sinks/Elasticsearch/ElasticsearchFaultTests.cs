using System.Text.Json;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>
/// The worker (Kafka over the mock cluster → assembly → Elasticsearch sink) against a loopback HTTP server
/// that fails the way clusters do: 503s, 429 storms, answers slower than the client waits, and being down.
/// Nothing may be lost, nothing indexed twice, and consumption must pause while the cluster is down.
/// </summary>
public sealed class ElasticsearchFaultTests
{
    private static readonly string[] s_files = ["01-nil-pointer-dereference.txt", "14-concurrent-map-writes.txt", "21-http-panic-serving.txt", "31-gctrace.txt"];

    private static ElasticsearchEventSink Sink(FakeElasticsearch es) => new(
        new ElasticsearchOptions
        {
            Urls = [es.Url], RequestTimeout = TimeSpan.FromSeconds(1), ItemRetries = 3,
            BreakerMinimumThroughput = 2, BreakerBreakDuration = TimeSpan.FromMilliseconds(500),
        },
        ElasticsearchEventSink.CreateClient(new ElasticsearchOptions { Urls = [es.Url], RequestTimeout = TimeSpan.FromSeconds(1) }));

    /// <summary>Per source, the signatures of the stored events (the API documents rebuilt from _source).</summary>
    private static Dictionary<string, List<string>> Stored(FakeElasticsearch es)
    {
        var result = new Dictionary<string, List<string>>();
        foreach (var source in es.Documents.Values)
        {
            using var api = JsonDocument.Parse(EcsDocumentWriter.ToApiDocument(source));
            string stream = api.RootElement.GetProperty("source").GetString()!;
            if (!result.TryGetValue(stream, out var list)) result[stream] = list = [];
            list.Add(CorpusFeed.Signature(api.RootElement.GetProperty("event")));
        }
        foreach (var list in result.Values) list.Sort(StringComparer.Ordinal);
        return result;
    }

    private static void AssertExactlyTheCorpus(FakeElasticsearch es, Dictionary<string, List<string>> expected)
    {
        var stored = Stored(es);
        Assert.Equal(expected.Keys.Order(), stored.Keys.Order());
        foreach (var (stream, events) in expected) Assert.Equal(events, stored[stream]);
        // One document per event: a replayed create answered 409 instead of writing a second copy.
        Assert.Equal(expected.Values.Sum(v => v.Count), es.Documents.Count);
    }

    [Fact]
    public void Errors_429_storms_and_timeouts_lose_nothing_and_index_nothing_twice()
    {
        var files = s_files.Select(f => Path.Combine(CorpusFeed.Dir, f)).ToList();
        var expected = CorpusFeed.Expected(files);
        using var es = new FakeElasticsearch
        {
            BulkFaults = n => n switch
            {
                1 => new FakeElasticsearch.Fault(RequestStatus: 503),
                2 or 3 or 4 => new FakeElasticsearch.Fault(ItemStatus: 429),              // a storm of per-item 429s
                5 => new FakeElasticsearch.Fault(Delay: TimeSpan.FromSeconds(3)),         // applied, but the client gave up
                6 => new FakeElasticsearch.Fault(RequestStatus: 429),
                _ => null,
            },
        };
        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 3);
        h.Produce("logs", CorpusFeed.Interleaved(files));
        using var sink = Sink(es);
        var worker = h.StartWorker("es-faults", sinkOverride: sink,
            sink: new SinkHostOptions { BatchSize = 20, BatchDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(200) });
        int total = expected.Values.Sum(v => v.Count);
        Wait.Until(() => es.Documents.Count >= total && worker.Sink.Pending == 0, TimeSpan.FromSeconds(90), "every event indexed",
            () => $"{es.Documents.Count}/{total} documents, {worker.Sink.Pending} pending");
        worker.StopGracefully();

        AssertExactlyTheCorpus(es, expected);
        Assert.True(es.Conflicts > 0, "the timed-out request was applied, so its replay must have met 409s");
        Assert.True(sink.Retried > 0);
        Assert.Contains("/_index_template/ingest-logs-go.crash", es.TemplatePaths);
    }

    [Fact]
    public void While_the_cluster_refuses_connections_consumption_pauses_and_resumes_when_it_is_back()
    {
        var files = s_files.Select(f => Path.Combine(CorpusFeed.Dir, f)).ToList();
        var expected = CorpusFeed.Expected(files);
        using var es = new FakeElasticsearch();
        es.Down();
        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 3);
        h.Produce("logs", CorpusFeed.Interleaved(files));
        using var sink = Sink(es);
        // A small queue: the backpressure bound.
        var worker = h.StartWorker("es-down", sinkOverride: sink,
            sink: new SinkHostOptions { BatchSize = 5, MaxPending = 10, BatchDelay = TimeSpan.FromMilliseconds(20), MaxRetryDelay = TimeSpan.FromMilliseconds(200) });

        Wait.Until(() => worker.Source.Paused, TimeSpan.FromSeconds(60), "consumption paused while the cluster is down",
            () => $"{worker.Sink.Pending} pending");
        Assert.Empty(es.Documents);
        Assert.True(worker.Sink.Pending <= 10 + 256, $"queue bounded: {worker.Sink.Pending}");
        Assert.True(worker.Sink.Failures > 0);

        es.Up();
        int total = expected.Values.Sum(v => v.Count);
        Wait.Until(() => es.Documents.Count >= total && worker.Sink.Pending == 0, TimeSpan.FromSeconds(90), "every event indexed after recovery",
            () => $"{es.Documents.Count}/{total} documents, {worker.Sink.Pending} pending, paused {worker.Source.Paused}");
        Wait.Until(() => !worker.Source.Paused, TimeSpan.FromSeconds(30), "consumption resumed");
        worker.StopGracefully();
        AssertExactlyTheCorpus(es, expected);
    }
}
