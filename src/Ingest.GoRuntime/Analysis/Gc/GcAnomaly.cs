namespace Ingest.GoRuntime.Analysis.Gc;

public enum GcAnomalyKind
{
    PauseOutlier,
    PauseSlo,
    PacerOvershoot,
    Thrash,
    HeapGrowth,
}

/// <summary>
/// A detector's finding on one cycle, with the numbers that made it fire and why, in words. Confidence (0..1)
/// is below 1 when supporting evidence is missing (a thrash whose GC CPU did not rise).
/// </summary>
public sealed record GcAnomaly(GcAnomalyKind Kind, int Cycle, double Value, double Threshold, string Reason, double Confidence = 1)
{
    public static string KindName(GcAnomalyKind kind) => kind switch
    {
        GcAnomalyKind.PauseOutlier => "pause_outlier",
        GcAnomalyKind.PauseSlo => "pause_slo",
        GcAnomalyKind.PacerOvershoot => "pacer_overshoot",
        GcAnomalyKind.Thrash => "gc_thrash",
        GcAnomalyKind.HeapGrowth => "heap_growth",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static readonly IReadOnlyList<GcAnomalyKind> AllKinds = Enum.GetValues<GcAnomalyKind>();
}
