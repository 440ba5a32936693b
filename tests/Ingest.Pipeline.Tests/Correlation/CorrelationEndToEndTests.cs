using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Correlation;

/// <summary>
/// Logs and spans of three services on skewed nodes through Kafka: the log worker detects the payments panic
/// and publishes it; the correlating stage joins it with the spans and writes the incident. Then the same with
/// two correlating workers sharing the partitions: the incidents are the same.
/// </summary>
public sealed class CorrelationEndToEndTests
{
    private const long Ms = 1_000_000;
    private static readonly Dictionary<string, long> s_skew = new() { ["node-a"] = 0, ["node-b"] = -250 * Ms, ["node-c"] = 300 * Ms };

    internal sealed record Scenario(long T0, List<(string Trace, SpanRecord Span)> Spans, string CrashTrace, string[] CrashLines);

    internal static Scenario Build(int traces)
    {
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000) * Ms;
        var spans = new List<(string, SpanRecord)>();
        SpanRecord Span(string trace, string id, string? parent, string service, string node, long startMs, long endMs, SpanStatus status = SpanStatus.Ok) => new()
        {
            TraceId = trace, SpanId = id, ParentSpanId = parent, Name = service + " handler", Service = service, Node = node,
            StartUnixNanos = t0 + startMs * Ms + s_skew[node], EndUnixNanos = t0 + endMs * Ms + s_skew[node], Status = status,
        };
        // A recovered panic recorded on a span with its runtime.Stack text (span.RecordError with a stack trace).
        var corpus = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt"));
        string stack = corpus[corpus.IndexOf("goroutine ", StringComparison.Ordinal)..];
        // Trace 0 fails (payments panics inside it); the others, one second apart, succeed.
        for (int i = 0; i < traces; i++)
        {
            string trace = (i + 1).ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
            long at = i * 1_000;
            bool failing = i == 0;
            spans.Add((trace, Span(trace, $"{i:x4}00000000000a", null, "gateway", "node-a", at, at + 120, failing ? SpanStatus.Error : SpanStatus.Ok)));
            var orders = Span(trace, $"{i:x4}00000000000b", $"{i:x4}00000000000a", "orders", "node-b", at + 5, at + 110, failing ? SpanStatus.Error : SpanStatus.Ok);
            if (i == 2) orders = orders with { Exceptions = [new SpanException("runtime.Error", "runtime error: invalid memory address or nil pointer dereference", stack)] };
            spans.Add((trace, orders));
            if (!failing) spans.Add((trace, Span(trace, $"{i:x4}00000000000c", $"{i:x4}00000000000b", "payments", "node-c", at + 10, at + 40)));
        }
        string crashTrace = 1.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
        var lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "01-nil-pointer-dereference.txt")).TrimEnd('\n').Split('\n');
        return new Scenario(t0, spans, crashTrace, lines);
    }

    private static void ProduceAll(PipelineHarness h, Scenario s) => ProduceAll(h.Cluster.BootstrapServers, s);

    internal static void ProduceAll(string bootstrap, Scenario s)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random, LingerMs = 5,
        }).Build();
        // Spans as the Collector's exporter sends them (partition_traces_by_id): one batch per service and trace.
        foreach (var group in s.Spans.GroupBy(x => (x.Trace, x.Span.Service, x.Span.Node)))
        {
            var bytes = OtlpEncoder.Spans(new Dictionary<string, string> { ["service.name"] = group.Key.Service, ["host.name"] = group.Key.Node }, group.Select(x => x.Span));
            producer.Produce("otlp_spans", new Message<string, byte[]> { Key = group.Key.Trace, Value = bytes });
        }
        // The payments panic, logged on node-c (its clock 300 ms ahead) 40 ms into the failing request.
        var headers = new Headers
        {
            { "service", Encoding.UTF8.GetBytes("payments") }, { "host", Encoding.UTF8.GetBytes("node-c") },
            { "trace_id", Encoding.UTF8.GetBytes(s.CrashTrace) }, { "span_id", Encoding.UTF8.GetBytes("000000000000000c") },
            { "ci_pipeline_id", Encoding.UTF8.GetBytes("4711") },
        };
        var at = DateTimeOffset.FromUnixTimeMilliseconds((s.T0 + 40 * Ms + s_skew["node-c"]) / Ms);
        // The build payments printed at start-up (debug.ReadBuildInfo), a minute earlier.
        foreach (string line in new[] { "go\tgo1.19.8", "path\texample.com/shop/cmd/payments", "mod\texample.com/shop\tv1.4.2\t", "dep\tgithub.com/acme/orm\tv1.4.2\th1:abc=", "build\tvcs.revision=0a1b2c3d4e5f" })
        {
            producer.Produce("logs", new Message<string, byte[]> { Key = "payments-6f7c", Value = Encoding.UTF8.GetBytes(line), Headers = headers, Timestamp = new Timestamp(at.AddMinutes(-1)) });
        }
        // Its gctrace in the minute before: pauses that grow with the live heap.
        for (int n = 1; n <= 24; n++)
        {
            int live = 20 + n * 5;
            string gc = $"gc {n} @{n * 2}.000s 1%: 0.{n % 5 + 1}+1.5+{live / 10}.0 ms clock, 0.4+1/5/1+0.2 ms cpu, {live + 10}->{live + 12}->{live} MB, {live * 2} MB goal, 4 P";
            producer.Produce("logs", new Message<string, byte[]> { Key = "payments-6f7c", Value = Encoding.UTF8.GetBytes(gc), Headers = headers, Timestamp = new Timestamp(at.AddSeconds(-50 + n)) });
        }
        foreach (string line in s.CrashLines)
        {
            producer.Produce("logs", new Message<string, byte[]> { Key = "payments-6f7c", Value = Encoding.UTF8.GetBytes(line), Headers = headers, Timestamp = new Timestamp(at) });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }

    private static PipelineHarness Harness()
    {
        var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 2);
        h.CreateTopic("otlp_spans", 4);
        h.CreateTopic("ingest-detections", 4);
        h.CreateTopic("dead-letters", 1);
        return h;
    }

    private static (Thread Thread, CancellationTokenSource Stop, CorrelationSource Source) StartCorrelator(PipelineHarness h, PipelineHarness.Worker worker)
    {
        // The mock brokers cannot look offsets up by time: replay what they hold.
        var source = new CorrelationSource(new CorrelationOptions { ReorderWindow = TimeSpan.FromSeconds(5) }, new CorrelationTopicsOptions { ReplayFromBeginning = true },
            new KafkaSourceOptions { BootstrapServers = h.Cluster.BootstrapServers, GroupId = "shop", Client = { ["session.timeout.ms"] = "6000", ["heartbeat.interval.ms"] = "300" } },
            worker.Sink);
        var stop = new CancellationTokenSource();
        var thread = new Thread(() => source.Run(stop.Token)) { IsBackground = true, Name = "correlation" };
        thread.Start();
        return (thread, stop, source);
    }

    private static List<JsonElement> StoredIncidents(PipelineHarness h) =>
        h.Store.Recent("incident", 100).Select(r => JsonDocument.Parse(r.Doc).RootElement.GetProperty("event").Clone()).ToList();

    private static PipelineHarness.Worker LogWorker(PipelineHarness h)
    {
        return h.StartWorker("shop", stageFactory: _ => new StageChain(new GcAnalytics(new Ingest.GoRuntime.Analysis.Gc.GcAnalyticsOptions()),
            new DetectionPublisher(new CorrelationTopicsOptions(), new KafkaSourceOptions { BootstrapServers = h.Cluster.BootstrapServers })));
    }

    [Fact]
    public void A_panic_in_logs_and_spans_across_skewed_nodes_become_one_incident_with_the_panic_as_root_cause()
    {
        using var h = Harness();
        var s = Build(traces: 4);
        ProduceAll(h, s);
        var worker = LogWorker(h);
        var (thread, stop, source) = StartCorrelator(h, worker);
        try
        {
            // Written when it forms, rewritten when the services serve again (the later traces).
            Wait.Until(() => StoredIncidents(h) is [var only] && only.GetProperty("event_count").GetInt32() >= 3 &&
                    only.GetProperty("path").EnumerateArray().All(p => p.GetProperty("recovered").GetBoolean()),
                TimeSpan.FromSeconds(60), "the incident stored, its services recovered",
                () => $"{source.Detections} detections, {source.Spans} spans, {string.Join(" | ", StoredIncidents(h).Select(i => i.GetRawText()))}");
            var incident = StoredIncidents(h)[0];
            // The exception's Go stack went through the crash parser: a recovered crash of that span.
            Wait.Until(() => h.Store.Recent("crash", 10).Any(r => r.Id.StartsWith("crash:span:", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the span's crash indexed");
            var spanCrash = JsonDocument.Parse(h.Store.Recent("crash", 10).First(r => r.Id.StartsWith("crash:span:", StringComparison.Ordinal)).Doc).RootElement;
            Assert.Equal("nil_pointer_dereference", spanCrash.GetProperty("event").GetProperty("category").GetString());
            Assert.True(spanCrash.GetProperty("event").GetProperty("recovered").GetBoolean());
            Assert.Equal("orders", spanCrash.GetProperty("service").GetString());
            Assert.Equal("crash", incident.GetProperty("root_cause").GetProperty("kind").GetString());
            Assert.Equal("payments", incident.GetProperty("root_cause").GetProperty("service").GetString());
            Assert.StartsWith("crash:logs:", incident.GetProperty("root_cause").GetProperty("id").GetString(), StringComparison.Ordinal);
            Assert.Equal(["payments", "orders", "gateway"], incident.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("service").GetString()));
            Assert.All(incident.GetProperty("path").EnumerateArray(), p => Assert.True(p.GetProperty("recovered").GetBoolean()));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$", incident.GetProperty("started_at").GetString()!);
            // The dependency graph: every request, the crashed call and the crash's way up.
            Wait.Until(() => source.Graph().Any(e => e is { Caller: "gateway", Callee: "orders", Calls: 4 }), TimeSpan.FromSeconds(30), "four gateway → orders calls",
                () => string.Join(", ", source.Graph()));
            var graph = source.Graph().ToDictionary(e => (e.Caller, e.Callee));
            Assert.Equal(1, graph[("gateway", "orders")].Errors);
            Assert.Equal(4, graph[("orders", "payments")].Calls); // three answered, one crashed
            Assert.Equal(1, graph[("orders", "payments")].CrashesPropagated);
        }
        finally
        {
            stop.Cancel();
            thread.Join(TimeSpan.FromSeconds(30));
            worker.StopGracefully();
        }
    }

    [Fact]
    public void Two_correlating_workers_sharing_the_partitions_find_the_same_incidents_as_one()
    {
        string Signature(JsonElement i) => $"{i.GetProperty("root_cause").GetProperty("service").GetString()}|{i.GetProperty("root_cause").GetProperty("kind").GetString()}|" +
            string.Join(">", i.GetProperty("path").EnumerateArray().Select(p => p.GetProperty("service").GetString()));

        List<string> RunWith(int correlators)
        {
            using var h = Harness();
            var s = Build(traces: 8);
            var worker = LogWorker(h);
            var running = Enumerable.Range(0, correlators).Select(_ => StartCorrelator(h, worker)).ToList();
            try
            {
                // The group has settled (each member holds its share) before the data comes, so no member
                // writes a partial view that a rebalance would then redo.
                Wait.Until(() => running.All(r => r.Source.Assignment.Count > 0) && running.Sum(r => r.Source.Assignment.Count) == 8,
                    TimeSpan.FromSeconds(60), "partitions shared", () => string.Join(", ", running.Select(r => r.Source.Assignment.Count)));
                ProduceAll(h, s);
                Wait.Until(() => StoredIncidents(h).Count == 1 && StoredIncidents(h)[0].GetProperty("event_count").GetInt32() >= 3, TimeSpan.FromSeconds(60), "the incident stored",
                    () => string.Join(", ", running.Select(r => $"{r.Source.Detections}d/{r.Source.Spans}s")));
                return [.. StoredIncidents(h).Select(Signature).Order(StringComparer.Ordinal)];
            }
            finally
            {
                foreach (var r in running) r.Stop.Cancel();
                foreach (var r in running) r.Thread.Join(TimeSpan.FromSeconds(30));
                worker.StopGracefully();
            }
        }

        var one = RunWith(1);
        var two = RunWith(2);
        Assert.Equal(["payments|crash|payments>orders>gateway"], one);
        Assert.Equal(one, two);
    }
}
