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
    private const int MaxSnapshots = 32;
    private const int MaxSites = 10_000;
    private readonly List<(long Line, Dictionary<(string CreatedBy, string Top), int> Counts)> _snapshots = [];
    private readonly Dictionary<(string, string), LeakSuspectEvent> _pending = [];

    /// <summary>
    /// A growing site is held back while it keeps growing, so a file reports the whole series once. It is released
    /// when the growth stops, when the stream goes idle (the worker's flush; the sinks upsert by stream and site), or at the end.
    /// </summary>
    public bool HasPending => _pending.Count > 0;

    /// <summary>
    /// The first snapshot a held-back suspect rests on: the stream's input from there on must stay readable
    /// (uncommitted) until the suspect is out, or a restart could not derive it again.
    /// </summary>
    public long? PendingSince => _pending.Count == 0 ? null : _pending.Values.Min(p => p.SnapshotLines[0]);

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
            if (b.CreatedBy is not { } createdBy || IsExpected(createdBy, b.Representative)) continue;
            var key = (createdBy, WaitSite.OutsideRuntimeName(b.Representative));
            if (counts.Count >= MaxSites && !counts.ContainsKey(key)) continue;
            counts[key] = counts.GetValueOrDefault(key) + b.Count;
        }
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

    private static bool IsExpected(string createdBy, Goroutine g)
    {
        string pkg = GoNames.PackageOf(createdBy);
        if (GoNames.IsRuntimePackage(pkg) || pkg == "os/signal" || pkg == "testing") return true;
        foreach (var f in g.Frames)
        {
            if (f.Function is "os/signal.signal_recv" or "os/signal.loop" or "runtime.ReadTrace" or "runtime.ensureSigM.func1") return true;
        }
        return false;
    }
}
