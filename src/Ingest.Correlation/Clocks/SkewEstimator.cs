namespace Ingest.Correlation.Clocks;

/// <summary>
/// How far each node's clock is behind its callers', from causal pairs: a child span that starts before its
/// parent by the child node's clock shows that node lagging the parent's node by at least that much (a child
/// cannot start before its parent). Only lower bounds are learned this way; the estimate of a node is its
/// largest bound, relative to the callers seen (a node that is ahead never produces a violation).
/// </summary>
public sealed class SkewEstimator
{
    private readonly Dictionary<string, long> _lagNanos = new(StringComparer.Ordinal);

    /// <summary>Observes that <paramref name="childNode"/>'s event at <paramref name="childStart"/> was caused by
    /// <paramref name="parentNode"/>'s at <paramref name="parentStart"/> (both by their own clocks).</summary>
    public void Observe(string parentNode, long parentStart, string childNode, long childStart)
    {
        if (parentNode == childNode) return;
        long lag = parentStart - childStart;
        if (lag <= 0) return;
        // The parent's own lag adds up: if the parent lags the root by x, the child lags the root by x + lag.
        long total = lag + _lagNanos.GetValueOrDefault(parentNode);
        if (total > _lagNanos.GetValueOrDefault(childNode)) _lagNanos[childNode] = total;
    }

    /// <summary>At least this many nanoseconds behind (0 when no causal pair showed a lag).</summary>
    public long LagNanos(string node) => _lagNanos.GetValueOrDefault(node);

    public IReadOnlyDictionary<string, long> All => _lagNanos;
}
