namespace Ingest.GoRuntime.Model;

/// <summary>
/// One <c>gctrace</c> line. Go 1.6+: three clock phases (sweep termination, concurrent mark, mark termination).
/// Go 1.5 printed five; then <see cref="ClockPhasesMs"/> keeps them all and the pause is first + last.
/// </summary>
public sealed record GcCycle
{
    public required int Num { get; init; }
    public required double AtSeconds { get; init; }
    public required int CpuPercent { get; init; }
    public required double StwSweepTerminationMs { get; init; }
    public required double ConcurrentMarkMs { get; init; }
    public required double StwMarkTerminationMs { get; init; }
    public double PauseMs => StwSweepTerminationMs + StwMarkTerminationMs;
    public required IReadOnlyList<double> ClockPhasesMs { get; init; }
    /// <summary>cpu phases: sweep term, assist, background, idle, mark term (ms).</summary>
    public required IReadOnlyList<double> CpuPhasesMs { get; init; }
    public required double HeapStartMb { get; init; }
    public required double HeapEndMb { get; init; }
    public required double HeapLiveMb { get; init; }
    public required double HeapGoalMb { get; init; }
    public double? StacksMb { get; init; }
    public double? GlobalsMb { get; init; }
    public required int Procs { get; init; }
    public required bool Forced { get; init; }
    /// <summary>The runtime printed "GC forced" before this cycle: the periodic (2-minute) GC, not heap pressure.</summary>
    public bool Periodic { get; init; }
}

/// <summary>The two <c>pacer:</c> lines (gcpacertrace=1) that precede a cycle's gctrace line.</summary>
public sealed record GcPacer
{
    public double? AssistRatio { get; init; }
    public int? CpuPercent { get; init; }
    public int? ExpectedCpuPercent { get; init; }
    public long? HeapGoalDeltaBytes { get; init; }
}

/// <summary><c>scav</c> (Go 1.14+) or <c>scvg</c> (older) scavenger line.</summary>
public sealed record GcScavenge
{
    public double? WorkKib { get; init; }
    public double? TotalKib { get; init; }
    public int? UtilPercent { get; init; }
    public double? ReleasedMb { get; init; }
    public double? InuseMb { get; init; }
    public double? IdleMb { get; init; }
    public double? SysMb { get; init; }
}
