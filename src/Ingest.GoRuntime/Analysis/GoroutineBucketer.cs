using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// Groups goroutines by state and identical stack (function and line of every frame, plus the creating
/// function), ignoring arguments. Arguments are ignored on purpose: since Go 1.18 stale register values
/// print as <c>0x1?</c>, <c>0x2?</c>, and keying on them splits one stack into thousands of buckets.
/// Goroutines are folded in as they are parsed, so memory grows with distinct stacks, not with goroutines.
/// </summary>
public sealed class GoroutineBucketer
{
    private readonly Dictionary<ulong, List<GoroutineBucket>> _byHash = [];
    private readonly List<GoroutineBucket> _all = [];

    public int BucketCount => _all.Count;

    public GoroutineBucket Add(Goroutine g)
    {
        ulong h = Hash(g);
        if (!_byHash.TryGetValue(h, out var list))
        {
            list = new List<GoroutineBucket>(1);
            _byHash[h] = list;
        }
        GoroutineBucket? bucket = null;
        foreach (var b in list)
        {
            if (SameStack(b.Representative, g))
            {
                bucket = b;
                break;
            }
        }
        if (bucket is null)
        {
            bucket = new GoroutineBucket { State = g.State, Representative = g };
            list.Add(bucket);
            _all.Add(bucket);
        }
        bucket.Ids.Add(g.Id);
        bucket.MaxWaitMinutes = Math.Max(bucket.MaxWaitMinutes, g.WaitMinutes);
        bucket.MinWaitMinutes = Math.Min(bucket.MinWaitMinutes, g.WaitMinutes);
        if (g.LockedToThread) bucket.LockedToThread++;
        return bucket;
    }

    /// <summary>Buckets, largest first (ties: lowest goroutine id first).</summary>
    public List<GoroutineBucket> Result()
    {
        var result = new List<GoroutineBucket>(_all);
        result.Sort(static (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Ids[0].CompareTo(b.Ids[0]));
        return result;
    }

    private static ulong Hash(Goroutine g)
    {
        var h = new HashCode();
        h.Add(g.StateId >= 0 ? g.StateId : g.State.GetHashCode(StringComparison.Ordinal));
        h.Add(g.StackUnavailable);
        foreach (var f in g.Frames)
        {
            h.Add(f.FunctionId >= 0 ? f.FunctionId : f.Function.GetHashCode(StringComparison.Ordinal));
            h.Add(f.Line);
        }
        if (g.CreatedBy is { } c) h.Add(c.FunctionId >= 0 ? c.FunctionId : c.Function.GetHashCode(StringComparison.Ordinal));
        return (ulong)(uint)h.ToHashCode() | ((ulong)(uint)g.Frames.Length << 32);
    }

    private static bool SameStack(Goroutine a, Goroutine b)
    {
        if (!string.Equals(a.State, b.State, StringComparison.Ordinal) || a.Frames.Length != b.Frames.Length ||
            a.StackUnavailable != b.StackUnavailable)
        {
            return false;
        }
        for (int i = 0; i < a.Frames.Length; i++)
        {
            if (a.Frames[i].Line != b.Frames[i].Line || !string.Equals(a.Frames[i].Function, b.Frames[i].Function, StringComparison.Ordinal)) return false;
        }
        return string.Equals(a.CreatedBy?.Function, b.CreatedBy?.Function, StringComparison.Ordinal);
    }
}
