using Ingest.Correlation.Model;

namespace Ingest.Correlation.Incidents;

/// <summary>A whole trace as the reorder buffer releases it: its spans and the failures that name it.</summary>
public sealed record ReleasedTrace(string TraceId, IReadOnlyList<SpanRecord> Spans, IReadOnlyList<DetectedEvent> Failures, bool Late);

/// <summary>
/// Input arrives out of order across partitions. The buffer releases items in the order of their physical times
/// once the watermark (latest time seen minus <see cref="CorrelationOptions.ReorderWindow"/>) passes them and
/// they have been held <see cref="CorrelationOptions.MinHold"/> of wall time: a trace whole, once all of it is
/// older than the watermark; an untraced failure by its time plus the maximum clock offset, so that every span of
/// its host within that bound (what it may be linked to) has gone before it. An untraced failure also waits for
/// buffered traces that started before it. An item older than the watermark on arrival goes out flagged late
/// (a trace gets one more window for the rest of it to join; an untraced failure still waits for the traces
/// buffered before it). Bounded: beyond
/// <see cref="CorrelationOptions.MaxBuffered"/> the oldest go regardless, down to half.
/// </summary>
public sealed class ReorderBuffer(CorrelationOptions options, TimeProvider time, Action<ReleasedTrace> onTrace, Action<DetectedEvent, bool> onUntraced)
{
    private const int ScanLimit = 32;
    private readonly long _window = options.ReorderWindow.Ticks * 100;
    private readonly long _delay = options.MaxClockOffset.Ticks * 100;
    private readonly Dictionary<string, TraceUnit> _traces = new(StringComparer.Ordinal);
    // Traces by their earliest time: the release order, found without a scan.
    private readonly SortedSet<TraceUnit> _byTime = new(Comparer<TraceUnit>.Create((a, b) => a.MinTime != b.MinTime ? a.MinTime.CompareTo(b.MinTime) : a.Seq.CompareTo(b.Seq)));
    private readonly PriorityQueue<(DetectedEvent Event, long Arrival, bool Late), (long Time, long Seq)> _untraced = new();
    private long _seq;
    private long _latest = long.MinValue;
    private long _watermark = long.MinValue;
    private bool _drained;

    private sealed class TraceUnit(string id, long seq)
    {
        public readonly string Id = id;
        public readonly long Seq = seq;
        public readonly List<SpanRecord> Spans = [];
        public readonly List<DetectedEvent> Failures = [];
        public long MinTime = long.MaxValue;
        public long MaxTime = long.MinValue;
        /// <summary>Released once the watermark passes this: its latest time, or for a trace that arrived after
        /// the window, the latest time seen on arrival (it gets one more window to complete).</summary>
        public long ReadyAt = long.MinValue;
        public long LastArrival;
        public bool Late;
    }

    public int Count { get; private set; }

    /// <summary>Every untraced failure up to this time (with its delay) has been released, and one arriving now
    /// that is older is late: what links across the maximum offset is decided up to here.</summary>
    public long Horizon
    {
        get
        {
            if (_drained) return long.MaxValue;
            long h = _watermark;
            if (_untraced.TryPeek(out _, out var key)) h = Math.Min(h, key.Time - 1);
            return h;
        }
    }

    public void Add(SpanRecord span) =>
        Buffer(span.TraceId, span, null, Math.Min(span.StartUnixNanos, span.EndUnixNanos), Math.Max(span.StartUnixNanos, span.EndUnixNanos));

    public void Add(DetectedEvent e)
    {
        if (e.TraceId is { } trace)
        {
            Buffer(trace, null, e, e.TimeUnixNanos, e.TimeUnixNanos);
            return;
        }
        long key = e.TimeUnixNanos + _delay;
        _drained = false;
        // Older than the watermark: flagged late, but it still waits for the traces buffered before it (the
        // spans it may be linked to are likely among them: detections trail their spans).
        _untraced.Enqueue((e, time.GetTimestamp(), key < _watermark), (key, _seq++));
        Count++;
        Advance(e.TimeUnixNanos);
    }

    private void Buffer(string trace, SpanRecord? span, DetectedEvent? failure, long min, long max)
    {
        _drained = false;
        if (_traces.TryGetValue(trace, out var tb)) _byTime.Remove(tb);
        else
        {
            _traces[trace] = tb = new TraceUnit(trace, _seq++);
            if (max < _watermark)
            {
                tb.Late = true;
                tb.ReadyAt = _latest;
            }
        }
        if (span is not null) tb.Spans.Add(span);
        if (failure is not null) tb.Failures.Add(failure);
        tb.MinTime = Math.Min(tb.MinTime, min);
        tb.MaxTime = Math.Max(tb.MaxTime, max);
        if (!tb.Late) tb.ReadyAt = tb.MaxTime;
        tb.LastArrival = time.GetTimestamp();
        _byTime.Add(tb);
        Count++;
        Advance(max);
    }

    private void Advance(long t)
    {
        _latest = Math.Max(_latest, t);
        _watermark = Math.Max(_watermark, _latest - _window);
        Release(force: Count > options.MaxBuffered);
    }

    /// <summary>Releases everything still buffered (end of input, or a quiet period).</summary>
    public void Flush()
    {
        Release(force: true, all: true);
        _drained = true;
    }

    /// <summary>Releases what the watermark and the hold time allow (call periodically).</summary>
    public void Tick() => Release(force: Count > options.MaxBuffered);

    private bool Ready(TraceUnit tb) => tb.ReadyAt <= _watermark && time.GetElapsedTime(tb.LastArrival) >= options.MinHold;

    private void Release(bool force, bool all = false)
    {
        while (true)
        {
            // The earliest ready trace, among the first few: a burst of traces all still held (a replay) must not
            // make every arrival scan the whole buffer.
            TraceUnit? trace = null;
            int looked = 0;
            foreach (var tb in _byTime)
            {
                if (force || Ready(tb))
                {
                    trace = tb;
                    break;
                }
                if (++looked == ScanLimit) break;
            }
            bool hasUntraced = _untraced.TryPeek(out var f, out var key);
            bool untracedReady = hasUntraced && (force || (key.Time <= _watermark && time.GetElapsedTime(f.Arrival) >= options.MinHold));
            // A ready untraced failure still waits for a held trace that started before it.
            if (untracedReady && _byTime.Count > 0 && _byTime.Min!.MinTime < key.Time && _byTime.Min != trace) untracedReady = force;
            if (untracedReady && (trace is null || key.Time < trace.MinTime))
            {
                _untraced.Dequeue();
                Count--;
                onUntraced(f.Event, f.Late);
            }
            else if (trace is not null && (!hasUntraced || untracedReady || trace.MinTime < key.Time))
            {
                _traces.Remove(trace.Id);
                _byTime.Remove(trace);
                Count -= trace.Spans.Count + trace.Failures.Count;
                onTrace(new ReleasedTrace(trace.Id, trace.Spans, trace.Failures, trace.Late));
            }
            else return;
            if (force && !all && Count <= options.MaxBuffered / 2) force = false;
        }
    }
}
