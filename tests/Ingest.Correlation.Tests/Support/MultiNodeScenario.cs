using System.Globalization;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Tests.Support;

/// <summary>
/// Generates a multi-node scenario from a seed: gateway (node-a) → orders (node-b, clock +120 ms) → payments
/// (node-c, −350 ms) and inventory (node-d, +3 s: beyond the maximum offset); gateway → search (node-b). Traces
/// run 0.8 to 1.6 s apart. Several of them hit the same nil dereference in payments (one bug, one fingerprint):
/// each panic is an exception event on payments' span and is also logged on payments' stderr without trace
/// context, arriving before or after its spans; orders and gateway fail upstream. One trace hits an index
/// panic in search that net/http recovers (only the span shows it; search serves on). After each panic payments
/// restarts and later requests succeed, unless <see cref="Options.PaymentsServesAgain"/> is false.
/// </summary>
public sealed class MultiNodeScenario
{
    public const long Ms = 1_000_000;
    public static readonly long T0 = 1_764_410_400_000 * Ms;
    public const string NilFingerprint = "fp-payments-nil";
    public const string SearchFingerprint = "fp-search-index";

    public static readonly IReadOnlyDictionary<string, long> Skew = new Dictionary<string, long>
    {
        ["node-a"] = 0, ["node-b"] = 120 * Ms, ["node-c"] = -350 * Ms, ["node-d"] = 3_000 * Ms,
    };

    public sealed record Options(int Seed, int Traces = 20, int Panics = 3, bool PaymentsServesAgain = true);

    /// <summary>One panic as the tests expect to find it: its trace, the logged crash's id, its span's crash id.</summary>
    public sealed record Panic(string TraceId, string LogCrashId, string SpanCrashId, long At);

    public required IReadOnlyList<object> Arrivals { get; init; }
    public required IReadOnlyList<Panic> Panics { get; init; }
    public required string SearchTrace { get; init; }
    public required string SearchSpanCrashId { get; init; }

    public static MultiNodeScenario Generate(Options o)
    {
        var rng = new Random(o.Seed);
        var spans = new List<SpanRecord>();
        var arrivals = new List<(long At, object Item)>();
        var panics = new List<Panic>();
        // Panics among the first traces (so later ones show the services serving again), search's in the middle.
        var panicking = Enumerable.Range(1, o.Traces - 4).OrderBy(_ => rng.Next()).Take(o.Panics).Order().ToHashSet();
        int searchAt = Enumerable.Range(1, o.Traces - 2).First(i => !panicking.Contains(i) && i > o.Traces / 2);
        int lastPanic = panicking.Max();
        long at = 0;
        string? searchTrace = null, searchCrash = null;
        for (int i = 0; i < o.Traces; i++)
        {
            at += 800 + rng.Next(800);
            string trace = (i + 1).ToString("x32", CultureInfo.InvariantCulture);
            string Id(char c) => string.Create(CultureInfo.InvariantCulture, $"{i:x4}00000000000{c}");
            bool fails = panicking.Contains(i);
            bool callsPayments = o.PaymentsServesAgain || i <= lastPanic;
            if (i == searchAt)
            {
                searchTrace = trace;
                var search = Span(trace, Id('e'), Id('a'), "search", "node-b", at + 5, at + 30, SpanStatus.Error) with
                {
                    Exceptions = [new SpanException("runtime.boundsError", "runtime error: index out of range [3] with length 3", "goroutine 9 [running]:")
                        { Crash = new CrashInfo("index_out_of_range", "example.com/shop/search.(*Index).Page", SearchFingerprint) }],
                };
                searchCrash = CausalStamper.SpanCrashId(search);
                spans.Add(Span(trace, Id('a'), null, "gateway", "node-a", at, at + 60, SpanStatus.Error));
                spans.Add(search);
                continue;
            }
            spans.Add(Span(trace, Id('a'), null, "gateway", "node-a", at, at + 120, fails ? SpanStatus.Error : SpanStatus.Ok));
            spans.Add(Span(trace, Id('b'), Id('a'), "orders", "node-b", at + 5, at + 110, fails ? SpanStatus.Error : SpanStatus.Ok));
            if (i > searchAt) spans.Add(Span(trace, Id('e'), Id('a'), "search", "node-b", at + 2, at + 4));
            spans.Add(Span(trace, Id('d'), Id('b'), "inventory", "node-d", at + 6, at + 9));
            if (!callsPayments) continue;
            var payments = Span(trace, Id('c'), Id('b'), "payments", "node-c", at + 10, at + 40, fails ? SpanStatus.Error : SpanStatus.Ok);
            if (fails)
            {
                payments = payments with
                {
                    Exceptions = [new SpanException("runtime.Error", "runtime error: invalid memory address or nil pointer dereference", "goroutine 7 [running]:")
                        { Crash = new CrashInfo("nil_pointer_dereference", "example.com/shop/payments.(*Charger).Charge", NilFingerprint) }],
                };
                // The same panic on stderr a few milliseconds later, by the same clock, without trace context.
                long logged = payments.EndUnixNanos + (1 + rng.Next(30)) * Ms;
                string logId = string.Create(CultureInfo.InvariantCulture, $"crash:logs-json:0:{1000 + i * 100}:0");
                var crash = new DetectedEvent
                {
                    Id = logId, Kind = FailureKind.Crash, Service = "payments", Node = "node-c", Stream = "payments-6f7c", TimeUnixNanos = logged,
                    Summary = "nil_pointer_dereference: runtime error: invalid memory address or nil pointer dereference", Fingerprint = NilFingerprint,
                    Crash = new CrashInfo("nil_pointer_dereference", "example.com/shop/payments.(*Charger).Charge", NilFingerprint),
                };
                // Before or after its spans: the log pipeline and the Collector race.
                arrivals.Add((payments.EndUnixNanos + (rng.Next(2) == 0 ? -300 : 300) * Ms + rng.Next(200) * Ms, crash));
                panics.Add(new Panic(trace, logId, CausalStamper.SpanCrashId(payments), at));
            }
            spans.Add(payments);
        }
        // Spans arrive when they end (the exporter sends finished spans), give or take the batching delay.
        arrivals.AddRange(spans.Select(s => (s.EndUnixNanos + rng.Next(100) * Ms, (object)s)));
        return new MultiNodeScenario
        {
            Arrivals = [.. arrivals.OrderBy(a => a.At).Select(a => a.Item)],
            Panics = panics, SearchTrace = searchTrace!, SearchSpanCrashId = searchCrash!,
        };
    }

    private static SpanRecord Span(string trace, string id, string? parent, string service, string node, long startMs, long endMs, SpanStatus status = SpanStatus.Ok) => new()
    {
        TraceId = trace, SpanId = id, ParentSpanId = parent, Name = service + " handler", Service = service, Node = node,
        StartUnixNanos = T0 + startMs * Ms + Skew[node], EndUnixNanos = T0 + endMs * Ms + Skew[node], Status = status,
    };

    public Correlator Run(CorrelationOptions? options = null)
    {
        var c = new Correlator(options ?? new CorrelationOptions());
        foreach (var item in Arrivals)
        {
            if (item is SpanRecord s) c.AddSpan(s);
            else c.AddEvent((DetectedEvent)item);
        }
        c.Flush();
        return c;
    }
}
