using System.Net;
using System.Text.Json;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Correlation;

/// <summary>
/// Scale-out with real processes: the <c>ingest</c> executable once alone, then twice in one consumer group over
/// the first one's embedded cluster (sharing its store, as workers share Elasticsearch). Both runs must answer
/// the same incidents, dependency graph and crash groups.
/// </summary>
public sealed class ScaleOutProcessTests
{
    private const int Traces = 8;

    private static string Settings(string dir, string data, int port)
    {
        string path = Path.Combine(dir, $"appsettings-{port}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            Serve = new { DataDirectory = data, Urls = $"http://127.0.0.1:{port}" },
            Assembly = new { IdleFlush = "00:00:00.300" },
            Correlation = new { ReorderWindow = "00:00:10", MinHold = "00:00:05" },
            Kafka = new { Client = new Dictionary<string, string> { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "300" } },
        }));
        return path;
    }

    private static string? TryGet(HttpClient http, string path)
    {
        try
        {
            using var r = http.GetAsync(path).GetAwaiter().GetResult();
            return r.StatusCode == HttpStatusCode.OK ? r.Content.ReadAsStringAsync().GetAwaiter().GetResult() : null;
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }

    /// <summary>What the API answers, reduced to what must not depend on how many workers share the work.</summary>
    private static string Answers(HttpClient http)
    {
        if (TryGet(http, "/api/v1/incidents?limit=100") is not { } incidents || TryGet(http, "/api/v1/dependency-graph") is not { } graph || TryGet(http, "/api/v1/crash-groups") is not { } groups) return "-";
        var lines = new List<string>();
        foreach (var i in JsonDocument.Parse(incidents).RootElement.EnumerateArray().Select(x => x.GetProperty("event")))
        {
            lines.Add(string.Join("|", i.GetProperty("classification").GetString(), i.GetProperty("root_cause").GetProperty("id").GetString(),
                string.Join(",", i.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("id").GetString()).Order(StringComparer.Ordinal)),
                string.Join(">", i.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("service").GetString() + (p.GetProperty("recovered").GetBoolean() ? "+" : "-")))));
        }
        foreach (var e in JsonDocument.Parse(graph).RootElement.GetProperty("event").GetProperty("edges").EnumerateArray())
        {
            lines.Add($"edge {e.GetProperty("caller").GetString()}>{e.GetProperty("callee").GetString()} {e.GetProperty("calls").GetInt64()}/{e.GetProperty("errors").GetInt64()}/{e.GetProperty("crashes_propagated").GetInt64()}");
        }
        foreach (var g in JsonDocument.Parse(groups).RootElement.EnumerateArray())
        {
            lines.Add($"group {g.GetProperty("category").GetString()} {g.GetProperty("fingerprint").GetString()} {g.GetProperty("count").GetInt64()}");
        }
        lines.Sort(StringComparer.Ordinal);
        return string.Join("\n", lines);
    }

    // The payments panic (logged) and orders' recovered one (its span's exception, the same stack): two failures.
    private static bool Complete(string answers) =>
        answers.Contains($"edge gateway>orders {Traces}/1/", StringComparison.Ordinal) &&
        answers.Contains("|payments+>orders+>gateway+", StringComparison.Ordinal) &&
        answers.Split('\n').Any(l => l.StartsWith("group nil_pointer_dereference ", StringComparison.Ordinal) && l.EndsWith(" 2", StringComparison.Ordinal));

    private static int LastAssignment(string output)
    {
        const string marker = "correlation: assigned ";
        int at = output.LastIndexOf(marker, StringComparison.Ordinal);
        return at < 0 ? 0 : int.Parse(output.AsSpan(at + marker.Length, output.IndexOf(' ', at + marker.Length) - at - marker.Length), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Run(int processes, string? expected)
    {
        string dir = Directory.CreateTempSubdirectory("ingest-scale-").FullName;
        string data = Path.Combine(dir, "data");
        var running = new List<IngestProcess>();
        try
        {
            int port = ServedWorker.FreePort();
            var first = new IngestProcess(["serve", "--config", Settings(dir, data, port)], workingDirectory: dir);
            running.Add(first);
            string line = first.WaitForLine(l => l.Contains("EMBEDDED DEVELOPMENT Kafka cluster at ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the embedded cluster");
            string bootstrap = line[(line.IndexOf(" at ", StringComparison.Ordinal) + 4)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
            var ports = new List<int> { port };
            for (int n = 1; n < processes; n++)
            {
                int p = ServedWorker.FreePort();
                ports.Add(p);
                running.Add(new IngestProcess(["serve", "--config", Settings(dir, data, p), $"--Kafka:BootstrapServers={bootstrap}", "--Correlation:ReplayFromBeginning=true"], workingDirectory: dir));
            }
            var clients = ports.Select(p => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{p}") }).ToList();
            Wait.Until(() => clients.All(c => TryGet(c, "/healthz") is not null), TimeSpan.FromSeconds(60), "every process serving",
                () => string.Join("\n----\n", running.Select(r => r.Output)));
            // The group has settled (each process holds its share of the 2 × 4 partitions) before the data comes.
            Wait.Until(() => running.All(r => LastAssignment(r.Output) == 8 / processes), TimeSpan.FromSeconds(60), "partitions shared",
                () => string.Join("\n----\n", running.Select(r => r.Output)));
            CorrelationEndToEndTests.ProduceAll(bootstrap, CorrelationEndToEndTests.Build(Traces));
            string answers = "-";
            // Alone: until the scenario is fully correlated. Two: until they agree with the run alone (a rebalance
            // while the second joins makes both re-read their share, so earlier answers may be partial).
            Wait.Until(() => expected is null ? Complete(answers = Answers(clients[0])) : (answers = Answers(clients[0])) == expected,
                TimeSpan.FromSeconds(120), $"{processes} process(es) answering the scenario", () => answers + "\n----\n" + string.Join("\n----\n", running.Select(r => r.Output[^Math.Min(r.Output.Length, 3000)..])));
            // The work was shared: each process stored the graph of its own partitions.
            Wait.Until(() => TryGet(clients[0], "/api/v1/dependency-graph") is { } g && JsonDocument.Parse(g).RootElement.GetProperty("documents").GetArrayLength() == processes,
                TimeSpan.FromSeconds(60), "one graph document per process", () => TryGet(clients[0], "/api/v1/dependency-graph") ?? "-");
            // Every process's API answers from the shared store alike.
            Assert.All(clients, c => Assert.Equal(answers, Answers(c)));
            foreach (var c in clients) c.Dispose();
            return answers;
        }
        finally
        {
            foreach (var r in running) r.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // best effort
            }
        }
    }

    [Fact]
    public void Two_ingest_processes_in_one_group_answer_the_same_incidents_graph_and_crash_groups_as_one()
    {
        string one = Run(1, expected: null);
        Assert.Contains("nil_pointer_dereference|crash:logs:", one, StringComparison.Ordinal);
        Assert.Equal(one, Run(2, expected: one));
    }
}
