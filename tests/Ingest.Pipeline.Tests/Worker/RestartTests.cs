using System.Diagnostics;
using System.Net.Http;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Tests.Support;
using Xunit.Abstractions;

namespace Ingest.Pipeline.Tests.Worker;

/// <summary>
/// The real <c>ingest serve</c> as a child process against a cluster this test hosts, killed with SIGKILL or
/// stopped with SIGTERM and started again. The rejoin figures printed here are what docs/operations.md quotes
/// (measurements, not assertions: the assertions are conditions with deadlines).
/// </summary>
public sealed class RestartTests(ITestOutputHelper output) : IDisposable
{
    // Well before librdkafka's default 45 s session timeout, which is what a restart waited for before. The mock
    // cluster does not honour static membership, so the session timeout (2 s here) is what a restart waits for.
    private static readonly TimeSpan Rejoin = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan Start = TimeSpan.FromSeconds(60);

    private readonly MockKafkaCluster _cluster = ServeCluster.Create();
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-restart-").FullName;

    [Fact]
    public void A_restarted_worker_gets_its_partitions_back_in_seconds_after_kill_and_after_a_clean_stop()
    {
        var first = Stopwatch.StartNew();
        using (var worker = StartWorker("a"))
        {
            WaitAssigned(worker, 1);
            output.WriteLine($"fresh group: first assignment {first.Elapsed.TotalSeconds:0.0} s after start");
            worker.Kill();
        }
        var killed = Stopwatch.StartNew();
        using (var worker = StartWorker("a"))
        {
            WaitAssigned(worker, 1);
            output.WriteLine($"after kill -9: first assignment {killed.Elapsed.TotalSeconds:0.0} s after start");
            worker.Terminate();
            Assert.Equal(0, worker.WaitForExit(Start));
        }
        var stopped = Stopwatch.StartNew();
        using (var worker = StartWorker("a"))
        {
            WaitAssigned(worker, 1);
            output.WriteLine($"after SIGTERM: first assignment {stopped.Elapsed.TotalSeconds:0.0} s after start");
        }
    }

    [Fact]
    public void A_second_member_shares_the_partitions_and_both_consume()
    {
        using var a = StartWorker("a");
        WaitAssigned(a, 1);
        var joined = Stopwatch.StartNew();
        using var b = StartWorker("b");
        WaitAssigned(b, 1);
        output.WriteLine($"second member: assigned {joined.Elapsed.TotalSeconds:0.0} s after it started");
        // Cooperative: the first member gave up only what moved; between them they own all six partitions.
        int Owned(Worker w) => Health(w).TryGetProperty("assigned_partitions", out var n) ? n.GetInt32() : 0;
        Wait.Until(() => Owned(a) > 0 && Owned(b) > 0 && Owned(a) + Owned(b) == 6, Rejoin, "both members own partitions", () => $"a: {Owned(a)}, b: {Owned(b)}");
        Produce("logs", [.. Enumerable.Range(0, 2).Select(p => (p, $"pod-{p}", "panic: boom"))]);
        Wait.Until(() => Crashes(a) + Crashes(b) == 2, Rejoin, "a crash per partition stored", () => $"a: {Crashes(a)}, b: {Crashes(b)}");
    }

    [Fact]
    public void Offsets_that_left_the_brokers_retention_are_counted_logged_and_reported()
    {
        using (var worker = StartWorker("a"))
        {
            WaitAssigned(worker, 1);
            Produce("logs", [(0, "pod-0", "panic: first")]);
            Wait.Until(() => Crashes(worker) == 1, Rejoin, "the first crash stored");
            worker.Terminate();
            Assert.Equal(0, worker.WaitForExit(Start));
        }
        // The embedded cluster keeps about 5 MB per partition: 8 MB more push the committed offset out of it.
        var filler = new string('x', 100_000);
        Produce("logs", [.. Enumerable.Range(0, 80).Select(_ => (0, "pod-0", filler))]);
        using var again = StartWorker("a");
        Wait.Until(() => Health(again).GetProperty("offsets_lost").GetArrayLength() == 1, Start, "the lost range in /healthz", () => again.Output);
        var lost = Health(again).GetProperty("offsets_lost")[0];
        Assert.Equal(("logs", 0, 1L), (lost.GetProperty("topic").GetString(), lost.GetProperty("partition").GetInt32(), lost.GetProperty("from").GetInt64()));
        long count = lost.GetProperty("count").GetInt64();
        Assert.InRange(count, 1, 80);
        Assert.Contains($"ingest_offsets_lost_total{{topic=\"logs\",partition=\"0\"}} {count}", Get(again, "/metrics"), StringComparison.Ordinal);
        Assert.Single(again.Output.Split('\n'), l => l.Contains("left the broker's retention", StringComparison.Ordinal));
    }

    private sealed record Worker(IngestProcess Process, int Port) : IDisposable
    {
        public string Output => Process.Output;
        public void Kill() => Process.Kill();
        public void Terminate() => Process.Terminate();
        public int WaitForExit(TimeSpan deadline) => Process.WaitForExit(deadline);
        public void Dispose() => Process.Dispose();
    }

    private Worker StartWorker(string name)
    {
        int port = ServedWorker.FreePort();
        string config = Path.Combine(_dir, $"{name}.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Kafka = new { BootstrapServers = _cluster.BootstrapServers, SessionTimeout = "00:00:02", HeartbeatInterval = "00:00:00.500" },
            Serve = new { DataDirectory = Path.Combine(_dir, name), Urls = $"http://127.0.0.1:{port}" },
            Assembly = new { IdleFlush = "00:00:00.200" },
        }));
        return new Worker(new IngestProcess(["serve", "--config", config], workingDirectory: _dir), port);
    }

    private static List<string> Assigned(Worker w) =>
        [.. w.Output.Split('\n').Where(l => l.TrimStart().StartsWith("assigned ", StringComparison.Ordinal))];

    private static void WaitAssigned(Worker w, int count)
    {
        Wait.Until(() => Assigned(w).Count >= count || w.Process.HasExited, Rejoin, "partitions assigned", () => w.Output);
        Assert.False(w.Process.HasExited, w.Output);
    }

    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static string Get(Worker w, string path) => s_http.GetStringAsync($"http://127.0.0.1:{w.Port}{path}").GetAwaiter().GetResult();

    private static JsonElement Health(Worker w)
    {
        try
        {
            return JsonDocument.Parse(Get(w, "/healthz")).RootElement;
        }
        catch (HttpRequestException)
        {
            // not listening yet
            return JsonDocument.Parse("""{"offsets_lost":[]}""").RootElement;
        }
    }

    private static int Crashes(Worker w)
    {
        try
        {
            return JsonDocument.Parse(Get(w, "/api/v1/crashes?limit=1000")).RootElement.GetArrayLength();
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    private void Produce(string topic, IReadOnlyList<(int Partition, string Key, string Line)> messages)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _cluster.BootstrapServers, LingerMs = 5 }).Build();
        foreach (var (partition, key, line) in messages)
        {
            producer.Produce(new TopicPartition(topic, new Partition(partition)), new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(line) });
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
    }

    public void Dispose()
    {
        _cluster.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
