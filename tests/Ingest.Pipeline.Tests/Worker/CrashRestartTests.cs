using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Ingest.Pipeline.Tests.Worker;

/// <summary>
/// The real <c>ingest serve</c> as a child process, killed with SIGKILL and stopped with SIGTERM in the middle of
/// a workload, against a reference worker (another consumer group on the same topics) that runs it without a
/// restart. The stores must end up equal for every event type, derived state included: a leak series split
/// across both restarts, a GC series whose derived goroutine count comes from a dump before the first one, a
/// crash open when the worker is killed. Nothing is ignored in the comparison: documents carry no ingestion
/// time (their timestamps are the messages'), so every field of every document must be equal.
/// </summary>
public sealed class CrashRestartTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    // Events end by their content here, never by the idle timeout: a cut by time depends on when a run was
    // idle, which differs between runs by nature (docs/operations.md, Rebalancing). Only the last leak suspect
    // waits for it: a growing series is held back until its stream is idle.
    private static readonly TimeSpan IdleFlush = TimeSpan.FromSeconds(15);
    private static string Corpus(string name) => Path.Combine(CorpusFeed.Dir, name);

    private readonly MockKafkaCluster _cluster = ServeCluster.Create();
    private readonly string _dir = Directory.CreateTempSubdirectory("ingest-crash-restart-").FullName;

    [Fact]
    public void Killed_and_restarted_the_worker_stores_what_a_worker_without_restarts_stores_derived_state_included()
    {
        var leak = File.ReadAllText(Corpus("29-goroutine-leak-4-snapshots.txt")).TrimEnd('\n').Split('\n');
        // Injected anomalies (pause outliers against a baseline, pacer overshoot, thrash, heap growth): their
        // detection after a restart needs the rebuilt baselines, and their alert episodes span the restarts.
        var gc = Ingest.GoRuntime.Tests.Analysis.Gc.SyntheticGcTrace.Write().TrimEnd('\n').Split('\n');
        var dump = File.ReadAllText(Corpus("27-runtime-stack-dump.txt")).TrimEnd('\n').Split('\n');
        var crash = File.ReadAllText(Corpus("01-nil-pointer-dereference.txt")).TrimEnd('\n').Split('\n');
        // The leak file holds four dumps, each after a "fetching goroutine profile" line.
        var dumpStarts = leak.Select((l, i) => (l, i)).Where(x => x.l.Contains("fetching goroutine profile", StringComparison.Ordinal)).Select(x => x.i).ToList();
        Assert.Equal(4, dumpStarts.Count);
        int third = gc.Length / 3;

        using var reference = StartWorker("reference", "reference");
        var worker = StartWorker("worker", "ingest");
        try
        {
            // 1. Two dumps of the leak series, a dump then GC cycles of another instance, and the first half of a crash.
            var first = Produce([
                .. Lines("leak-pod", leak[..(dumpStarts[2] + 1)]), .. Lines("gc-pod", dump), .. Lines("gc-pod", gc[..third]),
                .. Lines("crash-pod", crash[..(crash.Length / 2)])]);
            Wait.Until(() => Count(worker, "goroutine_dump") == 3 && Count(worker, "gc") >= 1, Deadline, "the first dumps stored", worker.Output);
            // Committed past the dumps and cycles (the open crash, produced last, holds the rest): they are not read again.
            var settled = first.Where(r => r.Message.Key != "crash-pod").GroupBy(r => r.Partition.Value).ToDictionary(g => g.Key, g => g.Max(r => r.Offset.Value));
            Wait.Until(() => settled.All(kv => Committed("ingest", kv.Key) > kv.Value), Deadline, "offsets committed past the first dumps");
            worker.Kill();
            worker.Dispose();

            // 2. The rest of the crash, the third dump, more cycles; then a clean stop (which stores the suspect held back).
            Produce([.. Lines("crash-pod", [.. crash[(crash.Length / 2)..], "level=info msg=restarted"]), .. Lines("leak-pod", leak[(dumpStarts[2] + 1)..(dumpStarts[3] + 1)]),
                .. Lines("gc-pod", gc[third..(2 * third)])]);
            worker = StartWorker("worker", "ingest");
            Wait.Until(() => Count(worker, "crash") == 1 && Count(worker, "goroutine_dump") == 4, Deadline, "the crash and the third dump stored", worker.Output);
            worker.Terminate();
            Assert.Equal(0, worker.WaitForExit(Deadline));
            worker.Dispose();

            // 3. The last dump and cycles, killed again while it reads them.
            Produce([.. Lines("leak-pod", [.. leak[(dumpStarts[3] + 1)..], "level=info msg=done"]), .. Lines("gc-pod", gc[(2 * third)..])]);
            worker = StartWorker("worker", "ingest");
            int before = Count(worker, "gc");
            Wait.Until(() => Count(worker, "gc") > before, Deadline, "the worker reading again", worker.Output);
            worker.Kill();
            worker.Dispose();
            worker = StartWorker("worker", "ingest");
            var expected = Documents(reference);
            Wait.Until(() =>
            {
                expected = Documents(reference);
                return expected.Count > 0 && Differences(expected, Documents(worker)).Count == 0
                    && JsonDocument.Parse(expected.Values.Single(d => Type(d) == "leak_suspect")).RootElement.GetProperty("event").GetProperty("counts").GetArrayLength() == 4;
            }, Deadline + IdleFlush, "the restarted worker's store equal to the reference", () => string.Join('\n', Differences(expected, Documents(worker)).Take(20)));
        }
        finally
        {
            worker.Dispose();
        }
        var stored = Documents(reference).Values.Select(d => JsonDocument.Parse(d).RootElement.GetProperty("event")).ToList();
        // What the comparison covered: every event type of the workload, and the derived fields.
        Assert.Equal(new[] { "alert", "crash", "gc", "goroutine_dump", "leak_suspect" }, stored.Select(d => d.GetProperty("type").GetString()).Distinct().Order(StringComparer.Ordinal));
        Assert.All(stored.Where(d => d.GetProperty("type").GetString() == "gc"), d => Assert.True(d.GetProperty("derived").TryGetProperty("goroutines", out _), d.ToString()));
    }

    /// <summary>Documents that differ, field by field, or are missing on either side.</summary>
    private static List<string> Differences(Dictionary<string, string> expected, Dictionary<string, string> actual)
    {
        var diffs = new List<string>();
        foreach (var (id, doc) in expected)
        {
            if (!actual.TryGetValue(id, out var other)) diffs.Add($"missing {id}");
            else Compare(id, JsonDocument.Parse(doc).RootElement, JsonDocument.Parse(other).RootElement, diffs);
        }
        diffs.AddRange(actual.Keys.Where(id => !expected.ContainsKey(id)).Select(id => $"unexpected {id}"));
        return diffs;
    }

    private static void Compare(string path, JsonElement a, JsonElement b, List<string> diffs)
    {
        if (a.ValueKind != b.ValueKind)
        {
            diffs.Add($"{path}: {a} != {b}");
            return;
        }
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var names = a.EnumerateObject().Select(p => p.Name).Union(b.EnumerateObject().Select(p => p.Name));
                foreach (string name in names)
                {
                    if (!a.TryGetProperty(name, out var x) || !b.TryGetProperty(name, out var y)) diffs.Add($"{path}.{name}: present on one side only");
                    else Compare($"{path}.{name}", x, y, diffs);
                }
                break;
            case JsonValueKind.Array:
                if (a.GetArrayLength() != b.GetArrayLength()) diffs.Add($"{path}: {a.GetArrayLength()} items != {b.GetArrayLength()}");
                else for (int i = 0; i < a.GetArrayLength(); i++) Compare($"{path}[{i}]", a[i], b[i], diffs);
                break;
            default:
                if (a.GetRawText() != b.GetRawText()) diffs.Add($"{path}: {a.GetRawText()} != {b.GetRawText()}");
                break;
        }
    }

    private sealed record Worker(IngestProcess Process, string DataDirectory) : IDisposable
    {
        public Func<string> Output => () => Process.Output;
        public void Kill() => Process.Kill();
        public void Terminate() => Process.Terminate();
        public int WaitForExit(TimeSpan deadline) => Process.WaitForExit(deadline);
        public void Dispose() => Process.Dispose();
    }

    private Worker StartWorker(string name, string group)
    {
        string data = Path.Combine(_dir, name);
        string config = Path.Combine(_dir, $"{name}.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Kafka = new { BootstrapServers = _cluster.BootstrapServers, GroupId = group, SessionTimeout = "00:00:02", HeartbeatInterval = "00:00:00.500" },
            Serve = new { DataDirectory = data, Urls = $"http://127.0.0.1:{ServedWorker.FreePort()}" },
            Assembly = new { IdleFlush = IdleFlush.ToString("c", System.Globalization.CultureInfo.InvariantCulture) },
            // Incidents are correlated in wall-clock windows (hold, reorder): two runs need not cut them alike.
            Correlation = new { Enabled = false },
        }));
        return new Worker(new IngestProcess(["serve", "--config", config], workingDirectory: _dir), data);
    }

    private static Dictionary<string, string> Documents(Worker w)
    {
        string path = Path.Combine(w.DataDirectory, "events.db");
        if (!File.Exists(path)) return [];
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT id, doc FROM events";
        try
        {
            using var r = cmd.ExecuteReader();
            var docs = new Dictionary<string, string>(StringComparer.Ordinal);
            while (r.Read()) docs[r.GetString(0)] = r.GetString(1);
            return docs;
        }
        catch (SqliteException)
        {
            // the worker has not created its table yet
            return [];
        }
    }

    private static int Count(Worker w, string type) =>
        Documents(w).Values.Count(d => Type(d) == type);

    private long Committed(string group, int partition)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = _cluster.BootstrapServers, GroupId = group }).Build();
        return consumer.Committed([new TopicPartition("logs", new Partition(partition))], TimeSpan.FromSeconds(10))[0].Offset.Value;
    }

    private static string? Type(string doc) => JsonDocument.Parse(doc).RootElement.GetProperty("event").GetProperty("type").GetString();

    private static IEnumerable<(string Key, string Line)> Lines(string key, IEnumerable<string> lines) => lines.Select(l => (key, l));

    private List<DeliveryResult<string, byte[]>> Produce(IReadOnlyList<(string Key, string Line)> messages)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _cluster.BootstrapServers, LingerMs = 5, EnableIdempotence = true }).Build();
        var results = new List<DeliveryResult<string, byte[]>>();
        foreach (var (key, line) in messages)
        {
            producer.Produce("logs", new Message<string, byte[]> { Key = key, Value = Encoding.UTF8.GetBytes(line) }, r =>
            {
                Assert.False(r.Error.IsError, r.Error.Reason);
                lock (results) results.Add(r);
            });
        }
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        return results;
    }

    public void Dispose()
    {
        _cluster.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
