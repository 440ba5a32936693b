using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Analysis.Gc;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Pipeline.Tests.Analysis;

/// <summary>GC analytics inside the worker: gctrace lines from Kafka become enriched cycles and alert documents.</summary>
public sealed class GcAlertingTests
{
    private static Headers ServiceHeaders(string service) => new() { { "service", Encoding.UTF8.GetBytes(service) } };

    [Fact]
    public void Each_injected_anomaly_becomes_one_alert_document_opened_updated_and_resolved()
    {
        using var h = new PipelineHarness(brokers: 1);
        h.CreateTopic("logs", 2);
        var lines = SyntheticGcTrace.Write().TrimEnd('\n').Split('\n');
        // Another pod of another service interleaved: its steady series must raise nothing and not mix in.
        var quiet = Enumerable.Range(1, 60).Select(n => $"gc {n} @{n * 0.5:0.000}s 1%: 0.03+1.5+0.05 ms clock, 0.12+1/5/1+0.2 ms cpu, 40->42->20 MB, 42 MB goal, 4 P").ToList();
        h.Produce("logs", lines.Select(l => ("checkout-7d9f", Encoding.UTF8.GetBytes(l))), ServiceHeaders("checkout"));
        h.Produce("logs", quiet.Select(l => ("payments-5c2a", Encoding.UTF8.GetBytes(l))), ServiceHeaders("payments"));

        var gc = new GcAnalytics(new GcAnalyticsOptions());
        var worker = h.StartWorker("gc-alerts", stage: gc);
        Wait.Until(() => h.Store.Count("gc") == lines.Length + quiet.Count && worker.Sink.Pending == 0, TimeSpan.FromSeconds(60), "every cycle stored",
            () => $"{h.Store.Count("gc")} cycles");
        worker.StopGracefully();

        var alerts = h.Store.Alerts(null, null, 100).Select(r => JsonDocument.Parse(r.Doc).RootElement).ToList();
        // Exactly one document per episode, although every anomalous cycle rewrote it.
        Assert.Equal(4, alerts.Count);
        var byKind = alerts.ToDictionary(a => a.GetProperty("event").GetProperty("kind").GetString()!, a => a.GetProperty("event"));
        AssertEpisode(byKind["pause_outlier"], first: 60, last: 60, cycles: 1);
        AssertEpisode(byKind["pacer_overshoot"], first: 82, last: 84, cycles: 3);
        AssertEpisode(byKind["gc_thrash"], first: 122, last: 141, cycles: 20);
        AssertEpisode(byKind["heap_growth"], first: 161, last: 171, cycles: 11);
        Assert.All(alerts, a => Assert.Equal("checkout", a.GetProperty("event").GetProperty("service").GetString()));
        Assert.All(alerts, a => Assert.Equal("checkout-7d9f", a.GetProperty("event").GetProperty("instance").GetString()));
        Assert.Empty(gc.OpenAlerts());

        // The cycle documents carry the derived series and what was found on them.
        var spike = h.Store.Range("gc", DateTimeOffset.MinValue.AddYears(1), DateTimeOffset.MaxValue.AddYears(-1), 1000, "checkout")
            .Select(r => JsonDocument.Parse(r.Doc).RootElement.GetProperty("event"))
            .Single(e => e.GetProperty("num").GetInt32() == SyntheticGcTrace.PauseSpike);
        Assert.Equal("pause_outlier", spike.GetProperty("anomalies")[0].GetProperty("kind").GetString());
        Assert.True(spike.GetProperty("derived").GetProperty("interval_seconds").GetDouble() > 0.4);

        // Impact table for the service over its window.
        var impact = gc.Impact("checkout");
        Assert.Equal(SyntheticGcTrace.Cycles - 1, impact.Samples);
        Assert.Contains(impact.Factors, f => f.Factor == "gomaxprocs" && f.Note == "constant over the window");
    }

    private static void AssertEpisode(JsonElement alert, int first, int last, int cycles)
    {
        Assert.Equal("resolved", alert.GetProperty("status").GetString());
        Assert.Equal(first, alert.GetProperty("first_cycle").GetInt32());
        Assert.Equal(last, alert.GetProperty("last_cycle").GetInt32());
        Assert.Equal(cycles, alert.GetProperty("cycles").GetInt32());
        Assert.True(alert.TryGetProperty("ended_at", out _));
        Assert.False(string.IsNullOrEmpty(alert.GetProperty("reason").GetString()));
    }

    private static FakeTimeProvider NewClock() => new(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero));

    private static IndexedEvent Cycle(int num, double atSeconds, double sweepMs, long offset, string pod = "pod-a")
    {
        var line = Encoding.UTF8.GetBytes($"gc {num} @{atSeconds:0.000}s 1%: {sweepMs}+1.5+0.05 ms clock, 0.12+1/5/1+0.2 ms cpu, 40->42->20 MB, 42 MB goal, 4 P");
        Assert.True(Ingest.GoRuntime.Parsing.GcTrace.GcTraceReader.TryReadCycle(line, out var cycle));
        var stream = new StreamKey("logs", 0, pod);
        var e = new GcCycleEvent { Stream = pod, Line = offset * LogRecord.MaxLinesPerMessage, EndLine = offset * LogRecord.MaxLinesPerMessage, Cycle = cycle! };
        return new IndexedEvent
        {
            Id = IndexedEvent.IdFor(e, stream), Event = e, Stream = stream, FirstOffset = offset,
            Timestamp = new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero).AddSeconds(atSeconds),
            Metadata = new SourceMetadata { Service = "svc", Pod = pod },
            // As a source hands it on: holding its offset until acknowledged.
            Delivery = Ingest.Pipeline.Delivery.DeliveryToken.Create(() => { }),
        };
    }

    [Fact]
    public void An_alert_whose_instance_goes_quiet_is_resolved_untracked()
    {
        var clock = NewClock();
        var gc = new GcAnalytics(new GcAnalyticsOptions(), time: clock) { ResolveQuietAfter = TimeSpan.FromMinutes(15) };
        var emitted = new List<IndexedEvent>();
        for (int n = 1; n <= 20; n++) gc.Process(Cycle(n, n * 0.5, n == 20 ? 25 : 0.03, n), emitted.Add);
        var opened = emitted.Single(e => e.Event is GcAlertEvent);
        Assert.Equal("firing", ((GcAlertEvent)opened.Event).Status);
        Assert.True(opened.Tracked);
        Assert.Equal(20, opened.FirstOffset);

        emitted.Clear();
        clock.Advance(TimeSpan.FromMinutes(14));
        gc.Tick(clock.GetUtcNow(), emitted.Add);
        Assert.Empty(emitted);
        clock.Advance(TimeSpan.FromMinutes(2));
        gc.Tick(clock.GetUtcNow(), emitted.Add);
        var resolved = Assert.Single(emitted);
        Assert.False(resolved.Tracked);
        Assert.Equal(opened.Id, resolved.Id);
        Assert.Equal("resolved", ((GcAlertEvent)resolved.Event).Status);
        Assert.Empty(gc.OpenAlerts());
    }

    [Fact]
    public async Task A_restarted_worker_continues_the_alert_the_previous_run_left_firing()
    {
        string dir = Directory.CreateTempSubdirectory("ingest-gc-").FullName;
        try
        {
            var emitted = new List<IndexedEvent>();
            var first = new GcAnalytics(new GcAnalyticsOptions());
            for (int n = 1; n <= 20; n++) first.Process(Cycle(n, n * 0.5, n == 20 ? 25 : 0.03, n), emitted.Add);
            string id = emitted.Single(e => e.Event is GcAlertEvent).Id;
            using (var store = new SqliteEventStore(Path.Combine(dir, "events.db")))
            {
                await store.WriteBatchAsync(emitted, CancellationToken.None);
            }

            // The next run: a fresh analyser (no baseline yet) resumes the stored firing alert; the
            // instance's next ordinary cycle resolves that same document.
            using var reopened = new SqliteEventStore(Path.Combine(dir, "events.db"));
            var open = reopened.OpenAlerts();
            Assert.Equal(id, Assert.Single(open).Origin.Id);
            var second = new GcAnalytics(new GcAnalyticsOptions());
            second.Resume(open);
            Assert.Single(second.OpenAlerts());
            var next = new List<IndexedEvent>();
            second.Process(Cycle(21, 10.5, 0.03, 21), next.Add);
            var resolved = next.Single(e => e.Event is GcAlertEvent);
            Assert.Equal(id, resolved.Id);
            await reopened.WriteBatchAsync(next, CancellationToken.None);
            Assert.Empty(reopened.OpenAlerts());
            Assert.Equal(1, reopened.Count("alert"));
            var doc = JsonDocument.Parse(reopened.ById(id)!.Doc).RootElement.GetProperty("event");
            Assert.Equal("resolved", doc.GetProperty("status").GetString());
            Assert.Equal(20, doc.GetProperty("first_cycle").GetInt32());
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Forced_cycles_neither_open_nor_resolve_alerts()
    {
        var gc = new GcAnalytics(new GcAnalyticsOptions());
        var emitted = new List<IndexedEvent>();
        for (int n = 1; n <= 20; n++) gc.Process(Cycle(n, n * 0.5, n == 20 ? 25 : 0.03, n), emitted.Add);
        Assert.Single(gc.OpenAlerts());
        // A forced cycle with a huge pause: no new alert, and the open one stays open.
        var forcedLine = Encoding.UTF8.GetBytes("gc 21 @10.500s 1%: 40+1.5+0.05 ms clock, 0.12+1/5/1+0.2 ms cpu, 40->42->20 MB, 42 MB goal, 4 P (forced)");
        Assert.True(Ingest.GoRuntime.Parsing.GcTrace.GcTraceReader.TryReadCycle(forcedLine, out var forced));
        var template = Cycle(21, 10.5, 0.03, 21);
        emitted.Clear();
        gc.Process(template with { Event = new GcCycleEvent { Stream = "pod-a", Line = template.Event.Line, Cycle = forced! } }, emitted.Add);
        Assert.DoesNotContain(emitted, e => e.Event is GcAlertEvent);
        Assert.Single(gc.OpenAlerts());
    }

    /// <summary>
    /// A restart in the middle of a GC series with injected anomalies: state rebuilt from the stored cycles and
    /// dump gives the later cycles the same derived fields (goroutines included) and anomalies as an unbroken run.
    /// </summary>
    [Fact]
    public void Gc_state_rebuilt_from_stored_events_derives_what_an_unbroken_run_derives()
    {
        var t0 = new DateTimeOffset(2024, 5, 1, 10, 0, 0, TimeSpan.Zero);
        var lines = File.ReadAllText(Path.Combine(CorpusFeed.Dir, "27-runtime-stack-dump.txt")).TrimEnd('\n').Split('\n')
            .Concat(SyntheticGcTrace.Write().TrimEnd('\n').Split('\n')).ToList();
        var events = new List<IndexedEvent>();
        var assembler = new Ingest.Pipeline.Assembly.StreamAssembler(new Ingest.GoRuntime.Analysis.AnalyzerOptions(), new Ingest.Pipeline.Assembly.AssemblerOptions(),
            new FakeTimeProvider(), events.Add);
        for (int i = 0; i < lines.Count; i++)
        {
            assembler.Push(new LogRecord(new StreamKey("logs", 0, "checkout-7d9f"), Encoding.UTF8.GetBytes(lines[i]), i, 0, t0, new SourceMetadata { Pod = "checkout-7d9f", Service = "checkout" }, t0));
        }
        assembler.FlushAll();
        int split = events.FindIndex(e => e.Event is GcCycleEvent) + events.Count(e => e.Event is GcCycleEvent) / 2;
        var documents = new Ingest.Pipeline.Sinks.EventDocument();
        List<string> Run(GcAnalytics gc, IEnumerable<IndexedEvent> input)
        {
            var output = new List<string>();
            foreach (var e in input) gc.Process(e, next => output.Add(Encoding.UTF8.GetString(documents.Serialize(next))));
            return output;
        }

        var unbroken = Run(new GcAnalytics(new GcAnalyticsOptions()), events.Select(Fresh));
        var before = new GcAnalytics(new GcAnalyticsOptions());
        var stored = Run(before, events.Take(split).Select(Fresh));
        var after = new GcAnalytics(new GcAnalyticsOptions());
        after.Rebuild(stored.Select(d => JsonDocument.Parse(d).RootElement).Where(d => d.GetProperty("event").GetProperty("type").GetString() is "gc" or "goroutine_dump")
            .Select(Ingest.Pipeline.Delivery.StoredDocuments.GcEvent));
        var resumed = Run(after, events.Skip(split).Select(Fresh));
        Assert.Contains(resumed, d => d.Contains("\"goroutines\"", StringComparison.Ordinal));
        Assert.Contains(resumed, d => d.Contains("\"anomalies\"", StringComparison.Ordinal));
        // Alert documents differ (the unbroken run continues episodes the split run had no Resume for): cycles only.
        static bool Cycle(string d) => JsonDocument.Parse(d).RootElement.GetProperty("event").GetProperty("type").GetString() == "gc";
        Assert.Equal(unbroken.Where(Cycle).Skip(stored.Count(Cycle)), resumed.Where(Cycle));
    }

    /// <summary>The same event, its derived fields not yet set (each run derives its own).</summary>
    private static IndexedEvent Fresh(IndexedEvent e) => e.Event is GcCycleEvent g
        ? e with { Event = new GcCycleEvent { Stream = g.Stream, Line = g.Line, EndLine = g.EndLine, Cycle = g.Cycle, Pacer = g.Pacer } }
        : e;
}
