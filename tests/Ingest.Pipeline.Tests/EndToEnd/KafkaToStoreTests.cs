using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.EndToEnd;

/// <summary>
/// The corpus produced into a 4-partition topic with streams interleaved, through the worker, into SQLite:
/// every event exactly once, equal to what the analyser finds in each file read on its own.
/// </summary>
public sealed class KafkaToStoreTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    [Fact]
    public void Every_event_reaches_the_store_once()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("logs", 4);
        var files = CorpusFeed.Files();
        var expected = CorpusFeed.Expected(files);
        h.Produce("logs", CorpusFeed.Interleaved(files));

        var worker = h.StartWorker("e2e");
        int total = expected.Values.Sum(v => v.Count);
        Wait.Until(() => h.Store.Count() >= total && worker.Sink.Pending == 0, Deadline, $"{total} events stored");
        worker.StopGracefully();

        AssertStoreMatches(expected, h);
    }

    [Fact]
    public void Otlp_protobuf_batches_from_the_collector_are_analysed()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("otlp_logs", 2);
        var resource = new Dictionary<string, string> { ["service.name"] = "shop", ["k8s.pod.name"] = "shop-1", ["k8s.namespace.name"] = "prod" };
        string[] lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "14-concurrent-map-writes.txt")).TrimEnd('\n').Split('\n');
        // The exporter batches: several records per message.
        var messages = lines.Chunk(7).Select(chunk => ("shop-1", OtlpEncoder.Request(resource, chunk.Select(l => (l, 1_714_557_600_000_000_000UL, (byte[]?)null, (IDictionary<string, string>?)null)).ToArray()))).ToList();
        h.Produce("otlp_logs", messages);
        var worker = h.StartWorker("otlp", topics: [new Ingest.Pipeline.Sources.Kafka.TopicOptions { Name = "otlp_logs", Format = Ingest.Pipeline.Sources.Kafka.Decoding.MessageFormat.OtlpProto }]);
        Wait.Until(() => h.Store.Count("crash") == 1 && worker.Sink.Pending == 0, Deadline, "the crash stored");
        worker.StopGracefully();
        using var doc = System.Text.Json.JsonDocument.Parse(h.Store.Recent("crash", 1).Single().Doc);
        Assert.Equal("shop", doc.RootElement.GetProperty("service").GetString());
        Assert.Equal("prod/shop-1", doc.RootElement.GetProperty("source").GetString());
        Assert.Equal("concurrent_map_access", doc.RootElement.GetProperty("event").GetProperty("category").GetString());
        var expected = CorpusFeed.Expected([Path.Combine(CorpusFeed.Dir, "14-concurrent-map-writes.txt")]).Values.Single();
        Assert.Equal(expected, CorpusFeed.Stored(h.Store).Values.Single());
    }

    internal static void AssertStoreMatches(Dictionary<string, List<string>> expected, PipelineHarness h)
    {
        var stored = CorpusFeed.Stored(h.Store);
        foreach (var (stream, events) in expected.Where(kv => kv.Value.Count > 0))
        {
            string source = stored.Keys.SingleOrDefault(k => k == stream) ?? throw new Xunit.Sdk.XunitException($"stream {stream}: nothing stored");
            Assert.True(events.SequenceEqual(stored[source]), $"stream {stream}:\nexpected:\n  {string.Join("\n  ", events.Except(stored[source]))}\nstored:\n  {string.Join("\n  ", stored[source].Except(events))}");
        }
        Assert.Equal(expected.Values.Sum(v => v.Count), (int)h.Store.Count());
    }
}
