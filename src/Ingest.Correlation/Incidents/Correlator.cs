using Ingest.Correlation.Clocks;
using Ingest.Correlation.Model;

namespace Ingest.Correlation.Incidents;

/// <summary>
/// Orders failures and spans across nodes and links them into incidents: the <see cref="ReorderBuffer"/> releases
/// items in time order, the <see cref="CausalStamper"/> stamps them with one hybrid logical clock per node in each
/// trace's span-tree order, the <see cref="IncidentGrouper"/> groups the stamped failures, and the
/// <see cref="DependencyGraph"/> counts the calls between services. This class only wires them.
/// </summary>
public sealed class Correlator : ICausalObserver
{
    private readonly ReorderBuffer _buffer;
    private readonly CausalStamper _stamper;
    private readonly IncidentGrouper _grouper;
    private readonly DependencyGraph _graph = new();

    public Correlator(CorrelationOptions options, TimeProvider? time = null)
    {
        _stamper = new CausalStamper(options, this);
        _grouper = new IncidentGrouper(options, time);
        _buffer = new ReorderBuffer(options, time ?? TimeProvider.System, _stamper.Process, (e, late) => _stamper.Fail(e, late));
    }

    public SkewEstimator Skew => _stamper.Skew;

    public long SkewRejections => _stamper.SkewRejections;

    public long LateEvents => _stamper.LateEvents;

    public IReadOnlyCollection<string> SkewedNodes => _stamper.SkewedNodes;

    public void AddSpan(SpanRecord span) => _buffer.Add(span);

    public void AddEvent(DetectedEvent e) => _buffer.Add(e);

    /// <summary>Processes everything still buffered (end of input, or a quiet period).</summary>
    public void Flush() => _buffer.Flush();

    /// <summary>Releases what the watermark and the hold time allow (call periodically).</summary>
    public void Tick() => _buffer.Tick();

    public IReadOnlyList<Incident> Incidents() => _grouper.Incidents();

    /// <summary>Incidents that gained events since the last call (what to write to the store again).</summary>
    public IReadOnlyList<Incident> TakeChanged() => _grouper.TakeChanged();

    /// <summary>Spans' crashes whose fate is decided: linked to a logged crash of the same panic, or not.</summary>
    public IReadOnlyList<SpanCrashOutcome> TakeSettledSpanCrashes() => _grouper.TakeSettled(_buffer.Horizon);

    /// <summary>Caller → callee edges from parent/child spans, with crashes that spread along them.</summary>
    public IReadOnlyList<DependencyEdge> Graph() => _graph.Edges(_grouper.Incidents());

    void ICausalObserver.Call(string caller, string callee, bool failed) => _graph.Call(caller, callee, failed);

    void ICausalObserver.Served(string service, long timeUnixNanos, bool ok) => _grouper.Served(service, timeUnixNanos, ok);

    void ICausalObserver.Failure(StampedEvent e, bool fromSpan) => _grouper.Add(e, fromSpan);

    void ICausalObserver.SurvivedCrash(StampedEvent e) => _grouper.AddSurvivedCrash(e);
}
