using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Scanning;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Assembly;

/// <summary>
/// Reassembles runtime output per stream: one <see cref="RuntimeOutputScanner"/> per <see cref="StreamKey"/>,
/// an idle flush reset on every line, and a cap on open streams (least recently used flushed first). Streams
/// never mix. Not thread-safe: one consumer loop owns it.
///
/// When is a stream idle? A backlog is read far faster than it was written, and a consumer stalls (rebalance,
/// backpressure, broker down) while the producer keeps writing, so wall time alone would cut events. A stream is
/// idle when its partition's message clock has moved <see cref="AssemblerOptions.IdleFlush"/> past the stream's
/// last line (the writer was silent that long), or when nothing arrived for that long by the wall clock (from
/// the injected <see cref="TimeProvider"/>) and the partition is read to its end.
/// </summary>
public sealed class StreamAssembler
{
    private readonly AnalyzerOptions _analysis;
    private readonly AssemblerOptions _options;
    private readonly TimeProvider _time;
    private readonly Action<IndexedEvent> _emit;
    private readonly Dictionary<StreamKey, StreamState> _streams = [];
    private readonly Dictionary<(string, int), HashSet<StreamState>> _byPartition = [];
    private readonly Dictionary<(string, int), IReadOnlyDictionary<string, long>> _watermarks = [];
    private readonly Dictionary<(string, int), DateTimeOffset> _partitionClock = [];
    // Streams that an idle flush would affect (open event or pending leak suspects): usually a handful of
    // thousands, so the periodic check does not walk every stream.
    private readonly HashSet<StreamState> _active = [];
    private long _lastSweep;

    private sealed class StreamState(StreamKey key, RuntimeOutputScanner scanner)
    {
        public StreamKey Key { get; } = key;
        public RuntimeOutputScanner Scanner { get; } = scanner;
        public long LastActivity { get; set; }
        public SourceMetadata Metadata { get; set; } = SourceMetadata.Empty;
        public DateTimeOffset EventTimestamp { get; set; }
        public long? SeenEventStart { get; set; }
        public long SkipThrough { get; set; } = -1;
        public DateTimeOffset LastMessageTime { get; set; }
        public bool InActive { get; set; }
        public DateTimeOffset LastTimestamp { get; set; }
        public long? HeldRunStart { get; set; }
        public DateTimeOffset HeldRunTimestamp { get; set; }
        public long AccountedBytes { get; set; }
    }

    public StreamAssembler(AnalyzerOptions analysis, AssemblerOptions options, TimeProvider time, Action<IndexedEvent> emit, Action<string>? closedAtBudget = null)
    {
        _analysis = analysis;
        _options = options;
        _time = time;
        _emit = emit;
        _closedAtBudget = closedAtBudget;
    }

    private readonly Action<string>? _closedAtBudget;
    private long _openBytes;
    private int _openEvents;

    public int OpenStreams => _streams.Count;

    /// <summary>Bytes the open events hold, as their scanners account them (the budget's measure).</summary>
    public long OpenBytes => _openBytes;

    /// <summary>Events being assembled now.</summary>
    public int OpenEvents => _openEvents;

    /// <summary>Events closed as truncated because the memory budget or the open-event cap was reached.</summary>
    public long BudgetClosed { get; private set; }

    /// <summary>Lines already processed before a restart, read again without re-emitting their events (see <see cref="SetWatermarks"/>).</summary>
    public long SkippedLines { get; private set; }

    /// <summary>Events read again after a restart and not emitted (the store already has them).</summary>
    public long ReplayedEvents { get; private set; }

    /// <summary>Per-stream resume watermarks of a newly assigned partition (from the sink).</summary>
    public void SetWatermarks(string topic, int partition, IReadOnlyDictionary<string, long> watermarks) =>
        _watermarks[(topic, partition)] = watermarks;

    /// <summary>
    /// Per stream of a newly assigned partition, the dumps a previous run stored before the partition's committed
    /// offset (<see cref="Delivery.IStoredHistory"/>): its leak series goes on from them. Used once per stream.
    /// </summary>
    public void RestoreLeakHistory(string topic, int partition, IReadOnlyDictionary<string, IReadOnlyList<LeakSnapshot>> history) =>
        _leakHistory[(topic, partition)] = new Dictionary<string, IReadOnlyList<LeakSnapshot>>(history, StringComparer.Ordinal);

    private readonly Dictionary<(string, int), Dictionary<string, IReadOnlyList<LeakSnapshot>>> _leakHistory = [];

    public void Push(in LogRecord record)
    {
        var state = GetOrCreate(record.Key);
        // Lines a previous run already stored events from are read again (a leak tracker needs the dumps
        // it had seen) but their events are not emitted again: see Emit.
        if (record.Position <= state.SkipThrough) SkippedLines++;
        // Reference fields of long-lived objects are written only when they change: every such write marks a
        // card for the next gen-0 collection, and 10,000 streams touched round-robin would dirty them all.
        if (!ReferenceEquals(state.Metadata, record.Metadata)) state.Metadata = record.Metadata;
        state.LastTimestamp = record.Timestamp;
        state.LastMessageTime = record.MessageTime;
        var pk = (record.Key.Topic, record.Key.Partition);
        if (!_partitionClock.TryGetValue(pk, out var clock) || record.MessageTime > clock) _partitionClock[pk] = record.MessageTime;
        state.Scanner.Push(record.Line.Span, record.Position);
        // A run of repeated dumps began to be held: it keeps its first dump's timestamp (read before a new
        // event on this line replaces it below).
        if (state.Scanner.HeldRunStart != state.HeldRunStart)
        {
            state.HeldRunStart = state.Scanner.HeldRunStart;
            if (state.HeldRunStart is not null) state.HeldRunTimestamp = state.EventTimestamp;
        }
        // A new event started on this line: its timestamp is this line's.
        if (state.Scanner.OpenEventStart != state.SeenEventStart)
        {
            state.SeenEventStart = state.Scanner.OpenEventStart;
            if (state.SeenEventStart is not null) state.EventTimestamp = record.Timestamp;
        }
        state.LastActivity = _time.GetTimestamp();
        // A flag, not a set lookup per line: the sweep removes streams that no longer need a flush.
        if (!state.InActive && state.Scanner.NeedsFlush)
        {
            state.InActive = true;
            _active.Add(state);
        }
        Account(state);
        if (_openBytes > _options.MaxOpenBytes || _openEvents > _options.MaxOpenEvents) EnforceBudget();
    }

    /// <summary>Keeps the totals in step with one stream's scanner (cheap: a few field reads per line).</summary>
    private void Account(StreamState s)
    {
        long bytes = s.Scanner.OpenBytes;
        if (bytes == s.AccountedBytes) return;
        _openBytes += bytes - s.AccountedBytes;
        if (bytes > 0 != s.AccountedBytes > 0) _openEvents += bytes > 0 ? 1 : -1;
        s.AccountedBytes = bytes;
    }

    /// <summary>
    /// Over the budget: close the largest open events (over the count cap: the least recently active) as
    /// truncated events until a quarter of the budget is free again, so the sort is paid once per quarter of
    /// growth, not per line. Closed events are emitted and stored like any other; their offsets are released.
    /// </summary>
    private void EnforceBudget()
    {
        var open = new List<StreamState>();
        foreach (var s in _active)
        {
            if (s.AccountedBytes > 0) open.Add(s);
        }
        bool overCount = _openEvents > _options.MaxOpenEvents;
        string reason = overCount ? "open_events" : "open_bytes";
        if (overCount) open.Sort((a, b) => a.LastActivity.CompareTo(b.LastActivity));
        else open.Sort((a, b) => b.AccountedBytes.CompareTo(a.AccountedBytes));
        long bytesTarget = _options.MaxOpenBytes / 4 * 3;
        int eventsTarget = Math.Max(0, _options.MaxOpenEvents / 4 * 3);
        foreach (var s in open)
        {
            if (_openBytes <= bytesTarget && _openEvents <= eventsTarget) break;
            s.Scanner.CloseTruncated();
            Account(s);
            BudgetClosed++;
            _closedAtBudget?.Invoke(reason);
        }
    }

    /// <summary>
    /// Flushes idle streams (see the class remarks). Call it on every poll. <paramref name="caughtUp"/> says
    /// whether a partition has been read to its end; null means always (files, stdin).
    /// </summary>
    public void FlushExpired(Func<string, int, bool>? caughtUp = null)
    {
        long now = _time.GetTimestamp();
        // Called per poll; a sweep every tenth of the idle timeout is precise enough.
        if (_time.GetElapsedTime(_lastSweep, now) < _options.IdleFlush / 10) return;
        _lastSweep = now;
        List<StreamState>? done = null;
        foreach (var s in _active)
        {
            if (!s.Scanner.NeedsFlush)
            {
                (done ??= []).Add(s);
                continue;
            }
            var pk = (s.Key.Topic, s.Key.Partition);
            bool quietByMessages = _partitionClock.TryGetValue(pk, out var clock) && clock - s.LastMessageTime >= _options.IdleFlush;
            bool quietByWall = _time.GetElapsedTime(s.LastActivity, now) >= _options.IdleFlush && (caughtUp is null || caughtUp(s.Key.Topic, s.Key.Partition));
            if (quietByMessages || quietByWall)
            {
                s.Scanner.Flush();
                Account(s);
                (done ??= []).Add(s);
            }
        }
        if (done is not null)
        {
            foreach (var s in done)
            {
                _active.Remove(s);
                s.InActive = false;
            }
        }
    }

    /// <summary>Completes every open event of a partition (before it is revoked) and forgets its streams.</summary>
    public void FlushPartition(string topic, int partition)
    {
        if (!_byPartition.TryGetValue((topic, partition), out var set)) return;
        foreach (var s in set.ToList()) Drop(s);
        _byPartition.Remove((topic, partition));
        _watermarks.Remove((topic, partition));
        _leakHistory.Remove((topic, partition));
        _partitionClock.Remove((topic, partition));
    }

    public void FlushAll()
    {
        foreach (var s in _streams.Values.ToList())
        {
            s.Scanner.Flush();
            Account(s);
            s.InActive = false;
        }
        _active.Clear();
    }

    /// <summary>The first offset of the oldest event still being assembled in this partition, if any.</summary>
    public long? OldestOpenOffset(string topic, int partition)
    {
        if (!_byPartition.TryGetValue((topic, partition), out var set)) return null;
        long? min = null;
        foreach (var s in set)
        {
            if (s.Scanner.HoldsFrom is long start)
            {
                long offset = LogRecord.OffsetOf(start);
                if (min is null || offset < min) min = offset;
            }
        }
        return min;
    }

    private StreamState GetOrCreate(StreamKey key)
    {
        if (_streams.TryGetValue(key, out var state)) return state;
        if (_streams.Count >= _options.MaxOpenStreams) EvictOldest();
        StreamState? created = null;
        var scanner = new RuntimeOutputScanner(key.ToString(), _analysis, e => Emit(created!, e));
        created = new StreamState(key, scanner);
        if (_watermarks.TryGetValue((key.Topic, key.Partition), out var marks) && marks.TryGetValue(key.Source, out long through)) created.SkipThrough = through;
        if (_leakHistory.TryGetValue((key.Topic, key.Partition), out var history) && history.Remove(key.Source, out var snapshots)) scanner.RestoreLeakSnapshots(snapshots);
        _streams[key] = created;
        if (!_byPartition.TryGetValue((key.Topic, key.Partition), out var set)) _byPartition[(key.Topic, key.Partition)] = set = [];
        set.Add(created);
        return created;
    }

    /// <summary>Over the cap: flush and drop the least recently active tenth in one pass (no per-line LRU list).</summary>
    private void EvictOldest()
    {
        int n = Math.Max(1, _streams.Count / 10);
        foreach (var s in _streams.Values.OrderBy(s => s.LastActivity).Take(n).ToList()) Drop(s);
    }

    private void Drop(StreamState s)
    {
        s.Scanner.Complete();
        Account(s);
        _active.Remove(s);
        _streams.Remove(s.Key);
        if (_byPartition.TryGetValue((s.Key.Topic, s.Key.Partition), out var set)) set.Remove(s);
    }

    private void Emit(StreamState s, RuntimeEvent e)
    {
        // Stored before the restart (it ends at or before the stream's resume watermark); a partial event cut by
        // the re-read start also ends there. Leak suspects are derived state: re-emitting one upserts it.
        if (Math.Max(e.Line, e.EndLine) <= s.SkipThrough && e is not LeakSuspectEvent)
        {
            ReplayedEvents++;
            return;
        }
        var timestamp = e.Line == s.HeldRunStart ? s.HeldRunTimestamp : e is MultiLineEvent ? s.EventTimestamp : s.LastTimestamp;
        _emit(new IndexedEvent
        {
            Id = IndexedEvent.IdFor(e, s.Key),
            Event = e,
            Stream = s.Key,
            FirstOffset = LogRecord.OffsetOf(e.Line),
            Timestamp = timestamp == default ? _time.GetUtcNow() : timestamp,
            Metadata = s.Metadata,
        });
    }
}
