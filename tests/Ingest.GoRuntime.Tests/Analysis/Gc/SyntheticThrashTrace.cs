using System.Globalization;
using System.Text;

namespace Ingest.GoRuntime.Tests.Analysis.Gc;

/// <summary>
/// Gctrace lines (Go 1.19 format, 4 P, seeded jitter) for thrash whose per-cycle GC CPU stays under the 20%
/// floor. Cycles:
///   1–60 clean: every 2 s (±10%), 38->40->20 MB, 40 MB goal (live at half the goal), GC CPU ≈ 0.4%;
///   30 a forced cycle (runtime.GC) 30 ms after cycle 29;
///   61–80 thrash: every 20 ms, 98->100->97 MB, 100 MB goal (live at 97%), GC CPU 8% per cycle, the cumulative
///   % column rising from 1 by one point every 4 cycles;
///   81–100 recovered, as 1–60 (the cumulative column stays where the thrash left it).
/// With <c>burst</c> the 61–80 phase is an allocation burst instead: every 200 ms with the live heap still at
/// half its goal, which is pressure the pacer handles, not thrash.
/// </summary>
public static class SyntheticThrashTrace
{
    public const int Cycles = 100;
    public const int Forced = 30;
    public const int PhaseFirst = 61, PhaseLast = 80;

    public static string Write(bool burst = false, bool cumulativeRises = true, double thrashCpu = 0.08, int seed = 11)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder();
        double at = 0;
        const int Procs = 4;
        for (int n = 1; n <= Cycles; n++)
        {
            bool phase = n is >= PhaseFirst and <= PhaseLast;
            double interval = n == Forced ? 0.030 : (phase ? (burst ? 0.200 : 0.020) : 2.0) * (0.9 + 0.2 * rng.NextDouble());
            at += interval;
            double sweep = 0.02 + 0.04 * rng.NextDouble();
            double markTerm = 0.03 + 0.05 * rng.NextDouble();
            double mark = 1.5 + rng.NextDouble();
            double cpuTotal = (phase ? (burst ? 0.05 : thrashCpu) : 0.004) * interval * 1000 * Procs;
            double assist = cpuTotal * 0.2, background = cpuTotal * 0.6, idle = Math.Max(0, cpuTotal * 0.2 - sweep - markTerm);
            var (start, end, live, goal) = phase && !burst ? (98, 100, 97, 100) : (38, 40, 20, 40);
            int cumulative = 1 + (cumulativeRises && !burst ? (Math.Min(n, PhaseLast) - (PhaseFirst - 1)) / 4 : 0);
            if (n < PhaseFirst) cumulative = 1;
            sb.Append(CultureInfo.InvariantCulture,
                $"gc {n} @{at:0.000}s {cumulative}%: {sweep:0.###}+{mark:0.###}+{markTerm:0.###} ms clock, " +
                $"{sweep * Procs:0.###}+{assist:0.###}/{background:0.###}/{idle:0.###}+{markTerm * Procs:0.###} ms cpu, " +
                $"{start}->{end}->{live} MB, {goal} MB goal, 0 MB stacks, 0 MB globals, {Procs} P{(n == Forced ? " (forced)" : "")}\n");
        }
        return sb.ToString();
    }
}
