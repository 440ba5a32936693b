using System.Collections;

namespace Ingest.GoRuntime.Scanning;

/// <summary>
/// Goroutine ids seen in the open event, to notice a second dump that starts right after the first.
/// Ids are small dense integers, so a bitmap (one bit per id) beats a hash set by an order of magnitude;
/// ids beyond <see cref="BitmapLimit"/> (hostile input) go to a bounded hash set.
/// </summary>
internal sealed class GoroutineIdSet
{
    private const long BitmapLimit = 1 << 24;
    private const int OverflowLimit = 1_000_000;
    private readonly BitArray _bits = new(1024);
    private readonly HashSet<long> _overflow = [];

    public bool Contains(long id) =>
        id is >= 0 and < BitmapLimit ? id < _bits.Length && _bits[(int)id] : _overflow.Contains(id);

    public void Add(long id)
    {
        if (id is >= 0 and < BitmapLimit)
        {
            if (id >= _bits.Length) _bits.Length = (int)Math.Min(BitmapLimit, Math.Max(id + 1, (long)_bits.Length * 2));
            _bits[(int)id] = true;
        }
        else if (_overflow.Count < OverflowLimit)
        {
            _overflow.Add(id);
        }
    }

    /// <summary>Bytes held: one goroutine id of 16 million alone sizes the bitmap to 2 MB, so the budget counts it.</summary>
    public long HeldBytes => _bits.Length / 8 + _overflow.Count * 24L;
}
