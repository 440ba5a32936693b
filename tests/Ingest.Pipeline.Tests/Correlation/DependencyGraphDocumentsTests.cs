using System.Text.Json;
using Ingest.Pipeline.Correlation;

namespace Ingest.Pipeline.Tests.Correlation;

public sealed class DependencyGraphDocumentsTests
{
    private static string Doc(string id, int[] partitions, long calls, long propagated, double lagMs) => JsonSerializer.Serialize(new
    {
        id,
        @event = new
        {
            edges = new[] { new { caller = "orders", callee = "payments", calls, errors = 1, crashes_propagated = propagated } },
            clock_lag = new[] { new { node = "node-b", behind_ms = lagMs } },
            partitions,
        },
    });

    [Fact]
    public void The_workers_graphs_add_up_and_a_newer_one_supersedes_an_older_one_over_the_same_partitions()
    {
        string merged = DependencyGraphDocuments.Merge([
            Doc("g:0,1", [0, 1], 5, 1, 250),
            Doc("g:2,3", [2, 3], 7, 2, 120),
            Doc("g:0,1,2,3", [0, 1, 2, 3], 3, 0, 0), // before the second worker joined
        ])!;
        var e = JsonDocument.Parse(merged).RootElement;
        Assert.Equal(["g:0,1", "g:2,3"], e.GetProperty("documents").EnumerateArray().Select(x => x.GetString()));
        var edge = Assert.Single(e.GetProperty("event").GetProperty("edges").EnumerateArray());
        Assert.Equal((12, 2, 3), (edge.GetProperty("calls").GetInt64(), edge.GetProperty("errors").GetInt64(), edge.GetProperty("crashes_propagated").GetInt64()));
        Assert.Equal(250, e.GetProperty("event").GetProperty("clock_lag")[0].GetProperty("behind_ms").GetDouble());
        Assert.Equal([0, 1, 2, 3], e.GetProperty("event").GetProperty("partitions").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Null(DependencyGraphDocuments.Merge([]));
    }
}
