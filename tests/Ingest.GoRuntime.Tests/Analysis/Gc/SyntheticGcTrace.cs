using System.Globalization;
using System.Text;

namespace Ingest.GoRuntime.Tests.Analysis.Gc;

/// <summary>
/// Writes gctrace lines of one instance with known anomalies at known cycles, in Go 1.19's format, so the
/// detectors are tested through the same parser production uses. Deterministic: a seeded jitter.
/// Phases (cycle numbers):
///   1–199 steady: every 500 ms (±10%), pause 0.05–0.14 ms, 40->42->20 MB, 42 MB goal, GC CPU ≈ 1.5%;
///   60 one pause spike (12 ms sweep termination);
///   80–84 pacer overshoot (heap at mark termination 50 MB against a 42 MB goal);
///   100 a forced cycle with a 30 ms pause and a 5 MB live heap (must not alert);
///   120–139 thrash: every 50 ms, GC CPU 40%, heap pinned near the goal;
///   160–199 the live heap triples (20 → 60 MB) and stays there.
/// </summary>
public static class SyntheticGcTrace
{
    public const int Cycles = 199;
    public const int PauseSpike = 60;
    public static readonly int[] Overshoot = [80, 81, 82, 83, 84];
    public const int Forced = 100;
    public const int ThrashFirst = 120, ThrashLast = 139;
    public const int GrowthFirst = 160;

    public static string Write(int seed = 7)
    {
        var rng = new Random(seed);
        var sb = new StringBuilder();
        double at = 0;
        for (int n = 1; n <= Cycles; n++)
        {
            bool thrash = n is >= ThrashFirst and <= ThrashLast;
            double interval = (thrash ? 0.050 : 0.500) * (0.9 + 0.2 * rng.NextDouble());
            at += interval;
            double sweep = 0.02 + 0.04 * rng.NextDouble();
            double markTerm = 0.03 + 0.05 * rng.NextDouble();
            double mark = 1.5 + rng.NextDouble();
            if (n == PauseSpike) sweep = 12;
            if (n == Forced) sweep = 30;
            int procs = 4;
            // GC CPU over the interval's capacity: ~1.5% steady, 40% while thrashing.
            double cpuTotal = (thrash ? 0.40 : 0.015) * interval * 1000 * procs;
            double assist = cpuTotal * 0.2, background = cpuTotal * 0.6, idle = cpuTotal * 0.2 - sweep - markTerm;
            idle = Math.Max(0, idle);
            int start = 40, end = 42, live = 20, goal = 42;
            if (Array.IndexOf(Overshoot, n) >= 0) end = 50;
            if (n == Forced) live = 5;
            if (thrash) (start, end, live, goal) = (41, 42, 35, 42);
            if (n >= GrowthFirst) (start, end, live, goal) = (80, 82, 60, 120);
            int cumulativeCpu = thrash ? 12 : 2;
            sb.Append(CultureInfo.InvariantCulture,
                $"gc {n} @{at:0.000}s {cumulativeCpu}%: {sweep:0.###}+{mark:0.###}+{markTerm:0.###} ms clock, " +
                $"{sweep * procs:0.###}+{assist:0.###}/{background:0.###}/{idle:0.###}+{markTerm * procs:0.###} ms cpu, " +
                $"{start}->{end}->{live} MB, {goal} MB goal, 0 MB stacks, 0 MB globals, {procs} P{(n == Forced ? " (forced)" : "")}\n");
        }
        return sb.ToString();
    }
}
