using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis.Gc;

/// <summary>
/// What one gctrace cycle means once the previous cycle of the same instance is known: the stop-the-world
/// pause, the interval, the GC CPU fraction over the interval, the allocation rate and the pacer's accuracy.
/// Fields that need a previous cycle are null on an instance's first cycle (or after a restart of it).
/// </summary>
public sealed record GcSample
{
    public required int Num { get; init; }
    public required double AtSeconds { get; init; }
    /// <summary>Sweep termination + mark termination, wall clock.</summary>
    public required double PauseMs { get; init; }
    public required double ConcurrentMarkMs { get; init; }
    public double? IntervalSeconds { get; init; }
    /// <summary>GC CPU (all cpu phases) over the interval's CPU capacity (interval × GOMAXPROCS), 0..1.</summary>
    public double? CpuFraction { get; init; }
    /// <summary>(heap at this cycle's start − previous live heap) / interval.</summary>
    public double? AllocRateMbPerSecond { get; init; }
    public required double HeapLiveMb { get; init; }
    public required double HeapGoalMb { get; init; }
    /// <summary>Heap at mark termination over the goal, minus one: 0.25 is 25% above the goal.</summary>
    public required double GoalOvershoot { get; init; }
    public required int Procs { get; init; }
    /// <summary>gctrace's own % column: GC CPU since the process started.</summary>
    public int CumulativeCpuPercent { get; init; }
    public required bool Forced { get; init; }
    /// <summary>Goroutines of the instance when a dump of it was last seen, if ever.</summary>
    public int? Goroutines { get; init; }

    public static GcSample From(GcCycle cycle, GcCycle? previous, int? goroutines)
    {
        // A lower cycle number means the process restarted: the previous cycle belongs to another life.
        if (previous is not null && (previous.Num >= cycle.Num || previous.AtSeconds >= cycle.AtSeconds)) previous = null;
        double? interval = previous is null ? null : cycle.AtSeconds - previous.AtSeconds;
        double cpuMs = 0;
        foreach (double ms in cycle.CpuPhasesMs) cpuMs += ms;
        return new GcSample
        {
            Num = cycle.Num,
            AtSeconds = cycle.AtSeconds,
            PauseMs = cycle.PauseMs,
            ConcurrentMarkMs = cycle.ConcurrentMarkMs,
            IntervalSeconds = interval,
            CpuFraction = interval is > 0 && cycle.Procs > 0 ? Math.Min(1, cpuMs / (interval.Value * 1000 * cycle.Procs)) : null,
            AllocRateMbPerSecond = interval is > 0 ? Math.Max(0, cycle.HeapStartMb - previous!.HeapLiveMb) / interval.Value : null,
            HeapLiveMb = cycle.HeapLiveMb,
            HeapGoalMb = cycle.HeapGoalMb,
            GoalOvershoot = cycle.HeapGoalMb > 0 ? cycle.HeapEndMb / cycle.HeapGoalMb - 1 : 0,
            Procs = cycle.Procs,
            CumulativeCpuPercent = cycle.CpuPercent,
            Forced = cycle.Forced || cycle.Periodic,
            Goroutines = goroutines,
        };
    }
}
