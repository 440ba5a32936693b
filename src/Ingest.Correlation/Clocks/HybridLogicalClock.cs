namespace Ingest.Correlation.Clocks;

/// <summary>
/// One node's hybrid logical clock, exactly the update rules of Kulkarni et al. 2014 (Figure 5):
/// <list type="bullet">
/// <item>send or local event: l' = max(l, pt); c = (l' == l) ? c + 1 : 0; l = l'</item>
/// <item>receive of (l_m, c_m): l' = max(l, l_m, pt); c = l' == l == l_m ? max(c, c_m) + 1 : l' == l ? c + 1 :
/// l' == l_m ? c_m + 1 : 0; l = l'</item>
/// </list>
/// A received stamp more than <see cref="MaxOffsetNanos"/> ahead of this node's physical clock is not merged
/// (it would drag every clock it reaches forward): the event becomes a local event here and is reported as
/// clock skew, the policy of CockroachDB's UpdateAndCheckMaxOffset.
/// </summary>
public sealed class HybridLogicalClock(string node, long maxOffsetNanos)
{
    private HybridTimestamp _last;

    public string Node { get; } = node;
    public long MaxOffsetNanos { get; } = maxOffsetNanos;
    public HybridTimestamp Last => _last;

    /// <summary>Remote stamps refused because they were too far ahead.</summary>
    public long SkewRejections { get; private set; }

    /// <summary>A local or send event at physical time <paramref name="physical"/> (Unix nanoseconds).</summary>
    public HybridTimestamp Local(long physical)
    {
        long l = Math.Max(_last.Wall, physical);
        int c = l == _last.Wall ? checked(_last.Logical + 1) : 0;
        _last = new HybridTimestamp(l, c);
        return _last;
    }

    /// <summary>
    /// A receive of <paramref name="remote"/> at physical time <paramref name="physical"/>. Returns false (and
    /// stamps the event as local) when the remote stamp is beyond the maximum offset.
    /// </summary>
    /// <param name="late">The event is processed after later events of this node (it arrived beyond the
    /// reorder window): its physical time is behind this clock, so the offset is measured from the clock.</param>
    public bool Receive(HybridTimestamp remote, long physical, out HybridTimestamp stamp, bool late = false)
    {
        long reference = late ? Math.Max(physical, _last.Wall) : physical;
        if (remote.Wall - reference > MaxOffsetNanos)
        {
            SkewRejections++;
            stamp = Local(physical);
            return false;
        }
        long l = Math.Max(Math.Max(_last.Wall, remote.Wall), physical);
        int c;
        if (l == _last.Wall && l == remote.Wall) c = checked(Math.Max(_last.Logical, remote.Logical) + 1);
        else if (l == _last.Wall) c = checked(_last.Logical + 1);
        else if (l == remote.Wall) c = checked(remote.Logical + 1);
        else c = 0;
        _last = new HybridTimestamp(l, c);
        stamp = _last;
        return true;
    }
}
