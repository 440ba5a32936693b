using System.Globalization;

namespace Ingest.Correlation.Clocks;

/// <summary>
/// A hybrid logical clock stamp (Kulkarni et al., "Logical Physical Clocks", 2014): <see cref="Wall"/> is the
/// largest physical time (Unix nanoseconds) the node has heard of, <see cref="Logical"/> orders events that
/// share it. Compared lexicographically; <see cref="NodeStamp"/> adds the node id for a total order.
/// Text form <c>&lt;unix-nanos&gt;,&lt;logical&gt;</c>, as services write it in the <c>hlc</c> log field.
/// </summary>
public readonly record struct HybridTimestamp(long Wall, int Logical) : IComparable<HybridTimestamp>
{
    public int CompareTo(HybridTimestamp other)
    {
        int c = Wall.CompareTo(other.Wall);
        return c != 0 ? c : Logical.CompareTo(other.Logical);
    }

    public static bool operator <(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) < 0;
    public static bool operator >(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) > 0;
    public static bool operator <=(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(HybridTimestamp a, HybridTimestamp b) => a.CompareTo(b) >= 0;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Wall},{Logical}");

    /// <summary>Parses "&lt;unix-nanos&gt;,&lt;logical&gt;"; anything else (log text is untrusted) is no stamp.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out HybridTimestamp stamp)
    {
        stamp = default;
        int comma = text.IndexOf(',');
        if (comma <= 0 || comma > 20) return false;
        if (!long.TryParse(text[..comma].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long wall)) return false;
        if (!int.TryParse(text[(comma + 1)..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int logical)) return false;
        stamp = new HybridTimestamp(wall, logical);
        return true;
    }
}

/// <summary>A stamp with the node that made it: ties between nodes break by node id, giving a total order.</summary>
public readonly record struct NodeStamp(HybridTimestamp Stamp, string Node) : IComparable<NodeStamp>
{
    public int CompareTo(NodeStamp other)
    {
        int c = Stamp.CompareTo(other.Stamp);
        return c != 0 ? c : string.CompareOrdinal(Node, other.Node);
    }

    public static bool operator <(NodeStamp a, NodeStamp b) => a.CompareTo(b) < 0;
    public static bool operator >(NodeStamp a, NodeStamp b) => a.CompareTo(b) > 0;
    public static bool operator <=(NodeStamp a, NodeStamp b) => a.CompareTo(b) <= 0;
    public static bool operator >=(NodeStamp a, NodeStamp b) => a.CompareTo(b) >= 0;
}
