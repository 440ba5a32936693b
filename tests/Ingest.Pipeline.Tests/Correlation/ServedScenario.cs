using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Correlation;

/// <summary>
/// A generated multi-node scenario as a deployment would feed it: ECS JSON log lines on <c>logs-json</c> and OTLP
/// JSON spans on <c>otlp_spans</c>. gateway (node-a) → orders (node-b, clock +120 ms) → payments (node-c, −350 ms)
/// and inventory (node-d, +3 s, beyond the maximum offset); gateway → search (node-b). Several traces, chosen by
/// the seed, hit the same nil dereference in payments: the panic is an exception event on payments' span (with
/// its Go stack) and is also logged, whole, on the stderr of that payments pod without trace context; orders and
/// gateway fail upstream. One trace hits an index panic in search that net/http recovers (only the span shows
/// it). Later requests all succeed.
/// </summary>
internal sealed class ServedScenario
{
    private const long Ms = 1_000_000;
    private static readonly Dictionary<string, long> s_skew = new() { ["node-a"] = 0, ["node-b"] = 120 * Ms, ["node-c"] = -350 * Ms, ["node-d"] = 3_000 * Ms };

    private readonly List<(string Key, string Topic, byte[] Value)> _messages = [];

    public List<string> PanicTraces { get; } = [];
    public string SearchTrace { get; private set; } = string.Empty;
    public required CrashEvent Nil { get; init; }
    public required CrashEvent Index { get; init; }

    private static (string Message, string Stack, string[] Lines) Corpus(string file)
    {
        string text = File.ReadAllText(Path.Combine(CorpusFeed.Dir, file));
        string first = text[..text.IndexOf('\n', StringComparison.Ordinal)];
        return (first["panic: ".Length..], text[text.IndexOf("goroutine ", StringComparison.Ordinal)..], text.TrimEnd('\n').Split('\n'));
    }

    private static CrashEvent Parsed(string file) => Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(Path.Combine(CorpusFeed.Dir, file)).OfType<CrashEvent>().First();

    public static ServedScenario Generate(int seed, int traces = 12, int panics = 3)
    {
        var s = new ServedScenario { Nil = Parsed("01-nil-pointer-dereference.txt"), Index = Parsed("02-index-out-of-range.txt") };
        var nil = Corpus("01-nil-pointer-dereference.txt");
        var index = Corpus("02-index-out-of-range.txt");
        var rng = new Random(seed);
        long t0 = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000) * Ms;
        var panicking = Enumerable.Range(1, traces - 4).OrderBy(_ => rng.Next()).Take(panics).ToHashSet();
        int searchAt = Enumerable.Range(traces / 2, traces / 2).First(i => !panicking.Contains(i));
        long at = 0;
        for (int i = 0; i < traces; i++)
        {
            at += 800 + rng.Next(800);
            string trace = (i + 1).ToString("x32", CultureInfo.InvariantCulture);
            string Id(char c) => string.Create(CultureInfo.InvariantCulture, $"{i:x4}00000000000{c}");
            string Span(string id, string? parent, string node, long startMs, long endMs, bool error, (string Message, string Stack)? exception = null) =>
                SpanJson(trace, id, parent, t0 + startMs * Ms + s_skew[node], t0 + endMs * Ms + s_skew[node], error, exception);
            void Spans(string service, string node, params string[] spans) => s._messages.Add((trace, "otlp_spans", Encoding.UTF8.GetBytes(ResourceSpans(service, node, spans))));
            if (i == searchAt)
            {
                s.SearchTrace = trace;
                Spans("gateway", "node-a", Span(Id('a'), null, "node-a", at, at + 60, true));
                Spans("search", "node-b", Span(Id('e'), Id('a'), "node-b", at + 5, at + 30, true, (index.Message, index.Stack)));
                continue;
            }
            bool fails = panicking.Contains(i);
            Spans("gateway", "node-a", Span(Id('a'), null, "node-a", at, at + 120, fails));
            if (i > searchAt) Spans("search", "node-b", Span(Id('e'), Id('a'), "node-b", at + 2, at + 4, false));
            Spans("orders", "node-b", Span(Id('b'), Id('a'), "node-b", at + 5, at + 110, fails));
            Spans("inventory", "node-d", Span(Id('d'), Id('b'), "node-d", at + 6, at + 9, false));
            Spans("payments", "node-c", Span(Id('c'), Id('b'), "node-c", at + 10, at + 40, fails, fails ? (nil.Message, nil.Stack) : null));
            if (!fails) continue;
            s.PanicTraces.Add(trace);
            // The whole panic on the stderr of the payments pod that died, a few milliseconds after the span's end.
            string pod = $"payments-{s.PanicTraces.Count}";
            var logged = DateTimeOffset.FromUnixTimeMilliseconds((t0 + (at + 45) * Ms + s_skew["node-c"]) / Ms);
            foreach (string line in nil.Lines)
            {
                string json = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["@timestamp"] = logged.ToString("O", CultureInfo.InvariantCulture), ["message"] = line, ["stream"] = "stderr",
                    ["service"] = new { name = "payments" }, ["host"] = new { name = "node-c" }, ["kubernetes"] = new { pod_name = pod },
                });
                s._messages.Add((pod, "logs-json", Encoding.UTF8.GetBytes(json)));
            }
        }
        return s;
    }

    private static string SpanJson(string trace, string id, string? parent, long start, long end, bool error, (string Message, string Stack)? exception) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["traceId"] = trace, ["spanId"] = id, ["parentSpanId"] = parent ?? "", ["name"] = "handler",
            ["startTimeUnixNano"] = start.ToString(CultureInfo.InvariantCulture), ["endTimeUnixNano"] = end.ToString(CultureInfo.InvariantCulture),
            ["status"] = new { code = error ? 2 : 1 },
            ["events"] = exception is { } x
                ? new[] { new { name = "exception", attributes = new[] { Attr("exception.type", "runtime.Error"), Attr("exception.message", x.Message), Attr("exception.stacktrace", x.Stack) } } }
                : null,
        });

    private static object Attr(string key, string value) => new { key, value = new { stringValue = value } };

    private static string ResourceSpans(string service, string node, string[] spans) =>
        $$"""{"resourceSpans":[{"resource":{"attributes":[{{JsonSerializer.Serialize(Attr("service.name", service))}},{{JsonSerializer.Serialize(Attr("host.name", node))}}]},"scopeSpans":[{"spans":[{{string.Join(",", spans)}}]}]}]}""";

    /// <summary>Spans and log lines in a seeded interleaving: a panic's log may come before or after its spans.</summary>
    public void ProduceAll(string bootstrap, int seed)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, Partitioner = Partitioner.Murmur2Random, LingerMs = 5 }).Build();
        var rng = new Random(seed);
        var spans = new Queue<(string, string, byte[])>(_messages.Where(m => m.Topic == "otlp_spans"));
        var logs = new Queue<(string, string, byte[])>(_messages.Where(m => m.Topic != "otlp_spans"));
        while (spans.Count + logs.Count > 0)
        {
            var (key, topic, value) = logs.Count == 0 || (spans.Count > 0 && rng.Next(3) > 0) ? spans.Dequeue() : logs.Dequeue();
            producer.Produce(topic, new Message<string, byte[]> { Key = key, Value = value });
        }
        producer.Flush(TimeSpan.FromSeconds(30));
    }
}
