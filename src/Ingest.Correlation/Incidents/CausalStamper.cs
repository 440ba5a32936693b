using Ingest.Correlation.Clocks;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Incidents;

/// <summary>What the stamper reports as it orders a trace: calls between services, outcomes, stamped failures.</summary>
public interface ICausalObserver
{
    /// <summary>A request from one service to another, or with <paramref name="failed"/> the error answer (or the
    /// crash of the callee) of one already reported.</summary>
    void Call(string caller, string callee, bool failed);

    /// <summary>A service answered (or failed to) at <paramref name="timeUnixNanos"/> by its own clock.</summary>
    void Served(string service, long timeUnixNanos, bool ok);

    /// <summary>A failure in causal order. <paramref name="fromSpan"/>: an error span or a span carrying a crash
    /// (what an untraced crash of its host may be linked to).</summary>
    void Failure(StampedEvent e, bool fromSpan);

    /// <summary>A crash a span recorded and answered successfully after (recovered inside the request): not a
    /// failure of any incident, unless the logs show the same panic.</summary>
    void SurvivedCrash(StampedEvent e);
}

/// <summary>
/// Stamps released items with one hybrid logical clock per node. Span starts are receives of their parent's start
/// (the request), span ends receives of their children's ends (the replies), so an error upstream orders after
/// the failure downstream that caused it. A span with a Go panic in an exception event is a crash of that span
/// (id <c>crash:span:TRACE:SPAN</c>, the document the worker indexes when no log shows the same panic).
/// Remembers at most <see cref="CorrelationOptions.MaxSpans"/> spans.
/// </summary>
public sealed class CausalStamper(CorrelationOptions options, ICausalObserver observer)
{
    private readonly long _maxOffset = options.MaxClockOffset.Ticks * 100;
    private readonly Dictionary<string, HybridLogicalClock> _clocks = new(StringComparer.Ordinal);
    private readonly HashSet<string> _skewedNodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SpanState> _spans = new(StringComparer.Ordinal);
    private readonly Queue<string> _spanOrder = new();

    private sealed class SpanState(SpanRecord span)
    {
        public readonly SpanRecord Span = span;
        public HybridTimestamp? Start;
        /// <summary>Ends of its children (their replies), and of crashed callees, with the node that stamped them.</summary>
        public readonly List<(HybridTimestamp Stamp, string Node)> ChildEnds = [];
    }

    public SkewEstimator Skew { get; } = new();

    public long SkewRejections => _clocks.Values.Sum(c => c.SkewRejections);

    public long LateEvents { get; private set; }

    public IReadOnlyCollection<string> SkewedNodes => _skewedNodes;

    public static string SpanCrashId(SpanRecord span) => $"crash:span:{span.TraceId}:{span.SpanId}";

    /// <summary>
    /// A trace in the order of its span tree: a span starts (a receive of its parent's start), the failures
    /// inside it happen, its children run, and it ends (a receive of its latest child's end, or of the crash
    /// that killed a child: the broken connection is the message that made the caller fail). Processing by
    /// structure rather than by timestamps is what makes skewed clocks harmless within a trace.
    /// </summary>
    public void Process(ReleasedTrace trace)
    {
        bool late = trace.Late;
        var byId = new Dictionary<string, SpanRecord>(StringComparer.Ordinal);
        foreach (var sp in trace.Spans) byId.TryAdd(sp.SpanId, sp);
        var children = trace.Spans.Where(sp => sp.ParentSpanId is not null && byId.ContainsKey(sp.ParentSpanId))
            .GroupBy(sp => sp.ParentSpanId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(c => c.StartUnixNanos).ToList(), StringComparer.Ordinal);
        var inside = trace.Failures.Where(f => f.SpanId is not null && byId.ContainsKey(f.SpanId))
            .GroupBy(f => f.SpanId!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.OrderBy(f => f.TimeUnixNanos).ToList(), StringComparer.Ordinal);
        // Failures in spans that were never exported (the process died first) belong under the span that
        // called them: the caller the detection names, else the caller that saw the failure.
        var orphans = trace.Failures.Where(f => f.SpanId is null || !byId.ContainsKey(f.SpanId)).OrderBy(f => f.TimeUnixNanos).ToList();
        var done = new HashSet<string>(StringComparer.Ordinal);

        int Depth(SpanRecord sp)
        {
            int d = 0;
            for (var cur = sp; cur.ParentSpanId is { } pid && byId.TryGetValue(pid, out var parent) && d < 64; cur = parent) d++;
            return d;
        }

        // The deepest error span none of whose exported children failed.
        string? seenBy = trace.Spans
            .Where(sp => sp.Status == SpanStatus.Error && !(children.TryGetValue(sp.SpanId, out var kids) && kids.Exists(k => k.Status == SpanStatus.Error)))
            .OrderByDescending(Depth).ThenByDescending(sp => sp.StartUnixNanos).FirstOrDefault()?.SpanId;

        string? CalledFrom(DetectedEvent f) =>
            f.ParentSpanId is { } p && byId.ContainsKey(p) ? p
            : f.Kind == FailureKind.Crash && seenBy is not null && byId[seenBy].Service != f.Service ? seenBy
            : null;

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

        foreach (var root in trace.Spans.Where(sp => sp.ParentSpanId is null || !byId.ContainsKey(sp.ParentSpanId)).OrderBy(sp => sp.StartUnixNanos)) Visit(root);
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
            if (parent.Span.Service != span.Service) observer.Call(parent.Span.Service, span.Service, failed: false);
            // A child far before its parent by its own clock: that node is behind by more than the offset.
            if (parent.Span.StartUnixNanos - span.StartUnixNanos > _maxOffset) _skewedNodes.Add(span.Node);
        }
        else
        {
            st.Start = span.Hlc is not null && HybridTimestamp.TryParse(span.Hlc, out var own) && clock.Receive(own, span.StartUnixNanos, out var r) ? r : clock.Local(span.StartUnixNanos);
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
        if (span.ParentSpanId is { } p && _spans.TryGetValue(p, out var parent))
        {
            parent.ChildEnds.Add((stamp, span.Node));
            if (span.Status == SpanStatus.Error && parent.Span.Service != span.Service) observer.Call(parent.Span.Service, span.Service, failed: true);
        }
        observer.Served(span.Service, span.EndUnixNanos, span.Status != SpanStatus.Error);
        var crash = span.Exceptions.FirstOrDefault(x => x.Crash is not null);
        if (span.Status != SpanStatus.Error && crash is null) return;
        bool failed = span.Status == SpanStatus.Error;
        var e = new DetectedEvent
        {
            Id = crash is not null ? SpanCrashId(span) : $"span:{span.TraceId}:{span.SpanId}",
            Kind = crash is not null ? FailureKind.Crash : FailureKind.ErrorSpan,
            Service = span.Service, Node = span.Node, TimeUnixNanos = span.EndUnixNanos, TraceId = span.TraceId, SpanId = span.SpanId,
            Summary = (crash ?? (span.Exceptions.Count > 0 ? span.Exceptions[0] : null))?.Message ?? span.StatusMessage ?? span.Name,
            Crash = crash?.Crash, Fingerprint = crash?.Crash?.Fingerprint,
        };
        var stamped = new StampedEvent(e, new NodeStamp(stamp, span.Node), _skewedNodes.Contains(span.Node), late);
        if (failed) observer.Failure(stamped, fromSpan: true);
        else observer.SurvivedCrash(stamped);
    }

    /// <summary>A failure from the logs: inside its span, in an unexported callee of <paramref name="callerSpanId"/>, or on its own.</summary>
    public void Fail(DetectedEvent e, bool late, string? callerSpanId = null)
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
                observer.Call(caller.Span.Service, e.Service, failed: false);
                observer.Call(caller.Span.Service, e.Service, failed: true);
            }
        }
        var stamp = e.Hlc is { } hlc ? (clock.Receive(hlc, e.TimeUnixNanos, out var r, late) ? r : clock.Local(e.TimeUnixNanos)) : clock.Local(e.TimeUnixNanos);
        // A crashed callee never replies: the broken call is what the caller's failure receives.
        caller?.ChildEnds.Add((stamp, e.Node));
        // A crashed process has not served until a later request succeeds.
        if (e.Kind is FailureKind.Crash or FailureKind.Blocking) observer.Served(e.Service, e.TimeUnixNanos, ok: false);
        observer.Failure(new StampedEvent(e, new NodeStamp(stamp, e.Node), _skewedNodes.Contains(e.Node), late), fromSpan: false);
    }
}
