using System.Text;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Parsing.GcTrace;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Analysis.Gc;

public sealed class GcDetectorTests
{
    private static List<GcCycle> Parse(string text)
    {
        var cycles = new List<GcCycle>();
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var bytes = Encoding.UTF8.GetBytes(line);
            int at = GcTraceReader.IndexOfGcLine(bytes);
            if (at >= 0 && GcTraceReader.TryReadCycle(bytes.AsSpan(at), out var cycle)) cycles.Add(cycle!);
        }
        return cycles;
    }

    private static (List<GcSample> Samples, List<GcAnomaly> Anomalies) Run(IEnumerable<GcCycle> cycles, GcAnalyticsOptions? options = null, string service = "checkout")
    {
        var analyzer = new GcInstanceAnalyzer(options ?? new GcAnalyticsOptions(), service);
        var samples = new List<GcSample>();
        var anomalies = new List<GcAnomaly>();
        foreach (var c in cycles) samples.Add(analyzer.Observe(c, anomalies));
        return (samples, anomalies);
    }

    private static int[] CyclesOf(List<GcAnomaly> anomalies, GcAnomalyKind kind) =>
        anomalies.Where(a => a.Kind == kind).Select(a => a.Cycle).ToArray();

    [Fact]
    public void Synthetic_series_parses_completely()
    {
        var cycles = Parse(SyntheticGcTrace.Write());
        Assert.Equal(SyntheticGcTrace.Cycles, cycles.Count);
        Assert.True(cycles[SyntheticGcTrace.Forced - 1].Forced);
        Assert.Equal(12.0, cycles[SyntheticGcTrace.PauseSpike - 1].StwSweepTerminationMs);
    }

    [Fact]
    public void Each_detector_fires_exactly_at_its_injected_anomaly()
    {
        var (_, anomalies) = Run(Parse(SyntheticGcTrace.Write()));

        Assert.Equal([SyntheticGcTrace.PauseSpike], CyclesOf(anomalies, GcAnomalyKind.PauseOutlier));
        // Three cycles in a row above the goal: the third and every later one of the run.
        Assert.Equal([82, 83, 84], CyclesOf(anomalies, GcAnomalyKind.PacerOvershoot));
        // The 5-cycle window must hold a majority of collapsed intervals: from the phase's third cycle until
        // two cycles after it ends.
        Assert.Equal(Enumerable.Range(SyntheticGcTrace.ThrashFirst + 2, SyntheticGcTrace.ThrashLast + 2 - (SyntheticGcTrace.ThrashFirst + 2) + 1).ToArray(),
            CyclesOf(anomalies, GcAnomalyKind.Thrash));
        // The median of the last 3 cycles is grown from the second grown cycle on, until the grown cycles are
        // half of the 20-cycle baseline before them.
        Assert.Equal(Enumerable.Range(SyntheticGcTrace.GrowthFirst + 1, 11).ToArray(), CyclesOf(anomalies, GcAnomalyKind.HeapGrowth));
        // No SLO configured: never.
        Assert.Empty(CyclesOf(anomalies, GcAnomalyKind.PauseSlo));
    }

    [Fact]
    public void A_forced_cycle_never_alerts_and_never_enters_a_baseline()
    {
        var (samples, anomalies) = Run(Parse(SyntheticGcTrace.Write()));
        Assert.DoesNotContain(anomalies, a => a.Cycle == SyntheticGcTrace.Forced);
        Assert.True(samples[SyntheticGcTrace.Forced - 1].Forced);
        Assert.True(samples[SyntheticGcTrace.Forced - 1].PauseMs >= 30);
        // Its 5 MB live heap did not become the growth window's minimum (else 20 MB cycles right after it
        // would have been reported as 4× growth).
        Assert.DoesNotContain(anomalies, a => a.Kind == GcAnomalyKind.HeapGrowth && a.Cycle < SyntheticGcTrace.GrowthFirst);
    }

    [Fact]
    public void Pause_slo_applies_per_service_and_with_a_wildcard()
    {
        var cycles = Parse(SyntheticGcTrace.Write());
        var options = new GcAnalyticsOptions { PauseSloMs = new() { ["checkout"] = 5 } };
        Assert.Equal([SyntheticGcTrace.PauseSpike], CyclesOf(Run(cycles, options).Anomalies, GcAnomalyKind.PauseSlo));
        Assert.Empty(CyclesOf(Run(cycles, options, service: "payments").Anomalies, GcAnomalyKind.PauseSlo));
        var wildcard = new GcAnalyticsOptions { PauseSloMs = new() { ["*"] = 5 } };
        Assert.Equal([SyntheticGcTrace.PauseSpike], CyclesOf(Run(cycles, wildcard, service: "payments").Anomalies, GcAnomalyKind.PauseSlo));
    }

    [Fact]
    public void Microsecond_jitter_never_alerts()
    {
        // A perfectly flat baseline (MAD 0) followed by a pause 0.5 ms longer: below the 1 ms floor.
        var text = new StringBuilder();
        for (int n = 1; n <= 40; n++)
        {
            double sweep = n == 30 ? 0.55 : 0.05;
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"gc {n} @{n * 0.5:0.000}s 1%: {sweep}+1.0+0.05 ms clock, 0.2+0.1/5/1+0.2 ms cpu, 40->42->20 MB, 42 MB goal, 4 P\n");
        }
        Assert.Empty(Run(Parse(text.ToString())).Anomalies);
    }

    [Fact]
    public void Derived_metrics_follow_the_definitions()
    {
        var cycles = Parse(
            "gc 1 @1.000s 1%: 0.1+2+0.3 ms clock, 0.4+1/2/3+1.2 ms cpu, 10->12->6 MB, 12 MB goal, 4 P\n" +
            "gc 2 @1.500s 1%: 0.2+3+0.4 ms clock, 0.8+10/20/30+1.6 ms cpu, 26->33->8 MB, 30 MB goal, 4 P\n");
        var (samples, _) = Run(cycles);
        Assert.Null(samples[0].IntervalSeconds);
        var s = samples[1];
        Assert.Equal(0.6, s.PauseMs, 9);
        Assert.Equal(0.5, s.IntervalSeconds!.Value, 9);
        // (26 - 6) MB allocated since the previous cycle's live heap, over 0.5 s.
        Assert.Equal(40, s.AllocRateMbPerSecond!.Value, 9);
        // 62.4 ms of GC CPU over 0.5 s × 4 P.
        Assert.Equal(62.4 / 2000, s.CpuFraction!.Value, 9);
        Assert.Equal(0.1, s.GoalOvershoot, 9);
    }

    [Fact]
    public void A_cycle_number_going_back_is_a_restart_not_a_negative_interval()
    {
        var cycles = Parse(
            "gc 7 @9.000s 1%: 0.1+2+0.3 ms clock, 0.4+1/2/3+1.2 ms cpu, 10->12->6 MB, 12 MB goal, 4 P\n" +
            "gc 1 @0.010s 0%: 0.1+2+0.3 ms clock, 0.4+1/2/3+1.2 ms cpu, 4->4->1 MB, 4 MB goal, 4 P\n");
        var (samples, _) = Run(cycles);
        Assert.Null(samples[1].IntervalSeconds);
        Assert.Null(samples[1].AllocRateMbPerSecond);
    }

    [Fact]
    public void Real_go119_gctrace_stays_quiet()
    {
        // Real runtime output (tools/corpus-gen): a healthy allocation-heavy program.
        foreach (string file in new[] { "go1.19/31-gctrace.txt", "go1.19/32-gctrace-logger-prefix.txt", "shared/gctrace/gctrace-pacer-scav-go1.19.txt" })
        {
            var cycles = Corpus.Analyze(file).OfType<GcCycleEvent>().Select(e => e.Cycle).ToList();
            Assert.NotEmpty(cycles);
            var (samples, anomalies) = Run(cycles);
            Assert.Equal(cycles.Count, samples.Count);
            Assert.True(anomalies.Count == 0, $"{file}: {string.Join("; ", anomalies.Select(a => $"{a.Kind}@{a.Cycle}: {a.Reason}"))}");
        }
    }

    [Fact]
    public void Real_go119_pause_spikes_are_found_with_a_sensitive_floor()
    {
        // The same real trace with a 1 ms floor: exactly its two scheduler-sized spikes (1.86 and 1.40 ms over a
        // 0.13 ms median), nothing else.
        var cycles = Corpus.Analyze("go1.19/32-gctrace-logger-prefix.txt").OfType<GcCycleEvent>().Select(e => e.Cycle).ToList();
        var (_, anomalies) = Run(cycles, new GcAnalyticsOptions { PauseFloorMs = 1.0 });
        Assert.Equal([53, 112], anomalies.Select(a => a.Cycle).ToArray());
        Assert.All(anomalies, a => Assert.Equal(GcAnomalyKind.PauseOutlier, a.Kind));
    }

    [Fact]
    public void Memory_per_instance_is_bounded_by_the_windows()
    {
        var options = new GcAnalyticsOptions();
        var analyzer = new GcInstanceAnalyzer(options, "svc");
        var anomalies = new List<GcAnomaly>();
        var cycle = Parse("gc 1 @1.000s 1%: 0.1+2+0.3 ms clock, 0.4+1/2/3+1.2 ms cpu, 10->12->6 MB, 12 MB goal, 4 P\n")[0];
        for (int n = 1; n <= 100_000; n++) analyzer.Observe(cycle with { Num = n, AtSeconds = n }, anomalies);
        Assert.Empty(anomalies);
    }
}

/// <summary>Thrash is intervals collapsing with the heap at its goal; GC CPU only adds confidence (issue 18).</summary>
public sealed class GcThrashBelowCpuFloorTests
{
    private static List<GcAnomaly> Anomalies(string trace)
    {
        var analyzer = new GcInstanceAnalyzer(new GcAnalyticsOptions(), "checkout");
        var anomalies = new List<GcAnomaly>();
        foreach (string line in trace.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.True(GcTraceReader.TryReadCycle(Encoding.UTF8.GetBytes(line), out var cycle));
            analyzer.Observe(cycle!, anomalies);
        }
        return anomalies;
    }

    private static List<GcAnomaly> Thrash(List<GcAnomaly> anomalies) => anomalies.Where(a => a.Kind == GcAnomalyKind.Thrash).ToList();

    // As for the 40% thrash: from the phase's third cycle (a majority of the 5-cycle window) to two after it.
    private static readonly int[] Expected = Enumerable.Range(SyntheticThrashTrace.PhaseFirst + 2, SyntheticThrashTrace.PhaseLast - SyntheticThrashTrace.PhaseFirst + 1).ToArray();

    [Fact]
    public void A_hundredfold_collapse_at_97_percent_of_the_goal_is_thrash_under_the_cpu_floor()
    {
        var all = Anomalies(SyntheticThrashTrace.Write());
        // The live heap going from 20 to 97 MB is also heap growth (a leak at the limit looks like this); nothing else fires.
        Assert.All(all, a => Assert.True(a.Kind == GcAnomalyKind.Thrash || a.Kind == GcAnomalyKind.HeapGrowth && a.Cycle >= SyntheticThrashTrace.PhaseFirst, a.ToString()));
        Assert.DoesNotContain(all, a => a.Cycle == SyntheticThrashTrace.Forced);
        var anomalies = Thrash(all);
        Assert.Equal(Expected, anomalies.Select(a => a.Cycle));
        // Per-cycle CPU (8%) is under the floor: never full confidence. The cumulative column adds it once it rose
        // two points over the baseline's 1% (cycle 68 on).
        Assert.Equal(Expected.Select(n => n < 68 ? 0.6 : 0.8), anomalies.Select(a => Math.Round(a.Confidence, 3)));
        var first = anomalies[0];
        Assert.Equal(4, first.Threshold, 9);
        Assert.InRange(first.Value, 80, 125); // ~2 s against ~20 ms
        Assert.Contains("live heap at 97 % of its goal", first.Reason, StringComparison.Ordinal);
        Assert.Contains("(under the 20 % floor)", first.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cpu_evidence_changes_the_confidence_not_the_verdict()
    {
        Assert.Equal(Expected.Select(_ => 0.6), Thrash(Anomalies(SyntheticThrashTrace.Write(cumulativeRises: false))).Select(a => Math.Round(a.Confidence, 3)));
        var confident = Thrash(Anomalies(SyntheticThrashTrace.Write(thrashCpu: 0.40)));
        Assert.Equal(Expected, confident.Select(a => a.Cycle));
        Assert.Equal(Expected.Select(n => n < 68 ? 0.8 : 1.0), confident.Select(a => Math.Round(a.Confidence, 3)));
    }

    [Fact]
    public void A_clean_baseline_with_a_forced_cycle_and_an_allocation_burst_stays_quiet()
    {
        // The burst shortens intervals tenfold, but the live heap stays at half its goal.
        Assert.Empty(Anomalies(SyntheticThrashTrace.Write(burst: true)));
        var clean = SyntheticThrashTrace.Write().Split('\n').Take(SyntheticThrashTrace.PhaseFirst - 1);
        Assert.Empty(Anomalies(string.Join('\n', clean)));
    }
}
