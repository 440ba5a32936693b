namespace Ingest.GoRuntime.Analysis.Gc;

/// <summary>Knobs of the GC detectors. Defaults are quiet on healthy services and on microsecond noise.</summary>
public sealed class GcAnalyticsOptions
{
    public const string SectionName = "GcAnalytics";

    /// <summary>Cycles of an instance the rolling pause baseline (median, MAD) is computed over.</summary>
    public int BaselineCycles { get; set; } = 50;

    /// <summary>Cycles an instance must have shown before any baseline detector speaks.</summary>
    public int MinBaselineCycles { get; set; } = 10;

    /// <summary>Pause outlier: this many robust standard deviations (1.4826 × MAD) above the median...</summary>
    public double PauseMadThreshold { get; set; } = 6;

    /// <summary>
    /// ...and at least this far above the median, so jitter never alerts: on a busy node the OS preempting a
    /// thread during stop-the-world adds a millisecond or two (the corpus has 1.4 and 1.9 ms spikes over a
    /// 0.13 ms median), which no SRE wants paged for.
    /// </summary>
    public double PauseFloorMs { get; set; } = 2.0;

    /// <summary>Optional absolute pause SLO per service name (ms); "*" applies to every service.</summary>
    public Dictionary<string, double> PauseSloMs { get; set; } = [];

    /// <summary>Pacer overshoot: heap at mark termination above the goal by more than this fraction...</summary>
    public double OvershootFraction { get; set; } = 0.10;

    /// <summary>...for this many cycles in a row.</summary>
    public int OvershootCycles { get; set; } = 3;

    /// <summary>Thrash: recent cycles compared against the baseline before them.</summary>
    public int ThrashWindowCycles { get; set; } = 5;

    /// <summary>Thrash when the recent median interval is at most this fraction of the baseline's...</summary>
    public double ThrashIntervalRatio { get; set; } = 0.25;

    /// <summary>
    /// ...while the live heap stays at least this fraction of its goal (median of the recent cycles). GOGC=100
    /// keeps it near half; this close, the pacer has no room left (GOMEMLIMIT reached, or a leak at the limit).
    /// A burst of allocation shortens intervals too, but leaves the live heap where it was.
    /// </summary>
    public double ThrashHeapGoalFraction { get; set; } = 0.80;

    /// <summary>
    /// GC CPU raises the confidence of a thrash, never vetoes it (the per-cycle estimate misses assist time
    /// charged to mutators): the recent GC CPU fraction at least this multiple of the baseline's...
    /// </summary>
    public double ThrashCpuRatio { get; set; } = 2.0;

    /// <summary>...and at least this absolute fraction of the instance's CPU...</summary>
    public double ThrashMinCpuFraction { get; set; } = 0.20;

    /// <summary>...or gctrace's cumulative GC CPU column (% since start) up by at least this many points over the baseline.</summary>
    public int ThrashCumulativeCpuRise { get; set; } = 2;

    /// <summary>Heap growth: live heap this many times the smallest live heap of the window...</summary>
    public double HeapGrowthFactor { get; set; } = 2.0;

    /// <summary>...where the baseline is the median of this many cycles before the last three...</summary>
    public int HeapGrowthWindowCycles { get; set; } = 20;

    /// <summary>...and the grown heap is at least this large (tiny heaps double all the time).</summary>
    public double HeapGrowthMinMb { get; set; } = 16;

    /// <summary>No growth findings in a process's first seconds (gctrace's @ clock): heaps grow from nothing then.</summary>
    public double HeapGrowthWarmupSeconds { get; set; } = 60;

    /// <summary>Cycles per service the impact-factor regression looks back over.</summary>
    public int ImpactWindowCycles { get; set; } = 500;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (BaselineCycles < 5) errors.Add("GcAnalytics:BaselineCycles must be at least 5");
        if (MinBaselineCycles < 3 || MinBaselineCycles > BaselineCycles) errors.Add("GcAnalytics:MinBaselineCycles must be between 3 and BaselineCycles");
        if (PauseMadThreshold <= 0) errors.Add("GcAnalytics:PauseMadThreshold must be positive");
        if (PauseFloorMs < 0) errors.Add("GcAnalytics:PauseFloorMs must not be negative");
        if (PauseSloMs.Values.Any(v => v <= 0)) errors.Add("GcAnalytics:PauseSloMs values must be positive");
        if (OvershootFraction <= 0) errors.Add("GcAnalytics:OvershootFraction must be positive");
        if (OvershootCycles < 1) errors.Add("GcAnalytics:OvershootCycles must be at least 1");
        if (ThrashWindowCycles < 2) errors.Add("GcAnalytics:ThrashWindowCycles must be at least 2");
        if (ThrashIntervalRatio is <= 0 or >= 1) errors.Add("GcAnalytics:ThrashIntervalRatio must be between 0 and 1");
        if (ThrashHeapGoalFraction is <= 0 or > 1) errors.Add("GcAnalytics:ThrashHeapGoalFraction must be above 0 and at most 1");
        if (ThrashCpuRatio < 1) errors.Add("GcAnalytics:ThrashCpuRatio must be at least 1");
        if (ThrashCumulativeCpuRise < 1) errors.Add("GcAnalytics:ThrashCumulativeCpuRise must be at least 1");
        if (HeapGrowthFactor <= 1) errors.Add("GcAnalytics:HeapGrowthFactor must be above 1");
        if (HeapGrowthWindowCycles < 2) errors.Add("GcAnalytics:HeapGrowthWindowCycles must be at least 2");
        if (ImpactWindowCycles < 10) errors.Add("GcAnalytics:ImpactWindowCycles must be at least 10");
        return errors;
    }
}
