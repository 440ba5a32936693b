namespace Ingest.Correlation.Incidents;

/// <summary>What became of a span's crash: linked to the logged crash of the same panic (one failure, whose
/// document is the log's), or not (the span's crash is the only view of it and gets its own document).</summary>
public sealed record SpanCrashOutcome(string SpanCrashId, string? LinkedCrashId);

/// <summary>
/// Groups stamped failures into incidents (union-find; the older group's key survives a merge, so incident ids do
/// not change as they grow). Failures of one trace are one incident. A crash from the logs is linked one-to-one to
/// the failing span of its service and host that matches it best (same fingerprint, else same message, then the
/// nearest time, within the maximum clock offset; a traced crash only within its trace); a span takes at most one
/// crash, and a crash with no candidate is an incident of its own. When the span carries the same panic (its
/// exception), the two are one failure: the span's event becomes the logged crash, with the span's trace and span
/// ids. Other untraced failures join the nearest crash of the same identity (a known service, else the same
/// stream and host) within <see cref="CorrelationOptions.ServiceWindow"/>. Candidates are found through indexes
/// (trace id; service + host; identity, by time); every structure is bounded.
/// </summary>
public sealed class IncidentGrouper(CorrelationOptions options, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    /// <summary>Events kept per incident; a runaway incident does not grow without end.</summary>
    public const int MaxEventsPerIncident = 4096;
    private const int MaxPerKey = 256;
    private const int MaxServices = 10_000;

    private readonly long _bound = options.MaxClockOffset.Ticks * 100;
    private readonly long _serviceWindow = options.ServiceWindow.Ticks * 100;
    private readonly Dictionary<string, Group> _byTrace = new(StringComparer.Ordinal);
    private readonly Queue<Group> _created = new();
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Service, string Node), List<SpanFailure>> _failingSpans = [];
    private readonly Dictionary<string, List<(long Time, Group Group)>> _crashesByIdentity = new(StringComparer.Ordinal);
    // Untraced failures other than crashes that started an incident of their own: a later crash nearby takes them in.
    private readonly Dictionary<string, List<(long Time, Group Group)>> _looseByIdentity = new(StringComparer.Ordinal);
    private readonly Queue<SpanFailure> _pendingViews = new();
    private readonly List<SpanCrashOutcome> _settled = [];
    private readonly Dictionary<string, long> _lastServed = new(StringComparer.Ordinal);
    // Per service: its latest failure, and the first successful answer after it (the recovery time).
    private readonly Dictionary<string, (long Failed, long? Recovered)> _recovery = new(StringComparer.Ordinal);
    private long _seq;
    private long _latest = long.MinValue;
    private int _sinceSweep;

    private sealed class Group(string key, long seq)
    {
        public readonly string Key = key;
        public readonly long Seq = seq;
        public Group? Parent;
        public bool Evicted;
        public readonly List<StampedEvent> Events = [];
        public readonly HashSet<string> Traces = new(StringComparer.Ordinal);
    }

    /// <summary>A failing span an untraced crash may be linked to; a span carrying a crash is also a view awaiting
    /// its logged twin.</summary>
    private sealed class SpanFailure(StampedEvent e, Group? group, long recorded)
    {
        public readonly string OriginalId = e.Event.Id;
        /// <summary>Wall-clock timestamp when it was recorded: a logged twin trails its span by up to a reorder window.</summary>
        public readonly long Recorded = recorded;
        public StampedEvent Event = e;
        /// <summary>Null for a crash the span survived: it is in no incident until a logged crash claims it.</summary>
        public readonly Group? Group = group;
        public bool Claimed;
        public string? LinkedTo;
    }

    /// <summary>Recovered needs only the latest successful answer of each service, and when it first answered after its latest failure.</summary>
    public void Served(string service, long time, bool ok)
    {
        if (!ok || (_lastServed.Count >= MaxServices && !_lastServed.ContainsKey(service))) return;
        _lastServed[service] = Math.Max(time, _lastServed.GetValueOrDefault(service, long.MinValue));
        if (_recovery.TryGetValue(service, out var r) && time > r.Failed && (r.Recovered is null || time < r.Recovered))
        {
            _recovery[service] = (r.Failed, time);
        }
    }

    private void Failed(string service, long time)
    {
        if (_recovery.TryGetValue(service, out var r) ? time <= r.Failed : _recovery.Count >= MaxServices) return;
        // A later failure: recovery is measured from it (an answer seen already that came after it still counts).
        long? recovered = _lastServed.TryGetValue(service, out long served) && served > time ? served : null;
        _recovery[service] = (time, recovered);
    }

    public void Add(StampedEvent s, bool fromSpan)
    {
        var e = s.Event;
        _latest = Math.Max(_latest, e.TimeUnixNanos);
        Failed(e.Service, e.TimeUnixNanos);
        if (++_sinceSweep >= 1024) Sweep();
        if (fromSpan) AddSpanFailure(s);
        else if (e.Kind == FailureKind.Crash) AddCrash(s);
        else AddOther(s);
    }

    /// <summary>A crash its span survived: only a view awaiting a logged twin, in no incident of its own.</summary>
    public void AddSurvivedCrash(StampedEvent s)
    {
        var view = new SpanFailure(s, null, _time.GetTimestamp());
        Indexed(_failingSpans, (s.Event.Service, s.Event.Node)).Add(view);
        _pendingViews.Enqueue(view);
        while (_pendingViews.Count > options.MaxSpans) Settle(_pendingViews.Dequeue());
    }

    private void AddSpanFailure(StampedEvent s)
    {
        var group = TraceGroup(s.Event.TraceId!) ?? NewGroup(s.Event);
        Append(group, s);
        var failure = new SpanFailure(s, group, _time.GetTimestamp());
        Indexed(_failingSpans, (s.Event.Service, s.Event.Node)).Add(failure);
        if (s.Event.Kind != FailureKind.Crash) return;
        _pendingViews.Enqueue(failure);
        while (_pendingViews.Count > options.MaxSpans) Settle(_pendingViews.Dequeue());
        IndexCrash(s.Event, group);
    }

    private void AddCrash(StampedEvent s)
    {
        var e = s.Event;
        var best = Candidate(e);
        Group group;
        if (best is { Group: null })
        {
            // The span survived it: the logged crash is the failure, of the span's trace.
            best.Claimed = true;
            best.LinkedTo = e.Id;
            e = e with { TraceId = best.Event.Event.TraceId, SpanId = best.Event.Event.SpanId };
            s = s with { Event = e };
            best = null;
        }
        if (best is not null)
        {
            best.Claimed = true;
            group = Find(best.Group!);
            var view = best.Event;
            if (view.Event.Kind == FailureKind.Crash && SameFailure(e, view.Event))
            {
                // One failure seen twice: the logged crash (the whole dump, the exit status) in the span's place.
                var merged = new StampedEvent(e with { TraceId = view.Event.TraceId, SpanId = view.Event.SpanId }, view.Stamp, s.ClockSkew || view.ClockSkew, s.Late || view.Late);
                int at = group.Events.IndexOf(view);
                if (at >= 0) group.Events[at] = merged;
                best.Event = merged;
                best.LinkedTo = e.Id;
                _changed.Add(group.Key);
                return;
            }
            Append(group, s);
        }
        else
        {
            group = (e.TraceId is { } t ? TraceGroup(t) : null) ?? NewGroup(e);
            Append(group, s);
        }
        IndexCrash(e, group);
    }

    private void AddOther(StampedEvent s)
    {
        var e = s.Event;
        if (e.TraceId is { } t)
        {
            Append(TraceGroup(t) ?? NewGroup(e), s);
            return;
        }
        var group = Nearest(_crashesByIdentity, e.Identity, e.TimeUnixNanos);
        if (group is null)
        {
            group = NewGroup(e);
            Capped(Indexed(_looseByIdentity, e.Identity)).Add((e.TimeUnixNanos, group));
        }
        Append(group, s);
    }

    /// <summary>The failing span of the crash's service and host that matches it best, not yet claimed.</summary>
    private SpanFailure? Candidate(DetectedEvent e)
    {
        if (!e.KnownService || !_failingSpans.TryGetValue((e.Service, e.Node), out var list)) return null;
        SpanFailure? best = null;
        (int Rank, long Distance) bestKey = (int.MaxValue, long.MaxValue);
        foreach (var f in list)
        {
            if (f.Claimed || (f.Group is not null && Find(f.Group).Evicted)) continue;
            var span = f.Event.Event;
            if (e.TraceId is not null && span.TraceId != e.TraceId) continue;
            long distance = Math.Abs(span.TimeUnixNanos - e.TimeUnixNanos);
            // A span that survived its crash is no failing span: only the same panic links to it.
            if (distance > _bound || (f.Group is null && !SameFailure(e, span))) continue;
            int rank = SameFailure(e, span) ? 0 : span.Summary.Length > 0 && e.Summary.Contains(span.Summary, StringComparison.Ordinal) ? 1 : 2;
            if ((rank, distance).CompareTo(bestKey) < 0)
            {
                best = f;
                bestKey = (rank, distance);
            }
        }
        return best;
    }

    private static bool SameFailure(DetectedEvent a, DetectedEvent b) =>
        a.Crash?.Fingerprint is { Length: > 0 } fp && fp == b.Crash?.Fingerprint;

    /// <summary>A crash of this identity: later failures nearby join it, and loose ones nearby are taken in.</summary>
    private void IndexCrash(DetectedEvent e, Group group)
    {
        Capped(Indexed(_crashesByIdentity, e.Identity)).Add((e.TimeUnixNanos, group));
        if (!_looseByIdentity.TryGetValue(e.Identity, out var loose)) return;
        for (int i = loose.Count - 1; i >= 0; i--)
        {
            var g = Find(loose[i].Group);
            if (Math.Abs(loose[i].Time - e.TimeUnixNanos) > _serviceWindow) continue;
            loose.RemoveAt(i);
            if (g == Find(group) || g.Evicted || g.Traces.Count > 0 || g.Events.Exists(x => x.Event.Kind == FailureKind.Crash)) continue;
            group = Union(Find(group), g);
        }
    }

    private Group? Nearest(Dictionary<string, List<(long Time, Group Group)>> index, string key, long time)
    {
        if (!index.TryGetValue(key, out var list)) return null;
        Group? best = null;
        long bestDistance = long.MaxValue;
        foreach (var (t, g) in list)
        {
            long d = Math.Abs(t - time);
            if (d <= _serviceWindow && d < bestDistance && !Find(g).Evicted)
            {
                best = Find(g);
                bestDistance = d;
            }
        }
        return best;
    }

    private static List<T> Indexed<TKey, T>(Dictionary<TKey, List<T>> index, TKey key) where TKey : notnull
    {
        if (!index.TryGetValue(key, out var list)) index[key] = list = [];
        return Capped(list);
    }

    private static List<T> Capped<T>(List<T> list)
    {
        if (list.Count >= MaxPerKey) list.RemoveAt(0);
        return list;
    }

    /// <summary>Drops index entries no failure can match any more (older than the windows, or of evicted incidents).</summary>
    private void Sweep()
    {
        _sinceSweep = 0;
        long horizon = _latest - Math.Max(_serviceWindow, _bound) - options.ReorderWindow.Ticks * 100;
        Prune(_failingSpans, f => f.Event.Event.TimeUnixNanos < horizon || (f.Group is not null && Find(f.Group).Evicted));
        Prune(_crashesByIdentity, x => x.Time < horizon || Find(x.Group).Evicted);
        Prune(_looseByIdentity, x => x.Time < horizon || Find(x.Group).Evicted);
    }

    private static void Prune<TKey, T>(Dictionary<TKey, List<T>> index, Predicate<T> stale) where TKey : notnull
    {
        foreach (var key in index.Keys.ToList())
        {
            var list = index[key];
            list.RemoveAll(stale);
            if (list.Count == 0) index.Remove(key);
        }
    }

    /// <summary>Spans' crashes decided up to <paramref name="horizon"/> (no logged crash within the offset bound can
    /// still come on time) and held a reorder window of wall time (the logs' detections trail the spans):
    /// linked ones, and ones that stay the only view of their panic. <see cref="long.MaxValue"/>: all of them.</summary>
    public IReadOnlyList<SpanCrashOutcome> TakeSettled(long horizon)
    {
        while (_pendingViews.TryPeek(out var v) && (horizon == long.MaxValue ||
            (v.Event.Event.TimeUnixNanos + 2 * _bound <= horizon && _time.GetElapsedTime(v.Recorded) >= options.ReorderWindow))) Settle(_pendingViews.Dequeue());
        if (_settled.Count == 0) return [];
        var result = _settled.ToList();
        _settled.Clear();
        return result;
    }

    private void Settle(SpanFailure view) => _settled.Add(new SpanCrashOutcome(view.OriginalId, view.LinkedTo));

    private Group? TraceGroup(string trace) => _byTrace.TryGetValue(trace, out var g) && Find(g) is { Evicted: false } root ? root : null;

    private Group NewGroup(DetectedEvent e)
    {
        var g = new Group("incident:" + e.Id, _seq++);
        _created.Enqueue(g);
        // The oldest incident goes, and its traces with it (else the trace index would grow forever).
        while (_created.Count > options.MaxIncidents)
        {
            var old = _created.Dequeue();
            if (old.Parent is not null) continue;
            old.Evicted = true;
            foreach (string t in old.Traces) _byTrace.Remove(t);
            _changed.Remove(old.Key);
        }
        return g;
    }

    private void Append(Group group, StampedEvent s)
    {
        if (group.Events.Count < MaxEventsPerIncident) group.Events.Add(s);
        _changed.Add(group.Key);
        if (s.Event.TraceId is not { } t) return;
        if (_byTrace.TryGetValue(t, out var other) && Find(other) is { Evicted: false } o && o != group) group = Union(group, o);
        _byTrace[t] = group;
        group.Traces.Add(t);
    }

    private static Group Find(Group g)
    {
        while (g.Parent is not null) g = g.Parent;
        return g;
    }

    private Group Union(Group a, Group b)
    {
        var (keep, gone) = a.Seq <= b.Seq ? (a, b) : (b, a);
        gone.Parent = keep;
        _changed.Add(keep.Key);
        _changed.Remove(gone.Key);
        keep.Events.AddRange(gone.Events.Take(MaxEventsPerIncident - keep.Events.Count));
        gone.Events.Clear();
        foreach (string t in gone.Traces) _byTrace[t] = keep;
        keep.Traces.UnionWith(gone.Traces);
        return keep;
    }

    /// <summary>
    /// The incidents so far: groups with a crash, a blocking finding or a GC anomaly, or errors in two or more
    /// services (a lone error span is not an incident).
    /// </summary>
    public IReadOnlyList<Incident> Incidents()
    {
        var result = new List<Incident>();
        foreach (var g in _created)
        {
            if (g.Parent is not null || g.Evicted || g.Events.Count == 0) continue;
            var events = g.Events.OrderBy(e => e.Stamp).ToList();
            bool strong = events.Exists(e => e.Event.Kind != FailureKind.ErrorSpan);
            if (!strong && events.Select(e => e.Event.Service).Distinct().Count() < 2) continue;
            var path = new List<PropagationStep>();
            foreach (var service in events.GroupBy(e => e.Event.Service))
            {
                var first = service.First();
                // Recovered: the service answered a request successfully after its last failure here.
                long last = service.Max(e => e.Event.TimeUnixNanos);
                bool recovered = _lastServed.TryGetValue(service.Key, out long served) && served > last;
                long? recoveredAt = recovered && _recovery.TryGetValue(service.Key, out var r) && r.Failed == last ? r.Recovered : null;
                path.Add(new PropagationStep(service.Key, first.Event.Kind, first.Stamp, recovered, recoveredAt));
            }
            result.Add(new Incident
            {
                Id = g.Key,
                Events = events,
                RootCause = events[0],
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
}
