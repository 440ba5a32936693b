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
