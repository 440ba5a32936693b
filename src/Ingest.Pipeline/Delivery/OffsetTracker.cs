namespace Ingest.Pipeline.Delivery;

/// <summary>
/// The offset a partition may commit: never past the first offset of an event still being assembled, nor
/// of an event (or dead letter) handed on but not yet acknowledged, nor past what was consumed. Acks come
/// from the sink's thread; everything here is locked.
/// </summary>
public sealed class OffsetTracker(TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly object _gate = new();
    private readonly Dictionary<(string, int), PartitionState> _partitions = [];

    private sealed class PartitionState
    {
        public long NextToRead = -1;
        public readonly SortedDictionary<long, int> InFlight = [];
        public long LastStored = -1;
    }

    public void Consumed(string topic, int partition, long offset)
    {
        // Called per message by the one consumer thread; the sink thread only reads NextToRead under the lock
        // in SafeOffset. Take the lock only when the partition is new.
        var key = (topic, partition);
        if (_lastConsumed is { } last && last.Key == key)
        {
            if (offset + 1 > Volatile.Read(ref last.State.NextToRead)) Volatile.Write(ref last.State.NextToRead, offset + 1);
            return;
        }
        lock (_gate)
        {
            var p = Get(topic, partition);
            if (offset + 1 > p.NextToRead) p.NextToRead = offset + 1;
            _lastConsumed = new LastConsumed(key, p);
        }
    }

    private sealed record LastConsumed((string, int) Key, PartitionState State);

    private LastConsumed? _lastConsumed;

    public void InFlight(string topic, int partition, long firstOffset)
    {
        lock (_gate)
        {
            var inFlight = Get(topic, partition).InFlight;
            inFlight[firstOffset] = inFlight.GetValueOrDefault(firstOffset) + 1;
        }
    }

    public void Acked(string topic, int partition, long firstOffset)
    {
        lock (_gate)
        {
            if (!_partitions.TryGetValue((topic, partition), out var p)) return; // revoked meanwhile
            if (!p.InFlight.TryGetValue(firstOffset, out int n)) return;
            if (n <= 1) p.InFlight.Remove(firstOffset);
            else p.InFlight[firstOffset] = n - 1;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Blocks until none of the partitions has unacknowledged events, or the timeout passes.</summary>
    public bool WaitForAcks(IEnumerable<(string Topic, int Partition)> partitions, TimeSpan timeout)
    {
        long started = _time.GetTimestamp();
        var list = partitions.ToList();
        lock (_gate)
        {
            while (list.Exists(tp => _partitions.TryGetValue(tp, out var p) && p.InFlight.Count > 0))
            {
                var left = timeout - _time.GetElapsedTime(started);
                if (left <= TimeSpan.Zero) return false;
                Monitor.Wait(_gate, left);
            }
            return true;
        }
    }

    public int InFlightCount(string topic, int partition)
    {
        lock (_gate)
        {
            return _partitions.TryGetValue((topic, partition), out var p) ? p.InFlight.Values.Sum() : 0;
        }
    }

    /// <summary>
    /// The offset to store (the next message to read after a restart), or null when nothing new is safe.
    /// <paramref name="oldestOpen"/> is the first offset of the oldest event still being assembled.
    /// </summary>
    public long? SafeOffset(string topic, int partition, long? oldestOpen)
    {
        lock (_gate)
        {
            if (!_partitions.TryGetValue((topic, partition), out var p) || p.NextToRead < 0) return null;
            long safe = p.NextToRead;
            if (oldestOpen is long open && open < safe) safe = open;
            if (p.InFlight.Count > 0)
            {
                long first = p.InFlight.Keys.First();
                if (first < safe) safe = first;
            }
            if (safe <= p.LastStored) return null;
            return safe;
        }
    }

    public void Stored(string topic, int partition, long offset)
    {
        lock (_gate)
        {
            var p = Get(topic, partition);
            if (offset > p.LastStored) p.LastStored = offset;
        }
    }

    public void Forget(string topic, int partition)
    {
        lock (_gate)
        {
            _partitions.Remove((topic, partition));
            _lastConsumed = null;
        }
    }

    private PartitionState Get(string topic, int partition)
    {
        if (!_partitions.TryGetValue((topic, partition), out var p)) _partitions[(topic, partition)] = p = new PartitionState();
        return p;
    }
}
