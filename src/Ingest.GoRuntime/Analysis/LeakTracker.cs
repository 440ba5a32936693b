using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Watches successive goroutine dumps of one stream. A creation site (created-by function plus the first
/// frame outside the runtime) whose count grows across consecutive snapshots is a leak suspect. Like
/// uber-go/goleak, goroutines that belong to the runtime or are expected to live forever are ignored:
/// the main goroutine, runtime-created goroutines, os/signal's loop.
/// </summary>
public sealed class LeakTracker(AnalyzerOptions options)
{
    /// <summary>Snapshots kept per stream: also how many stored dumps a restart restores.</summary>
    public const int MaxSnapshots = 32;
    private const int MaxSites = 10_000;
    private readonly List<(long Line, Dictionary<(string CreatedBy, string Top), int> Counts)> _snapshots = [];
    private readonly Dictionary<(string, string), LeakSuspectEvent> _pending = [];

    /// <summary>
    /// A growing site is held back while it keeps growing, so a file reports the whole series once. It is released
    /// when the growth stops, when the stream goes idle (the worker's flush; the sinks upsert by stream and site), or at the end.
    /// </summary>
    public bool HasPending => _pending.Count > 0;

    /// <summary>
    /// The first snapshot read by this run that a held-back suspect rests on: the stream's input from there on stays
    /// readable (uncommitted) until the suspect is out. Restored snapshots hold nothing: a restart restores them again.
    /// </summary>
    public long? PendingSince
    {
        get
        {
            long? min = null;
            foreach (var p in _pending.Values)
            {
                // Restored snapshots are in the store already: only the ones read since must stay readable.
                long first = p.SnapshotLines.FirstOrDefault(l => l > _restoredThrough, long.MaxValue);
                if (first != long.MaxValue && (min is null || first < min)) min = first;
            }
            return min;
        }
    }

    private long _restoredThrough = long.MinValue;

    public IEnumerable<LeakSuspectEvent> Drain()
    {
        var all = _pending.Values.ToList();
        _pending.Clear();
        return all;
    }

    public List<LeakSuspectEvent> AddSnapshot(string stream, long line, IReadOnlyList<GoroutineBucket> buckets)
    {
        var counts = new Dictionary<(string, string), int>();
        foreach (var b in buckets)
        {
            if (b.CreatedBy is not { } createdBy || IsExpected(createdBy, b.Representative.Frames.Select(f => f.Function))) continue;
            Count(counts, (createdBy, WaitSite.OutsideRuntimeName(b.Representative)), b.Count);
        }
        return Add(stream, line, counts);
    }

    /// <summary>
    /// A dump a previous run stored (after a restart, before the stream's new input): the same counting as
    /// <see cref="AddSnapshot"/> from the stored buckets, so the series goes on as without the restart. What it
    /// would release was released by that run.
    /// </summary>
    public void Restore(string stream, LeakSnapshot snapshot)
    {
        var counts = new Dictionary<(string, string), int>();
        foreach (var b in snapshot.Buckets)
        {
            if (b.CreatedBy is not { } createdBy || IsExpected(createdBy, b.Frames.Select(f => f.Function))) continue;
            Count(counts, (createdBy, OutsideRuntimeName(b.Frames)), b.Count);
        }
        Add(stream, snapshot.Line, counts);
        _restoredThrough = snapshot.Line;
    }

    private static void Count(Dictionary<(string, string), int> counts, (string, string) key, int n)
    {
        if (counts.Count >= MaxSites && !counts.ContainsKey(key)) return;
        counts[key] = counts.GetValueOrDefault(key) + n;
    }

    /// <summary><see cref="WaitSite.OutsideRuntimeName"/> over stored frames.</summary>
    private static string OutsideRuntimeName(IReadOnlyList<LeakSnapshot.Frame> frames)
    {
        foreach (var f in frames)
        {
            if (!GoNames.IsRuntimePackage(f.Package) && !f.Function.Contains(".runtime_", StringComparison.Ordinal)) return f.Function;
        }
        return frames.Count > 0 ? frames[0].Function : "?";
    }

    private List<LeakSuspectEvent> Add(string stream, long line, Dictionary<(string, string), int> counts)
    {
        _snapshots.Add((line, counts));
        if (_snapshots.Count > MaxSnapshots) _snapshots.RemoveAt(0);

        var released = new List<LeakSuspectEvent>();
        foreach (var key in _pending.Keys.ToList())
        {
            if (!counts.TryGetValue(key, out int now) || now <= _pending[key].Counts[^1])
            {
                released.Add(_pending[key]);
                _pending.Remove(key);
            }
        }
        foreach (var key in counts.Keys)
        {
            // Longest run of strictly growing counts ending at this snapshot.
            int run = 1;
            for (int i = _snapshots.Count - 2; i >= 0; i--)
            {
                int prev = _snapshots[i].Counts.GetValueOrDefault(key);
                int next = _snapshots[i + 1].Counts.GetValueOrDefault(key);
                if (prev >= next) break;
                run++;
            }
            if (run < options.LeakMinSnapshots) continue;
            var window = _snapshots.Skip(_snapshots.Count - run).ToList();
            var series = window.Select(s => s.Counts.GetValueOrDefault(key)).ToList();
            if (series[^1] - series[0] < options.LeakMinGrowth) continue;
            var suspect = new LeakSuspectEvent
            {
                Stream = stream,
                Line = line,
                EndLine = line,
                CreatedBy = key.Item1,
                TopFunction = key.Item2,
                Counts = series,
                GrowthPerSnapshot = (series[^1] - series[0]) / (double)(series.Count - 1),
                SnapshotLines = window.Select(s => s.Line).ToList(),
            };
            _pending[key] = suspect;
        }
        return released;
    }

    private static bool IsExpected(string createdBy, IEnumerable<string> functions)
    {
        string pkg = GoNames.PackageOf(createdBy);
        if (GoNames.IsRuntimePackage(pkg) || pkg == "os/signal" || pkg == "testing") return true;
        foreach (string f in functions)
        {
            if (f is "os/signal.signal_recv" or "os/signal.loop" or "runtime.ReadTrace" or "runtime.ensureSigM.func1") return true;
        }
        return false;
    }
}

/// <summary>A stored goroutine dump as the leak tracker counts it: its position and its buckets' creators and frames.</summary>
public sealed record LeakSnapshot(long Line, IReadOnlyList<LeakSnapshot.Bucket> Buckets)
{
    public sealed record Bucket(string? CreatedBy, IReadOnlyList<Frame> Frames, int Count);

    public readonly record struct Frame(string Function, string Package);
}
