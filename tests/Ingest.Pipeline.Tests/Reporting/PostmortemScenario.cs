using Ingest.Correlation.Clocks;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Reporting;

/// <summary>
/// A three-node incident written straight into the embedded store, as the worker would have left it:
/// payments (node-c) crashes on a nil dereference, orders (node-b) fails its request and then panics through a
/// [recovered] chain and shows a mutex convoy, gateway (node-a) fails its request; payments took four goroutine
/// dumps in the ten minutes before (a leak growing), logged gctrace for the hour before (100 MB live, pauses
/// 0.20–0.24 ms) and during (live heap up to 400 MB, pauses 1–10 ms), and raised a gc_thrash alert. Decoys
/// the postmortem must leave out: a crash of payments outside the incident and a dump half an hour before.
/// </summary>
internal sealed class PostmortemScenario : IDisposable
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 10, 0, 0, TimeSpan.Zero);
    public const string IncidentId = "incident:0123456789abcdef";
    public const string GcIncidentId = "incident:gc-thrash";
    public const string AlertInstance = "payments-7d9f-abc";

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ingest-postmortem-" + Guid.NewGuid().ToString("N"));
    private readonly List<IndexedEvent> _batch = [];
    private int _offset;

    public SqliteEventStore Store { get; }
    public CrashEvent Nil { get; } = Parsed<CrashEvent>("01-nil-pointer-dereference.txt").Single();
    public CrashEvent Repanic { get; } = Parsed<CrashEvent>("20-recovered-repanic.txt").Single();
    public List<GoroutineDumpEvent> LeakDumps { get; } = Parsed<GoroutineDumpEvent>("29-goroutine-leak-4-snapshots.txt");
    public LeakSuspectEvent Leak { get; } = Parsed<LeakSuspectEvent>("29-goroutine-leak-4-snapshots.txt").First();
    public GoroutineDumpEvent Convoy { get; } = Parsed<GoroutineDumpEvent>("30-mutex-convoy-sigquit.txt").Single();
    public string NilId { get; private set; } = "";
    public string RepanicId { get; private set; } = "";
    public string ConvoyId { get; private set; } = "";
    public string AlertId { get; private set; } = "";
    public string DecoyCrashId { get; private set; } = "";
    public string DecoyDumpId { get; private set; } = "";
    public List<string> LeakDumpIds { get; } = [];
    public List<(string Node, string Id)> Events { get; } = [];

    private static readonly SourceMetadata s_payments = new() { Service = "payments", Host = "node-c", CiPipelineId = "4711", ServiceVersion = "v1.4.2" };
    private static readonly SourceMetadata s_orders = new() { Service = "orders", Host = "node-b" };

    private static List<T> Parsed<T>(string file) => StreamAnalyzer.Analyze(Path.Combine(CorpusFeed.Dir, file)).OfType<T>().ToList();

    public PostmortemScenario()
    {
        Store = new SqliteEventStore(Path.Combine(_dir, "events.db"));
        for (int i = 0; i < LeakDumps.Count; i++) LeakDumpIds.Add(Add(LeakDumps[i], s_payments, T0.AddMinutes(-4 + i)));
        DecoyDumpId = Add(Parsed<GoroutineDumpEvent>("26-sigquit-dump.txt").Single(), s_payments, T0.AddMinutes(-30));
        NilId = Add(Nil, s_payments, T0.AddSeconds(1));
        DecoyCrashId = Add(Parsed<CrashEvent>("02-index-out-of-range.txt").Single(), s_payments, T0.AddSeconds(2));
        RepanicId = Add(Repanic, s_orders, T0.AddSeconds(3));
        ConvoyId = Add(Convoy, s_orders, T0.AddSeconds(5));
        AlertId = Add(new GcAlertEvent
        {
            Stream = "s", Line = 0, Service = "payments", Instance = AlertInstance, Kind = "gc_thrash", Fingerprint = "payments|" + AlertInstance + "|gc_thrash",
            Status = GcAlertEvent.Firing, StartedAt = T0.AddSeconds(4), LastSeenAt = T0.AddSeconds(4), FirstCycle = 61, LastCycle = 61, Cycles = 1,
            Value = 0.4, Threshold = 0.25, PeakValue = 0.4, Reason = "GC CPU 40% with collections every 2 s",
        }, s_payments, T0.AddSeconds(4));
        AddBuildInfo();
        AddGcCycles();
        AddIncident();
        Store.WriteBatchAsync(_batch, CancellationToken.None).GetAwaiter().GetResult();
    }

    private string Add(RuntimeEvent e, SourceMetadata meta, DateTimeOffset at)
    {
        var stream = new StreamKey("logs", 0, meta.Service + "@" + meta.Host);
        string id = e is GcAlertEvent ? $"alert:logs:0:{_offset++}:0:gc_thrash" : $"{e.TypeName}:logs:0:{_offset++}:0";
        _batch.Add(new IndexedEvent { Id = id, Event = e, Stream = stream, FirstOffset = _offset, Timestamp = at, Metadata = meta });
        return id;
    }

    private void AddBuildInfo()
    {
        string file = Path.Combine(_dir, "build.txt");
        File.WriteAllText(file, "/app/payments: go1.21.3\n\tpath\texample.com/shop/cmd/payments\n\tmod\texample.com/shop\tv1.4.2\th1:Z8=\n" +
            "\tdep\tgolang.org/x/sync\tv0.5.0\th1:ghi=\n\tbuild\tvcs.revision=0a1b2c3d4e5f\n");
        Add(StreamAnalyzer.Analyze(file).OfType<BuildInfoEvent>().Single(), s_payments, T0.AddHours(-2));
    }

    /// <summary>Pause values are chosen so the percentiles are exact: before 12 each of 0.20–0.24 ms, during 1, 2, 3, 4, 10 ms.</summary>
    public static readonly double[] DuringPauses = [1, 2, 3, 4, 10];
    public static readonly double[] DuringHeap = [200, 300, 400, 350, 250];

    private void AddGcCycles()
    {
        for (int k = 0; k < 60; k++) Add(Cycle(k + 1, 0.20 + 0.01 * (k % 5), 100, 60 + k % 7), s_payments, T0.AddMinutes(-59 + k));
        for (int j = 0; j < 5; j++) Add(Cycle(61 + j, DuringPauses[j], DuringHeap[j], 12), s_payments, T0.AddSeconds(1 + 2 * j));
    }

    private static GcCycleEvent Cycle(int num, double pauseMs, double liveMb, int goroutines)
    {
        var cycle = new GcCycle
        {
            Num = num, AtSeconds = num * 60, CpuPercent = 2, StwSweepTerminationMs = Math.Round(pauseMs, 6), ConcurrentMarkMs = 2 + num % 3, StwMarkTerminationMs = 0,
            ClockPhasesMs = [pauseMs, 2, 0], CpuPhasesMs = [0, 0, 0, 0, 0], HeapStartMb = liveMb * 1.8, HeapEndMb = liveMb * 1.9, HeapLiveMb = liveMb, HeapGoalMb = liveMb * 2,
            Procs = 8, Forced = false,
        };
        return new GcCycleEvent
        {
            Stream = "s", Line = num, Cycle = cycle,
            Derived = new GcSample
            {
                Num = num, AtSeconds = num * 60, PauseMs = pauseMs, ConcurrentMarkMs = cycle.ConcurrentMarkMs, IntervalSeconds = 60, CpuFraction = 0.01 + num % 4 * 0.002,
                AllocRateMbPerSecond = 3 + num % 5, HeapLiveMb = liveMb, HeapGoalMb = liveMb * 2, GoalOvershoot = 0.01 * (num % 3), Procs = 8, Forced = false, Goroutines = goroutines,
            },
        };
    }

    private void AddIncident()
    {
        long Nanos(DateTimeOffset t) => t.ToUnixTimeMilliseconds() * 1_000_000;
        StampedEvent Stamped(string id, FailureKind kind, string service, string node, DateTimeOffset at, string summary, CrashInfo? crash = null, string? fingerprint = null)
        {
            Events.Add((node, id));
            return new StampedEvent(new DetectedEvent { Id = id, Kind = kind, Service = service, Node = node, TimeUnixNanos = Nanos(at), Summary = summary, Crash = crash, Fingerprint = fingerprint },
                new NodeStamp(new HybridTimestamp(Nanos(at), 0), node), ClockSkew: false, Late: false);
        }
        var events = new List<StampedEvent>
        {
            Stamped(NilId, FailureKind.Crash, "payments", "node-c", T0.AddSeconds(1), $"{Nil.Category}: {Nil.Message}", DetectionOf(Nil), Nil.Fingerprint),
            Stamped("span:0001:orders", FailureKind.ErrorSpan, "orders", "node-b", T0.AddSeconds(1.5), "POST /orders | 502 from payments\nupstream reset"),
            Stamped(RepanicId, FailureKind.Crash, "orders", "node-b", T0.AddSeconds(3), $"{Repanic.Category}: {Repanic.Message}", DetectionOf(Repanic), Repanic.Fingerprint),
            Stamped(AlertId, FailureKind.GcAnomaly, "payments", "node-c", T0.AddSeconds(4), "gc_thrash: GC CPU 40%", fingerprint: "payments|" + AlertInstance + "|gc_thrash"),
            Stamped(ConvoyId, FailureKind.Blocking, "orders", "node-b", T0.AddSeconds(5), Convoy.Findings.First(f => f.Kind == "contention").Summary),
            Stamped("span:0001:gateway", FailureKind.ErrorSpan, "gateway", "node-a", T0.AddSeconds(6), "GET /checkout `500`"),
        };
        var incident = new Incident
        {
            Id = IncidentId, Events = events, RootCause = events[0],
            Path =
            [
                new PropagationStep("payments", FailureKind.Crash, events[0].Stamp, Recovered: false),
                new PropagationStep("orders", FailureKind.ErrorSpan, events[1].Stamp, Recovered: true),
                new PropagationStep("gateway", FailureKind.ErrorSpan, events[5].Stamp, Recovered: true),
            ],
            TraceIds = ["0001"], Services = ["payments", "orders", "gateway"], Nodes = ["node-c", "node-b", "node-a"],
        };
        // A second incident: the gc_thrash alert alone, classified as GC-caused.
        var alertOnly = events[3] with { };
        var gcIncident = new Incident
        {
            Id = GcIncidentId, Events = [alertOnly], RootCause = alertOnly,
            // payments served again 2.5 s after the anomaly opened.
            Path = [new PropagationStep("payments", FailureKind.GcAnomaly, alertOnly.Stamp, Recovered: true, Nanos(T0.AddSeconds(6.5)))],
            TraceIds = [], Services = ["payments"], Nodes = ["node-c"],
        };
        _batch.Add(new IndexedEvent
        {
            Id = GcIncidentId, Event = IncidentEvent.From(gcIncident), Stream = new StreamKey("ingest-detections", 0, "correlation"), FirstOffset = 0,
            Timestamp = T0.AddSeconds(4), Metadata = SourceMetadata.Empty,
        });
        _batch.Add(new IndexedEvent
        {
            Id = IncidentId, Event = IncidentEvent.From(incident), Stream = new StreamKey("ingest-detections", 0, "correlation"), FirstOffset = 0,
            Timestamp = T0.AddSeconds(1), Metadata = SourceMetadata.Empty,
        });
    }

    private static CrashInfo DetectionOf(CrashEvent c) => Ingest.Pipeline.Correlation.DetectionPublisher.CrashInfoOf(c);

    public void Dispose()
    {
        Store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
