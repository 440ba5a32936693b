using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.EndToEnd;

/// <summary>
/// Crashes, rebalances, broker faults and poison input over the real protocol. Each run must end with the
/// store equal to the reference: nothing lost, and no event twice (a re-read that cut a stored crash into a
/// partial one would show up as an extra signature).
/// </summary>
public sealed class FailureTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    [Fact]
    public void Abrupt_stop_mid_stream_then_restart_loses_and_duplicates_nothing()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("logs", 4);
        var files = CorpusFeed.Files();
        var expected = CorpusFeed.Expected(files);
        int total = expected.Values.Sum(v => v.Count);
        // A slow sink keeps events in flight and streams open when the worker dies.
        var slow = new SlowSink(h.Store, TimeSpan.FromMilliseconds(30));
        h.Produce("logs", CorpusFeed.Interleaved(files));

        var first = h.StartWorker("crash", sink: new SinkHostOptions { BatchSize = 5, BatchDelay = TimeSpan.FromMilliseconds(5) }, sinkOverride: slow);
        Wait.Until(() => h.Store.Count() >= total / 3, Deadline, "a third of the events stored", () => $"{h.Store.Count()} of {total} stored");
        first.Abort();
        long before = h.Store.Count();
        Assert.InRange(before, 1, total - 1);

        var second = h.StartWorker("crash");
        Wait.Until(() => h.Store.Count() >= total && second.Sink.Pending == 0, Deadline, "all events stored after restart", () => $"{h.Store.Count()} of {total} stored");
        second.StopGracefully();
        KafkaToStoreTests.AssertStoreMatches(expected, h);
    }

    [Fact]
    public void A_second_consumer_joining_mid_stream_loses_and_duplicates_nothing()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("logs", 4);
        var files = CorpusFeed.Files();
        var expected = CorpusFeed.Expected(files);
        int total = expected.Values.Sum(v => v.Count);
        var slow = new SlowSink(h.Store, TimeSpan.FromMilliseconds(20));
        h.Produce("logs", CorpusFeed.Interleaved(files));

        var a = h.StartWorker("rebalance", sink: new SinkHostOptions { BatchSize = 5, BatchDelay = TimeSpan.FromMilliseconds(5) }, sinkOverride: slow);
        Wait.Until(() => h.Store.Count() >= total / 4, Deadline, "a quarter stored by the first member", () => $"{h.Store.Count()} of {total} stored");
        var b = h.StartWorker("rebalance");
        Wait.Until(() => b.Source.Assignment.Count > 0, Deadline, "second member assigned");
        Wait.Until(() => h.Store.Count() >= total && a.Sink.Pending == 0 && b.Sink.Pending == 0, Deadline, "all events stored", () => $"{h.Store.Count()} of {total} stored");
        a.StopGracefully();
        b.StopGracefully();
        KafkaToStoreTests.AssertStoreMatches(expected, h);
    }

    [Fact]
    public void Broker_down_and_request_errors_are_survived()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("logs", 4);
        var files = CorpusFeed.Files();
        var expected = CorpusFeed.Expected(files);
        int total = expected.Values.Sum(v => v.Count);
        h.Produce("logs", CorpusFeed.Interleaved(files));

        // Fetches fail with NOT_LEADER_FOR_PARTITION (6) and commits with REQUEST_TIMED_OUT (7) a few times,
        // and one broker goes away for a while.
        h.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.Fetch, 6, 6, 6, 6, 6);
        h.Cluster.PushRequestErrors(MockKafkaCluster.ApiKeys.OffsetCommit, 7, 7, 7);
        var worker = h.StartWorker("faults", sink: new SinkHostOptions { BatchSize = 10, BatchDelay = TimeSpan.FromMilliseconds(5) }, sinkOverride: new SlowSink(h.Store, TimeSpan.FromMilliseconds(10)));
        Wait.Until(() => h.Store.Count() >= 10, Deadline, "some events stored", () => $"{h.Store.Count()} of {total} stored");
        long errors = worker.Source.ClientErrors;
        h.Cluster.SetBrokerDown(2);
        // Down until the client has noticed (a transport error from broker 2), not for a fixed time.
        Wait.Until(() => worker.Source.ClientErrors > errors, Deadline, "the client saw broker 2 go down");
        h.Cluster.SetBrokerUp(2);
        Wait.Until(() => h.Store.Count() >= total && worker.Sink.Pending == 0, Deadline, "all events stored after the faults", () => $"{h.Store.Count()} of {total} stored");
        worker.StopGracefully();
        KafkaToStoreTests.AssertStoreMatches(expected, h);
    }

    [Fact]
    public void Poison_messages_go_to_the_dead_letter_topic_and_the_worker_keeps_going()
    {
        using var h = new PipelineHarness();
        h.CreateTopic("json-logs", 2);
        h.CreateTopic("dead-letters", 1);
        string Envelope(string line) => System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["log"] = line + "\n",
            ["stream"] = "stderr",
            ["time"] = "2024-05-01T10:00:00.000Z",
            ["kubernetes"] = new Dictionary<string, string> { ["pod_name"] = "shop-7f9", ["namespace_name"] = "prod", ["container_name"] = "shop", ["host"] = "node-1" },
        });
        var crash = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt")).TrimEnd('\n').Split('\n');
        var messages = new List<(string, byte[])>();
        messages.Add(("shop-7f9", Encoding.UTF8.GetBytes("{not json")));
        var garbage = new byte[4096];
        new Random(5).NextBytes(garbage);
        messages.Add(("shop-7f9", garbage));
        messages.Add(("shop-7f9", Encoding.UTF8.GetBytes("{\"no_message_field\":1}")));
        // A 4 MB line inside a valid envelope: cut, not fatal. (The mock broker keeps about 5 MB per partition
        // and evicts older data past that, so the 10 MB case runs against the decoder and assembler directly:
        // LargeMessageTests.)
        messages.Add(("shop-7f9", Encoding.UTF8.GetBytes(Envelope(new string('x', 4 * 1024 * 1024)))));
        messages.AddRange(crash.Select(l => ("shop-7f9", Encoding.UTF8.GetBytes(Envelope(l)))));
        h.Produce("json-logs", messages);

        var worker = h.StartWorker("poison", topics: [new TopicOptions { Name = "json-logs", Format = MessageFormat.Json }]);
        Wait.Until(() => h.Store.Count("crash") == 1 && worker.Sink.Pending == 0, Deadline, "the crash after the poison stored");

        var dead = ReadAll(h, "dead-letters", expected: 3);
        Assert.Equal(3, dead.Count);
        Assert.All(dead, d => Assert.Equal("json-logs", Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("ingest.source.topic"))));
        Assert.Contains(dead, d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("ingest.error")).StartsWith("invalid JSON envelope", StringComparison.Ordinal));
        Assert.Contains(dead, d => Encoding.UTF8.GetString(d.Message.Headers.GetLastBytes("ingest.error")).Contains("no message field", StringComparison.Ordinal));
        worker.StopGracefully();

        var row = h.Store.Recent("crash", 10).Single();
        using var doc = System.Text.Json.JsonDocument.Parse(row.Doc);
        Assert.Equal("shop-7f9", doc.RootElement.GetProperty("pod").GetString());
        Assert.Equal("prod", doc.RootElement.GetProperty("namespace").GetString());
        Assert.Equal("node-1", doc.RootElement.GetProperty("host").GetString());
        Assert.Equal("prod/shop-7f9/shop:stderr", doc.RootElement.GetProperty("source").GetString());
        Assert.Equal("example.com/shop/internal/store.(*OrderRepo).FindByID", doc.RootElement.GetProperty("event").GetProperty("root_cause").GetProperty("function").GetString());
    }

    private static List<ConsumeResult<byte[], byte[]>> ReadAll(PipelineHarness h, string topic, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = h.Cluster.BootstrapServers,
            GroupId = "dlq-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[], byte[]>>();
        var end = DateTime.UtcNow + Deadline;
        while (results.Count < expected && DateTime.UtcNow < end)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) results.Add(r);
        }
        consumer.Close();
        return results;
    }

    /// <summary>A real sink made slow, so a worker dies with work in flight.</summary>
    private sealed class SlowSink(IEventSink inner, TimeSpan delay) : IEventSink
    {
        public async Task<IReadOnlyList<SinkRejection>> WriteBatchAsync(IReadOnlyList<IndexedEvent> batch, CancellationToken cancellationToken)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            return await inner.WriteBatchAsync(batch, cancellationToken).ConfigureAwait(false);
        }
    }
}
