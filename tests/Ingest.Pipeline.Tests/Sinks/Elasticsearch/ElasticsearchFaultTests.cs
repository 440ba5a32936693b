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
        // The queue can fill before the first refused attempt is counted; the sink keeps retrying while paused.
        Wait.Until(() => worker.Sink.Failures > 0, TimeSpan.FromSeconds(30), "the refused attempts counted", () => $"{worker.Sink.Pending} pending");

        es.Up();
        int total = expected.Values.Sum(v => v.Count);
        Wait.Until(() => es.Documents.Count >= total && worker.Sink.Pending == 0, TimeSpan.FromSeconds(90), "every event indexed after recovery",
            () => $"{es.Documents.Count}/{total} documents, {worker.Sink.Pending} pending, paused {worker.Source.Paused}");
        Wait.Until(() => !worker.Source.Paused, TimeSpan.FromSeconds(30), "consumption resumed");
        worker.StopGracefully();
        AssertExactlyTheCorpus(es, expected);
    }

    [Fact]
    public void Documents_the_cluster_refuses_for_good_go_to_the_dead_letter_topic_and_release_their_offsets()
    {
        var files = new[] { Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt"), Path.Combine(CorpusFeed.Dir, "31-gctrace.txt") };
        var expected = CorpusFeed.Expected(files);
        int gcCycles = expected["31-gctrace"].Count(s => s.StartsWith("gc|", StringComparison.Ordinal));
        // A mapping conflict on the GC data stream: every cycle is refused with a 400.
        using var es = new FakeElasticsearch { RefuseIndex = index => index.StartsWith("metrics-go.gc-", StringComparison.Ordinal) ? 400 : null };
        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 2);
        h.CreateTopic("dead-letters", 1);
        h.Produce("logs", CorpusFeed.Interleaved(files));
        using var sink = Sink(es);
        var worker = h.StartWorker("es-refused", sinkOverride: sink, sink: new SinkHostOptions { BatchSize = 50, BatchDelay = TimeSpan.FromMilliseconds(20) });
        int total = expected.Values.Sum(v => v.Count);
        Wait.Until(() => worker.Sink.Stored + worker.Sink.Rejected >= total && worker.Sink.Pending == 0, TimeSpan.FromSeconds(60), "every event stored or refused",
            () => $"{worker.Sink.Stored} stored, {worker.Sink.Rejected} refused");
        // Dead letters delivered: their offsets are released like stored events' offsets.
        Wait.Until(() => Enumerable.Range(0, 2).All(p => worker.Tracker.InFlightCount("logs", p) == 0), TimeSpan.FromSeconds(30), "nothing held in flight");
        worker.StopGracefully();

        Assert.Equal(gcCycles, worker.Sink.Rejected);
        Assert.Equal(total - gcCycles, es.Documents.Count);
        var dead = ReadAll(h, "dead-letters", gcCycles);
        Assert.Equal(gcCycles, dead.Count);
        var first = dead[0].Message;
        string Header(string name) => System.Text.Encoding.UTF8.GetString(first.Headers.GetLastBytes(name));
        Assert.Contains("400", Header("ingest.error"), StringComparison.Ordinal);
        Assert.Equal("gc", Header("ingest.event.type"));
        Assert.StartsWith("gc:logs:", Header("ingest.event.id"), StringComparison.Ordinal);
        // The value is the refused document itself, for a fix and a replay.
        Assert.Equal("metrics", JsonDocument.Parse(first.Value).RootElement.GetProperty("data_stream").GetProperty("type").GetString());
    }

    private static List<Confluent.Kafka.ConsumeResult<byte[], byte[]>> ReadAll(PipelineHarness h, string topic, int expected)
    {
        using var consumer = new Confluent.Kafka.ConsumerBuilder<byte[], byte[]>(new Confluent.Kafka.ConsumerConfig
        {
            BootstrapServers = h.Cluster.BootstrapServers, GroupId = "dlq-reader", AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<Confluent.Kafka.ConsumeResult<byte[], byte[]>>();
        Wait.Until(() =>
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) results.Add(r);
            return results.Count >= expected;
        }, TimeSpan.FromSeconds(60), $"{expected} dead letters", () => $"{results.Count}");
        consumer.Close();
        return results;
    }
}
