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

    public GoroutineBucket Add(Goroutine g) =>
        Add(g.Id, g.State, g.StateId, g.WaitMinutes, g.LockedToThread, g.StackUnavailable, g.Frames, g.CreatedBy, () => g);

    /// <summary>
    /// Folds one goroutine in. The Goroutine object is only built (by <paramref name="materialize"/>) when it
    /// starts a new bucket: the other 99,965 goroutines of a big dump cost no allocation here.
    /// </summary>
    public GoroutineBucket Add(long id, string state, int stateId, int minutes, bool locked, bool unavailable,
        ReadOnlySpan<StackFrame> frames, StackFrame? createdBy, Func<Goroutine> materialize)
    {
        ulong h = Hash(state, stateId, unavailable, frames, createdBy);
        if (!_byHash.TryGetValue(h, out var list))
        {
            list = new List<GoroutineBucket>(1);
            _byHash[h] = list;
        }
        GoroutineBucket? bucket = null;
        foreach (var b in list)
        {
            if (SameStack(b.Representative, state, unavailable, frames, createdBy))
            {
                bucket = b;
                break;
            }
        }
        if (bucket is null)
        {
            var g = materialize();
            bucket = new GoroutineBucket { State = g.State, Representative = g };
            list.Add(bucket);
            _all.Add(bucket);
        }
        bucket.AddId(id);
        bucket.MaxWaitMinutes = Math.Max(bucket.MaxWaitMinutes, minutes);
        bucket.MinWaitMinutes = Math.Min(bucket.MinWaitMinutes, minutes);
        if (locked) bucket.LockedToThread++;
        return bucket;
    }

    /// <summary>Buckets, largest first (ties: lowest goroutine id first).</summary>
    public List<GoroutineBucket> Result()
    {
        var result = new List<GoroutineBucket>(_all);
        result.Sort(static (a, b) => a.Count != b.Count ? b.Count.CompareTo(a.Count) : a.Ids[0].CompareTo(b.Ids[0]));
        return result;
    }

    private static ulong Hash(string state, int stateId, bool unavailable, ReadOnlySpan<StackFrame> frames, StackFrame? createdBy)
    {
        var h = new HashCode();
        h.Add(stateId >= 0 ? stateId : state.GetHashCode(StringComparison.Ordinal));
        h.Add(unavailable);
        foreach (ref readonly var f in frames)
        {
            h.Add(f.FunctionId >= 0 ? f.FunctionId : f.Function.GetHashCode(StringComparison.Ordinal));
            h.Add(f.Line);
        }
        if (createdBy is { } c) h.Add(c.FunctionId >= 0 ? c.FunctionId : c.Function.GetHashCode(StringComparison.Ordinal));
        return (ulong)(uint)h.ToHashCode() | ((ulong)(uint)frames.Length << 32);
    }

    private static bool SameStack(Goroutine a, string state, bool unavailable, ReadOnlySpan<StackFrame> frames, StackFrame? createdBy)
    {
        if (!string.Equals(a.State, state, StringComparison.Ordinal) || a.Frames.Length != frames.Length || a.StackUnavailable != unavailable)
        {
            return false;
        }
        for (int i = 0; i < frames.Length; i++)
        {
            if (a.Frames[i].Line != frames[i].Line || !string.Equals(a.Frames[i].Function, frames[i].Function, StringComparison.Ordinal)) return false;
        }
        return string.Equals(a.CreatedBy?.Function, createdBy?.Function, StringComparison.Ordinal);
    }
}
