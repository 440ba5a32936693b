using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis.Gc;

/// <summary>
/// The GC series of one instance (one process of one service): derives a <see cref="GcSample"/> per gctrace
/// cycle and runs the detectors on it. Memory is bounded by the option windows, whatever the input.
/// Forced cycles (runtime.GC, debug.FreeOSMemory, the periodic 2-minute GC) are derived and reported but never
/// alert and never enter a baseline: their pauses and heaps answer a different question than heap pressure.
/// A cycle number that goes backwards is a restart of the process: the series starts over.
/// </summary>
public sealed class GcInstanceAnalyzer(GcAnalyticsOptions options, string service)
{
    private readonly GcAnalyticsOptions _options = options;
    private readonly double? _slo = options.PauseSloMs.TryGetValue(service, out double s) ? s : options.PauseSloMs.TryGetValue("*", out double all) ? all : null;
    private GcCycle? _previous;
    // Pauses of recent non-forced cycles (the outlier baseline).
    private readonly Window<double> _pauses = new(options.BaselineCycles);
    // Live heaps of recent non-forced cycles (the growth window).
    private readonly Window<double> _live = new(options.HeapGrowthWindowCycles + RecentLiveCycles);
    // Thrash: the most recent cycles, and the baseline of cycles that left them without being part of a thrash.
    private readonly Window<ThrashPoint> _recent = new(options.ThrashWindowCycles);
    private readonly Window<ThrashPoint> _calm = new(options.BaselineCycles);

    private readonly record struct ThrashPoint(double Interval, double Cpu, double LiveOfGoal, int CumulativeCpu, bool Flagged);
    private int _overshootRun;

    /// <summary>Goroutine count of the instance from its latest dump, used as a factor of later cycles.</summary>
    public int? Goroutines { get; set; }

    public GcSample Observe(GcCycle cycle, List<GcAnomaly> anomalies)
    {
        if (_previous is not null && cycle.Num <= _previous.Num) Reset();
        var sample = GcSample.From(cycle, _previous, Goroutines);
        _previous = cycle;
        if (sample.Forced) return sample;

        PauseOutlier(sample, anomalies);
        if (_slo is { } slo && sample.PauseMs > slo)
            anomalies.Add(new GcAnomaly(GcAnomalyKind.PauseSlo, sample.Num, sample.PauseMs, slo, $"stop-the-world pause {sample.PauseMs:0.###} ms is above the service's SLO of {slo:0.###} ms"));
        PacerOvershoot(sample, anomalies);
        Thrash(sample, anomalies);
        HeapGrowth(sample, anomalies);
        return sample;
    }

    private void PauseOutlier(GcSample sample, List<GcAnomaly> anomalies)
    {
        if (_pauses.Count >= _options.MinBaselineCycles)
        {
            var (median, mad) = MedianAndMad(_pauses);
            double threshold = median + Math.Max(_options.PauseMadThreshold * 1.4826 * mad, _options.PauseFloorMs);
            if (sample.PauseMs > threshold)
            {
                anomalies.Add(new GcAnomaly(GcAnomalyKind.PauseOutlier, sample.Num, sample.PauseMs, threshold,
                    $"stop-the-world pause {sample.PauseMs:0.###} ms against a median of {median:0.###} ms (MAD {mad:0.###} ms) over the last {_pauses.Count} cycles; threshold {threshold:0.###} ms"));
            }
        }
        _pauses.Add(sample.PauseMs);
    }

    private void PacerOvershoot(GcSample sample, List<GcAnomaly> anomalies)
    {
        _overshootRun = sample.GoalOvershoot > _options.OvershootFraction ? _overshootRun + 1 : 0;
        if (_overshootRun >= _options.OvershootCycles)
        {
            anomalies.Add(new GcAnomaly(GcAnomalyKind.PacerOvershoot, sample.Num, sample.GoalOvershoot, _options.OvershootFraction,
                $"heap at mark termination {sample.GoalOvershoot:P0} above the {sample.HeapGoalMb:0.#} MB goal, {_overshootRun} cycles in a row (limit {_options.OvershootFraction:P0})"));
        }
    }

    /// <summary>
    /// Thrash is the collapse of GC intervals with the live heap pinned near its goal. GC CPU (the per-cycle
    /// estimate, and the rise of gctrace's cumulative column) raises the confidence; it cannot veto, because the
    /// per-cycle estimate stays low when the cycles are short and most of the cost is mutator assists.
    /// Value is the collapse factor (baseline interval over recent interval).
    /// </summary>
    private void Thrash(GcSample sample, List<GcAnomaly> anomalies)
    {
        if (sample.IntervalSeconds is not { } interval || sample.CpuFraction is not { } cpu || sample.HeapGoalMb <= 0) return;
        // A cycle leaves the recent window into the calm baseline only if no thrash was reported while it was
        // recent, so a long thrash phase never becomes its own baseline.
        if (_recent.Count == _recent.Capacity && !_recent.Oldest.Flagged) _calm.Add(_recent.Oldest);
        _recent.Add(new ThrashPoint(interval, cpu, sample.HeapLiveMb / sample.HeapGoalMb, sample.CumulativeCpuPercent, false));
        if (_recent.Count < _recent.Capacity || _calm.Count < _options.MinBaselineCycles) return;
        var intervals = _recent.Items().Select(r => r.Interval).ToList();
        double recentInterval = Median(intervals);
        double baseInterval = Median(_calm.Items().Select(c => c.Interval).ToList());
        double liveOfGoal = Median(_recent.Items().Select(r => r.LiveOfGoal).ToList());
        if (recentInterval > _options.ThrashIntervalRatio * baseInterval || liveOfGoal < _options.ThrashHeapGoalFraction || recentInterval <= 0) return;

        double recentCpu = _recent.Items().Average(r => r.Cpu);
        double baseCpu = Median(_calm.Items().Select(c => c.Cpu).ToList());
        double cpuThreshold = Math.Max(_options.ThrashCpuRatio * baseCpu, _options.ThrashMinCpuFraction);
        int rise = sample.CumulativeCpuPercent - (int)Median(_calm.Items().Select(c => (double)c.CumulativeCpu).ToList());
        bool cpuHigh = recentCpu >= cpuThreshold, cumulativeUp = rise >= _options.ThrashCumulativeCpuRise;
        double confidence = 0.6 + (cpuHigh ? 0.2 : 0) + (cumulativeUp ? 0.2 : 0);
        _recent.MarkAll(static r => r with { Flagged = true });
        anomalies.Add(new GcAnomaly(GcAnomalyKind.Thrash, sample.Num, baseInterval / recentInterval, 1 / _options.ThrashIntervalRatio,
            $"GC every {recentInterval * 1000:0.#} ms over the last {intervals.Count} cycles against {baseInterval * 1000:0.#} ms before, " +
            $"with the live heap at {liveOfGoal:P0} of its goal (GOMEMLIMIT death-spiral shape); GC takes {recentCpu:P0} of the CPU per cycle " +
            $"against {baseCpu:P0} before{(cpuHigh ? string.Empty : $" (under the {cpuThreshold:P0} floor)")}, cumulative GC CPU {(rise >= 0 ? "+" : string.Empty)}{rise} points",
            confidence));
    }

    private void HeapGrowth(GcSample sample, List<GcAnomaly> anomalies)
    {
        _live.Add(sample.HeapLiveMb);
        // Level against level: the median of the last few cycles against the median of the window before them,
        // so one cycle that marked a burst of garbage as live is not growth. A process's first minute is its
        // warm-up: heaps grow from nothing then by design.
        int recentCount = Math.Min(RecentLiveCycles, _live.Count);
        int baselineCount = _live.Count - recentCount;
        if (sample.AtSeconds < _options.HeapGrowthWarmupSeconds || baselineCount < Math.Min(_options.MinBaselineCycles, _options.HeapGrowthWindowCycles)) return;
        var all = _live.Items().ToList();
        double baseline = Median(all.GetRange(0, baselineCount));
        double recent = Median(all.GetRange(baselineCount, recentCount));
        double threshold = Math.Max(baseline * _options.HeapGrowthFactor, _options.HeapGrowthMinMb);
        if (recent >= threshold && baseline > 0)
        {
            anomalies.Add(new GcAnomaly(GcAnomalyKind.HeapGrowth, sample.Num, recent, threshold,
                $"live heap {recent:0.#} MB over the last {recentCount} cycles is {recent / baseline:0.#}× the {baseline:0.#} MB of the {baselineCount} cycles before"));
        }
    }

    private const int RecentLiveCycles = 3;

    /// <summary>Cycles of history the windows hold at most (the calm baseline takes cycles as they leave the recent window).</summary>
    public static int WindowCycles(GcAnalyticsOptions options) =>
        Math.Max(options.BaselineCycles + options.ThrashWindowCycles, options.HeapGrowthWindowCycles + RecentLiveCycles) + 1;

    private void Reset()
    {
        _previous = null;
        _pauses.Clear();
        _live.Clear();
        _recent.Clear();
        _calm.Clear();
        _overshootRun = 0;
    }

    internal static (double Median, double Mad) MedianAndMad(Window<double> window)
    {
        var values = window.Items().ToList();
        double median = Median(values);
        var deviations = values.Select(v => Math.Abs(v - median)).ToList();
        return (median, Median(deviations));
    }

    internal static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n == 0 ? 0 : n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}

/// <summary>A fixed-capacity ring of the latest values.</summary>
internal sealed class Window<T>(int capacity)
{
    private readonly T[] _items = new T[capacity];
    private int _start;

    public int Count { get; private set; }
    public int Capacity => _items.Length;
    public T Oldest => _items[_start];

    public void Add(T item)
    {
        if (Count < _items.Length)
        {
            _items[(_start + Count) % _items.Length] = item;
            Count++;
        }
        else
        {
            _items[_start] = item;
            _start = (_start + 1) % _items.Length;
        }
    }

    public void MarkAll(Func<T, T> change)
    {
        for (int i = 0; i < Count; i++)
        {
            int j = (_start + i) % _items.Length;
            _items[j] = change(_items[j]);
        }
    }

    public void Clear()
    {
        _start = 0;
        Count = 0;
    }

    public IEnumerable<T> Items()
    {
        for (int i = 0; i < Count; i++) yield return _items[(_start + i) % _items.Length];
    }
}
