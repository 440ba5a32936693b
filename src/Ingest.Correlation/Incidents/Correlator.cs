using Ingest.Correlation.Clocks;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Incidents;

public sealed class CorrelationOptions
{
    public const string SectionName = "Correlation";

    /// <summary>A stamp further ahead of a receiver's clock than this is not merged (and flagged).</summary>
    public TimeSpan MaxClockOffset { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Events are held this long (by the latest time seen) so causally earlier ones arriving later go first.</summary>
    /// <remarks>Detections trail their traces' spans by the time a crash takes to be assembled (the idle
    /// flush, about a second) and published: the window must be longer than that.</remarks>
    public TimeSpan ReorderWindow { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A trace is also held this long after its last item arrived (wall time): detections come from logs,
    /// later than the spans of the same moment (a crash is assembled, then published), while other traces'
    /// spans keep moving the event-time watermark on.
    /// </summary>
    public TimeSpan MinHold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>An untraced failure joins an incident with a crash of the same service within this window.</summary>
    public TimeSpan ServiceWindow { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Bounds: items waiting in the reorder buffer, and incidents and spans remembered.</summary>
    public int MaxBuffered { get; set; } = 100_000;
    public int MaxSpans { get; set; } = 200_000;
    public int MaxIncidents { get; set; } = 10_000;
}

/// <summary>
/// Orders failures and spans across nodes with one hybrid logical clock per node and links them into
/// incidents. Input arrives out of order across partitions: a bounded reorder buffer releases items in the
/// order of their physical times once the watermark (latest time seen minus the window) passes them; an item
/// older than the watermark on arrival is still stamped, and flagged late. Span starts are receives of their
/// parent's start (the request), span ends receives of their children's ends (the replies), so an error
/// upstream orders after the failure downstream that caused it.
/// </summary>
public sealed class Correlator(CorrelationOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly long _maxOffset = options.MaxClockOffset.Ticks * 100;
    private readonly long _window = options.ReorderWindow.Ticks * 100;
    private readonly long _serviceWindow = options.ServiceWindow.Ticks * 100;
    private readonly Dictionary<string, HybridLogicalClock> _clocks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _skewedNodes = new(StringComparer.Ordinal);
    // Reorder buffer: a trace is released whole once all of it is older than the watermark, then processed in
    // the order of its span tree; untraced failures are released by time.
    private readonly Dictionary<string, TraceBuffer> _traces = new(StringComparer.Ordinal);
    private readonly PriorityQueue<(DetectedEvent Event, long Arrival), (long Time, long Seq)> _untraced = new();
    private int _buffered;
    private long _seq;
    private long _latest = long.MinValue;
    private long _watermark = long.MinValue;

    // Spans by id, with their stamps once processed.
    private readonly Dictionary<string, SpanState> _spans = new(StringComparer.Ordinal);
    private readonly Queue<string> _spanOrder = new();
    private readonly Dictionary<(string Caller, string Callee), long[]> _edges = [];

    // Incidents: union-find over failure groups.
    private readonly Dictionary<string, Group> _byTrace = new(StringComparer.Ordinal);
    private readonly List<Group> _groups = [];
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(long Time, bool Ok)>> _serviceOutcomes = new(StringComparer.Ordinal);

    public SkewEstimator Skew { get; } = new();

    public long SkewRejections => _clocks.Values.Sum(c => c.SkewRejections);

    public long LateEvents { get; private set; }

    private sealed class TraceBuffer(long seq)
    {
        public readonly long Seq = seq;
        public readonly List<SpanRecord> Spans = [];
        public readonly List<DetectedEvent> Failures = [];
        public long MinTime = long.MaxValue;
        public long MaxTime = long.MinValue;
        /// <summary>Released once the watermark passes this: its latest time, or for a trace that arrived
        /// after the window, the latest time seen on arrival (it gets one more window to complete).</summary>
        public long ReadyAt = long.MinValue;
        public long LastArrival;
        public bool Late;
    }

    private sealed class SpanState(SpanRecord span)
    {
        public SpanRecord Span = span;
        public HybridTimestamp? Start;
        public HybridTimestamp? End;
        /// <summary>Ends of its children (their replies), and of crashed callees, with the node that stamped them.</summary>
        public readonly List<(HybridTimestamp Stamp, string Node)> ChildEnds = [];
    }

    private sealed class Group(string key)
    {
        public string Key = key;
        public Group? Parent;
        public readonly List<StampedEvent> Events = [];
        public readonly HashSet<string> Traces = new(StringComparer.Ordinal);
    }

    public void AddSpan(SpanRecord span) =>
        Buffer(span.TraceId, span, null, Math.Min(span.StartUnixNanos, span.EndUnixNanos), Math.Max(span.StartUnixNanos, span.EndUnixNanos));

    public void AddEvent(DetectedEvent e)
    {
        if (e.TraceId is { } trace)
        {
            Buffer(trace, null, e, e.TimeUnixNanos, e.TimeUnixNanos);
            return;
        }
        if (e.TimeUnixNanos < _watermark)
        {
            Fail(e, late: true);
            return;
        }
        _untraced.Enqueue((e, _time.GetTimestamp()), (e.TimeUnixNanos, _seq++));
        _buffered++;
        Advance(e.TimeUnixNanos);
    }

    private void Buffer(string trace, SpanRecord? span, DetectedEvent? failure, long min, long max)
    {
        if (!_traces.TryGetValue(trace, out var tb))
        {
            _traces[trace] = tb = new TraceBuffer(_seq++);
            // Older than the watermark on arrival: stamped all the same, flagged late, and held for one more
            // window of event time so the rest of its trace can join it.
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
        tb.ReadyAt = Math.Max(tb.ReadyAt, tb.Late ? tb.ReadyAt : tb.MaxTime);
        tb.LastArrival = _time.GetTimestamp();
        _buffered++;
        Advance(max);
    }

    private void Advance(long time)
    {
        _latest = Math.Max(_latest, time);
        _watermark = Math.Max(_watermark, _latest - _window);
        Release(force: _buffered > options.MaxBuffered);
    }

    /// <param name="force">Release regardless of watermark and hold: all of it (<paramref name="all"/>) or until the
    /// buffer is back under half its bound.</param>
    private void Release(bool force, bool all = false)
    {
        while (true)
        {
            // The earliest ready unit: a whole trace older than the watermark, or an untraced failure.
            TraceBuffer? trace = null;
            string? traceId = null;
            foreach (var (id, tb) in _traces)
            {
                if ((force || (tb.ReadyAt <= _watermark && _time.GetElapsedTime(tb.LastArrival) >= options.MinHold)) && (trace is null || tb.MinTime < trace.MinTime || (tb.MinTime == trace.MinTime && tb.Seq < trace.Seq)))
                {
                    trace = tb;
                    traceId = id;
                }
            }
            bool untracedReady = _untraced.TryPeek(out var f, out var key) &&
                (force || (key.Time <= _watermark && _time.GetElapsedTime(f.Arrival) >= options.MinHold));
            if (trace is null && !untracedReady) return;
            if (untracedReady && (trace is null || key.Time < trace.MinTime))
            {
                _untraced.Dequeue();
                _buffered--;
                Fail(f.Event, late: false);
            }
            else
            {
                _traces.Remove(traceId!);
                _buffered -= trace!.Spans.Count + trace.Failures.Count;
                ProcessTrace(trace, late: trace.Late);
            }
            if (force && !all && _buffered <= options.MaxBuffered / 2) force = false;
        }
    }

    /// <summary>Processes everything still buffered (end of input, or a quiet period).</summary>
    public void Flush() => Release(force: true, all: true);

    /// <summary>Releases what the watermark and the hold time allow (call periodically).</summary>
    public void Tick() => Release(force: _buffered > options.MaxBuffered);

    /// <summary>
    /// A trace in the order of its span tree: a span starts (a receive of its parent's start), the failures
    /// inside it happen, its children run, and it ends (a receive of its latest child's end, or of the crash
    /// that killed a child: the broken connection is the message that made the caller fail). Processing by
    /// structure rather than by timestamps is what makes skewed clocks harmless within a trace.
    /// </summary>
    private void ProcessTrace(TraceBuffer tb, bool late)
    {
        var byId = new Dictionary<string, SpanRecord>(StringComparer.Ordinal);
        foreach (var sp in tb.Spans) byId.TryAdd(sp.SpanId, sp);
        var children = tb.Spans.Where(sp => sp.ParentSpanId is not null && byId.ContainsKey(sp.ParentSpanId))
            .GroupBy(sp => sp.ParentSpanId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(c => c.StartUnixNanos).ToList(), StringComparer.Ordinal);
        var inside = tb.Failures.Where(f => f.SpanId is not null && byId.ContainsKey(f.SpanId))
            .GroupBy(f => f.SpanId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(f => f.TimeUnixNanos).ToList(), StringComparer.Ordinal);
        // Failures in spans that were never exported (the process died first) belong under the span that
        // called them: a crash whose span id is unknown sits with the known span of the same trace it was
        // called from, if the crash names it as parent; otherwise with the deepest span started before it.
        var orphans = tb.Failures.Where(f => f.SpanId is null || !byId.ContainsKey(f.SpanId)).OrderBy(f => f.TimeUnixNanos).ToList();
        var done = new HashSet<string>(StringComparer.Ordinal);

        void Visit(SpanRecord span)
        {
            if (!done.Add(span.SpanId)) return;
            Start(span, late);
            if (inside.TryGetValue(span.SpanId, out var fs))
            {
                foreach (var f in fs) Fail(f, late);
            }
            if (children.TryGetValue(span.SpanId, out var kids))
            {
                foreach (var k in kids) Visit(k);
            }
            // A failure of an unexported callee of this span: after the children it called, before this span ends.
            foreach (var f in orphans.Where(o => CalledFrom(o) == span.SpanId).ToList())
            {
                Fail(f, late, span.SpanId);
                orphans.Remove(f);
            }
            End(span, late);
        }

        // The caller of an unexported failing span: named by the detection, else the caller that saw the
        // failure: the deepest error span of another service none of whose exported children failed.
        string? observer = tb.Spans
            .Where(sp => sp.Status == SpanStatus.Error && !(children.TryGetValue(sp.SpanId, out var kids) && kids.Exists(k => k.Status == SpanStatus.Error)))
            .OrderByDescending(sp => Depth(sp)).ThenByDescending(sp => sp.StartUnixNanos).FirstOrDefault()?.SpanId;

        int Depth(SpanRecord sp)
        {
            int d = 0;
            for (var cur = sp; cur.ParentSpanId is { } pid && byId.TryGetValue(pid, out var parent) && d < 64; cur = parent) d++;
            return d;
        }

        string? CalledFrom(DetectedEvent f) =>
            f.ParentSpanId is { } p && byId.ContainsKey(p) ? p
            : f.Kind == FailureKind.Crash && observer is not null && byId[observer].Service != f.Service ? observer
            : null;

        foreach (var root in tb.Spans.Where(sp => sp.ParentSpanId is null || !byId.ContainsKey(sp.ParentSpanId)).OrderBy(sp => sp.StartUnixNanos)) Visit(root);
        foreach (var f in orphans) Fail(f, late);
    }

    private HybridLogicalClock Clock(string node)
    {
        if (!_clocks.TryGetValue(node, out var c)) _clocks[node] = c = new HybridLogicalClock(node, _maxOffset);
        return c;
    }

    private SpanState State(SpanRecord span)
    {
        if (!_spans.TryGetValue(span.SpanId, out var st))
        {
            _spans[span.SpanId] = st = new SpanState(span);
            _spanOrder.Enqueue(span.SpanId);
            while (_spanOrder.Count > options.MaxSpans) _spans.Remove(_spanOrder.Dequeue());
        }
        return st;
    }

    private void Start(SpanRecord span, bool late)
    {
        if (late) LateEvents++;
        var st = State(span);
        var clock = Clock(span.Node);
        if (span.ParentSpanId is { } p && _spans.TryGetValue(p, out var parent) && parent.Start is { } ps)
        {
            if (!clock.Receive(ps, span.StartUnixNanos, out var stamp, late)) _skewedNodes.Add(parent.Span.Node);
            st.Start = stamp;
            Skew.Observe(parent.Span.Node, parent.Span.StartUnixNanos, span.Node, span.StartUnixNanos);
            if (parent.Span.Service != span.Service) Edge(parent.Span.Service, span.Service)[0]++;
            // A child far before its parent by its own clock: that node is behind by more than the offset.
            if (parent.Span.StartUnixNanos - span.StartUnixNanos > _maxOffset) _skewedNodes.Add(span.Node);
        }
        else
        {
            st.Start = Hlc(span.Hlc, clock, span.StartUnixNanos);
        }
    }

    private void End(SpanRecord span, bool late)
    {
        if (late) LateEvents++;
        var st = State(span);
        var clock = Clock(span.Node);
        // Each child's reply is a receive here; a reply stamped beyond the maximum offset is not merged (its node
        // is flagged) and cannot hide the others. The end itself follows them all.
        foreach (var (childEnd, childNode) in st.ChildEnds.OrderBy(c => c.Stamp))
        {
            if (childEnd > clock.Last && !clock.Receive(childEnd, span.EndUnixNanos, out _, late)) _skewedNodes.Add(childNode);
        }
        var stamp = clock.Local(span.EndUnixNanos);
        st.End = stamp;
        if (span.ParentSpanId is { } p && _spans.TryGetValue(p, out var parent))
        {
            parent.ChildEnds.Add((stamp, span.Node));
            if (span.Status == SpanStatus.Error && parent.Span.Service != span.Service) Edge(parent.Span.Service, span.Service)[1]++;
        }
        Outcome(span.Service, span.EndUnixNanos, span.Status != SpanStatus.Error);
        if (span.Status == SpanStatus.Error)
        {
            var e = new DetectedEvent
            {
                Id = $"span:{span.TraceId}:{span.SpanId}", Kind = FailureKind.ErrorSpan, Service = span.Service, Node = span.Node,
                TimeUnixNanos = span.EndUnixNanos, TraceId = span.TraceId, SpanId = span.SpanId,
                Summary = (span.Exceptions.Count > 0 ? span.Exceptions[0].Message : null) ?? span.StatusMessage ?? span.Name,
            };
            Record(new StampedEvent(e, new NodeStamp(stamp, span.Node), _skewedNodes.Contains(span.Node), late));
        }
    }

    private void Fail(DetectedEvent e, bool late, string? callerSpanId = null)
    {
        if (late) LateEvents++;
        var clock = Clock(e.Node);
        // Inside a known span: after that span's start. In an unexported callee: after the caller's request.
        SpanState? caller = null;
        if (e.SpanId is { } sid && _spans.TryGetValue(sid, out var own) && own.Start is { } start && start > clock.Last)
        {
            if (own.Span.Node == e.Node) clock.Receive(start, e.TimeUnixNanos, out _, late);
        }
        else if ((callerSpanId ?? e.ParentSpanId) is { } pid && _spans.TryGetValue(pid, out caller) && caller.Start is { } callerStart)
        {
            if (!clock.Receive(callerStart, e.TimeUnixNanos, out _, late)) _skewedNodes.Add(caller.Span.Node);
            // The call happened (its span died with the process): count it, and its failure, on the edge.
            if (caller.Span.Service != e.Service)
            {
                var edge = Edge(caller.Span.Service, e.Service);
                edge[0]++;
                edge[1]++;
            }
        }
        var stamp = e.Hlc is { } hlc ? (clock.Receive(hlc, e.TimeUnixNanos, out var r, late) ? r : clock.Local(e.TimeUnixNanos)) : clock.Local(e.TimeUnixNanos);
        // A crashed callee never replies: the broken call is what the caller's failure receives.
        caller?.ChildEnds.Add((stamp, e.Node));
        if (e.Kind == FailureKind.Crash || e.Kind == FailureKind.Blocking) Outcome(e.Service, e.TimeUnixNanos, ok: false);
        Record(new StampedEvent(e, new NodeStamp(stamp, e.Node), _skewedNodes.Contains(e.Node), late));
    }

    private HybridTimestamp Hlc(string? text, HybridLogicalClock clock, long physical) =>
        text is not null && HybridTimestamp.TryParse(text, out var own) && clock.Receive(own, physical, out var r) ? r : clock.Local(physical);

    private long[] Edge(string caller, string callee)
    {
        if (!_edges.TryGetValue((caller, callee), out var counts)) _edges[(caller, callee)] = counts = new long[3];
        return counts;
    }

    private void Outcome(string service, long time, bool ok)
    {
        if (!_serviceOutcomes.TryGetValue(service, out var list)) _serviceOutcomes[service] = list = [];
        list.Add((time, ok));
        if (list.Count > 4096) list.RemoveRange(0, list.Count - 4096);
    }

    private void Record(StampedEvent s)
    {
        var e = s.Event;
        Group? group = null;
        if (e.TraceId is { } trace && _byTrace.TryGetValue(trace, out var g)) group = Find(g);
        if (group is null && e.TraceId is null)
        {
            // Untraced: the incident with a crash of the same service close in time.
            group = _groups.Select(Find).Distinct().FirstOrDefault(x => x.Events.Any(o => o.Event.Service == e.Service &&
                (o.Event.Kind == FailureKind.Crash || e.Kind == FailureKind.Crash) && Math.Abs(o.Event.TimeUnixNanos - e.TimeUnixNanos) <= _serviceWindow));
        }
        if (group is null)
        {
            group = new Group("incident:" + e.Id);
            _groups.Add(group);
            if (_groups.Count > options.MaxIncidents)
            {
                // The oldest incident goes, and its traces with it (else the trace index would grow forever).
                foreach (string old in _groups[0].Traces) _byTrace.Remove(old);
                _groups.RemoveAt(0);
            }
        }
        group.Events.Add(s);
        _changed.Add(group.Key);
        if (e.TraceId is { } t)
        {
            if (_byTrace.TryGetValue(t, out var other) && Find(other) != group) group = Union(group, Find(other));
            _byTrace[t] = group;
            group.Traces.Add(t);
        }
        // A traced crash also pulls in untraced failures of its service nearby (already recorded).
        if (e.Kind == FailureKind.Crash)
        {
            foreach (var x in _groups.Select(Find).Distinct().ToList())
            {
                if (x == group || x.Traces.Count > 0) continue;
                if (x.Events.Any(o => o.Event.Service == e.Service && Math.Abs(o.Event.TimeUnixNanos - e.TimeUnixNanos) <= _serviceWindow)) group = Union(group, x);
            }
        }
    }

    private static Group Find(Group g)
    {
        while (g.Parent is not null) g = g.Parent;
        return g;
    }

    private Group Union(Group a, Group b)
    {
        // The older group (created first) keeps its key: incident ids do not change as they grow.
        var (keep, gone) = _groups.IndexOf(a) <= _groups.IndexOf(b) ? (a, b) : (b, a);
        gone.Parent = keep;
        _changed.Add(keep.Key);
        keep.Events.AddRange(gone.Events);
        gone.Events.Clear();
        keep.Traces.UnionWith(gone.Traces);
        _groups.Remove(gone);
        return keep;
    }

    /// <summary>
    /// The incidents so far: groups with a crash, a blocking finding or a GC anomaly, or errors in two or more
    /// services (a lone error span is not an incident).
    /// </summary>
    public IReadOnlyList<Incident> Incidents()
    {
        var result = new List<Incident>();
        foreach (var g in _groups.Where(g => g.Parent is null))
        {
            var events = g.Events.OrderBy(e => e.Stamp).ToList();
            if (events.Count == 0) continue;
            bool strong = events.Any(e => e.Event.Kind != FailureKind.ErrorSpan);
            if (!strong && events.Select(e => e.Event.Service).Distinct().Count() < 2) continue;
            var root = events[0];
            var path = new List<PropagationStep>();
            foreach (var service in events.GroupBy(e => e.Event.Service).OrderBy(x => x.First().Stamp))
            {
                var first = service.First();
                // Recovered: the service answered a request successfully after its last failure here.
                long last = service.Max(e => e.Event.TimeUnixNanos);
                bool recovered = _serviceOutcomes.TryGetValue(service.Key, out var outcomes) && outcomes.Exists(o => o.Ok && o.Time > last);
                path.Add(new PropagationStep(service.Key, first.Event.Kind, first.Stamp, recovered));
            }
            result.Add(new Incident
            {
                Id = g.Key,
                Events = events,
                RootCause = root,
                Path = path,
                TraceIds = [.. g.Traces.Order(StringComparer.Ordinal)],
                Services = [.. events.Select(e => e.Event.Service).Distinct().Order(StringComparer.Ordinal)],
                Nodes = [.. events.Select(e => e.Event.Node).Distinct().Order(StringComparer.Ordinal)],
            });
        }
        return result;
    }

    /// <summary>Incidents that gained events since the last call (what to write to the store again).</summary>
    public IReadOnlyList<Incident> TakeChanged()
    {
        if (_changed.Count == 0) return [];
        var changed = Incidents().Where(i => _changed.Contains(i.Id)).ToList();
        _changed.Clear();
        return changed;
    }

    /// <summary>Caller → callee edges from parent/child spans, with crashes that spread along them.</summary>
    public IReadOnlyList<DependencyEdge> Graph()
    {
        var propagated = new Dictionary<(string, string), long>();
        foreach (var incident in Incidents())
        {
            if (incident.RootCause.Event.Kind != FailureKind.Crash) continue;
            var order = incident.Path.Select(p => p.Service).ToList();
            foreach (var ((caller, callee), _) in _edges)
            {
                int ci = order.IndexOf(callee), ca = order.IndexOf(caller);
                if (ci >= 0 && ca > ci) propagated[(caller, callee)] = propagated.GetValueOrDefault((caller, callee)) + 1;
            }
        }
        return [.. _edges.Select(kv => new DependencyEdge(kv.Key.Caller, kv.Key.Callee, kv.Value[0], kv.Value[1], propagated.GetValueOrDefault(kv.Key)))
            .OrderBy(e => e.Caller, StringComparer.Ordinal).ThenBy(e => e.Callee, StringComparer.Ordinal)];
    }

    public IReadOnlyCollection<string> SkewedNodes => _skewedNodes;
}
