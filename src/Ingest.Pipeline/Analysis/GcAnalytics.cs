using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Model;

namespace Ingest.Pipeline.Analysis;

/// <summary>
/// GC analytics across every stream: one <see cref="GcInstanceAnalyzer"/> per (service, instance), the
/// impact-factor window per service, and alert episodes: an anomaly opens one alert document per (instance,
/// kind), later anomalous cycles update that same document, the first cycle without it (or a quiet instance)
/// resolves it. Crash counters by category live here too: this stage sees every event.
/// Thread-safe: sources' processing threads call <see cref="Process"/>, the API reads.
/// </summary>
public sealed class GcAnalytics : IEventStage
{
    private readonly GcAnalyticsOptions _options;
    private readonly IReadOnlyList<IAlertNotifier> _notifiers;
    private readonly object _gate = new();
    private readonly Dictionary<(string Service, string Instance), InstanceState> _instances = [];
    private readonly Dictionary<string, Queue<GcSample>> _impactWindows = new(StringComparer.Ordinal);
    private readonly List<GcAnomaly> _scratch = [];

    private sealed class InstanceState(GcInstanceAnalyzer analyzer)
    {
        public readonly GcInstanceAnalyzer Analyzer = analyzer;
        public readonly Dictionary<string, Episode> Open = new(StringComparer.Ordinal);
        public DateTimeOffset LastSeen;
    }

    private sealed record Episode(GcAlertEvent Alert, IndexedEvent Origin);

    private readonly TimeProvider _time;

    public GcAnalytics(GcAnalyticsOptions options, IEnumerable<IAlertNotifier>? notifiers = null, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _notifiers = notifiers?.ToList() ?? [];
    }

    /// <summary>Most instances tracked at once; the longest quiet is dropped first (its alerts resolved).</summary>
    public int MaxInstances { get; init; } = 20_000;

    /// <summary>An open alert whose instance sent no GC cycle for this long (by the worker's clock) is resolved.</summary>
    public TimeSpan ResolveQuietAfter { get; init; } = TimeSpan.FromMinutes(15);

    public static string ServiceOf(IndexedEvent e) => e.Metadata.ServiceName ?? SourceMetadata.UnknownService;

    public static string InstanceOf(IndexedEvent e) => e.Metadata.Pod ?? e.Metadata.Host ?? e.Stream.Source;

    public void Process(IndexedEvent e, Action<IndexedEvent> next)
    {
        switch (e.Event)
        {
            case GcCycleEvent gc:
                ProcessCycle(e, gc, next);
                return;
            case CrashEvent crash:
                GcMetrics.Crash(ServiceOf(e), crash.Category);
                break;
            case GoroutineDumpEvent dump:
                lock (_gate)
                {
                    Instance(ServiceOf(e), InstanceOf(e)).Analyzer.Goroutines = dump.GoroutineCount;
                }
                break;
        }
        next(e);
    }

    private void ProcessCycle(IndexedEvent e, GcCycleEvent gc, Action<IndexedEvent> next)
    {
        string service = ServiceOf(e), instance = InstanceOf(e);
        var changed = new List<GcAlertEvent>();
        lock (_gate)
        {
            var state = Instance(service, instance);
            state.LastSeen = _time.GetUtcNow();
            _scratch.Clear();
            var sample = state.Analyzer.Observe(gc.Cycle, _scratch);
            gc.Derived = sample;
            gc.Anomalies = _scratch.ToArray();
            AddToImpact(service, sample);
            GcMetrics.Pause(service, sample.PauseMs);
            foreach (var a in gc.Anomalies) GcMetrics.Anomaly(service, GcAnomaly.KindName(a.Kind));
            // Forced cycles run no detector: they neither open nor resolve anything.
            if (!sample.Forced) Transition(state, e, gc, service, instance, changed);
        }
        // Each alert document holds the cycle's offset too: shares are taken before the cycle is passed on.
        foreach (var _ in changed) e.Delivery.Hold();
        next(e);
        foreach (var alert in changed)
        {
            next(new IndexedEvent
            {
                Id = IndexedEvent.IdFor(alert, e.Stream),
                Event = alert,
                Stream = e.Stream,
                FirstOffset = e.FirstOffset,
                Timestamp = alert.LastSeenAt,
                Metadata = e.Metadata,
                Delivery = e.Delivery,
            });
            Notify(alert);
        }
    }

    private void Transition(InstanceState state, IndexedEvent e, GcCycleEvent gc, string service, string instance, List<GcAlertEvent> changed)
    {
        var now = e.Timestamp;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in gc.Anomalies)
        {
            string kind = GcAnomaly.KindName(a.Kind);
            if (!seen.Add(kind)) continue;
            if (state.Open.TryGetValue(kind, out var episode))
            {
                var alert = episode.Alert;
                alert.LastSeenAt = now;
                alert.LastCycle = a.Cycle;
                alert.Cycles++;
                alert.Value = a.Value;
                alert.Threshold = a.Threshold;
                alert.PeakValue = Math.Max(alert.PeakValue, a.Value);
                alert.Reason = a.Reason;
                changed.Add(Snapshot(alert));
            }
            else
            {
                var alert = new GcAlertEvent
                {
                    Stream = gc.Stream,
                    Line = gc.Line,
                    EndLine = gc.EndLine,
                    Service = service,
                    Instance = instance,
                    Kind = kind,
                    Fingerprint = Fingerprint(service, instance, kind),
                    Status = GcAlertEvent.Firing,
                    StartedAt = now,
                    LastSeenAt = now,
                    FirstCycle = a.Cycle,
                    LastCycle = a.Cycle,
                    Cycles = 1,
                    Value = a.Value,
                    Threshold = a.Threshold,
                    PeakValue = a.Value,
                    Reason = a.Reason,
                };
                state.Open[kind] = new Episode(alert, e);
                GcMetrics.Firing(service, kind, +1);
                changed.Add(Snapshot(alert));
            }
        }
        foreach (var (kind, episode) in state.Open.Where(o => !seen.Contains(o.Key)).ToList())
        {
            state.Open.Remove(kind);
            changed.Add(Resolve(episode.Alert, now));
        }
    }

    private static GcAlertEvent Resolve(GcAlertEvent alert, DateTimeOffset at)
    {
        alert.Status = GcAlertEvent.Resolved;
        alert.EndedAt = at;
        GcMetrics.Firing(alert.Service, alert.Kind, -1);
        return Snapshot(alert);
    }

    private DateTimeOffset _lastSweep;

    public void Tick(DateTimeOffset now, Action<IndexedEvent> emit)
    {
        var resolved = new List<(GcAlertEvent Alert, IndexedEvent Origin)>();
        lock (_gate)
        {
            // Sources tick once per batch of messages; a sweep a second is plenty.
            if (now - _lastSweep < TimeSpan.FromSeconds(1)) return;
            _lastSweep = now;
            foreach (var ((service, instance), state) in _instances)
            {
                if (state.Open.Count == 0 || now - state.LastSeen < ResolveQuietAfter) continue;
                foreach (var episode in state.Open.Values) resolved.Add((Resolve(episode.Alert, episode.Alert.LastSeenAt), episode.Origin));
                state.Open.Clear();
            }
        }
        foreach (var (alert, origin) in resolved)
        {
            emit(new IndexedEvent
            {
                Id = IndexedEvent.IdFor(alert, origin.Stream),
                Event = alert,
                Stream = origin.Stream,
                FirstOffset = origin.FirstOffset,
                Timestamp = now,
                Metadata = origin.Metadata,
            });
            Notify(alert);
        }
    }

    private void AddToImpact(string service, GcSample sample)
    {
        if (!_impactWindows.TryGetValue(service, out var window)) _impactWindows[service] = window = new Queue<GcSample>();
        window.Enqueue(sample);
        while (window.Count > _options.ImpactWindowCycles) window.Dequeue();
    }

    /// <summary>Cycles per stream that <see cref="Rebuild"/> needs: the longest window any state keeps.</summary>
    public int HistoryCycles => Math.Max(GcInstanceAnalyzer.WindowCycles(_options), _options.ImpactWindowCycles);

    /// <summary>
    /// What a previous run derived (baselines, detector windows, goroutine counts, impact windows), rebuilt from
    /// its stored cycles and dumps in stored order. Nothing is emitted: those cycles' anomalies and alerts are
    /// stored already (open alerts come back through <see cref="Resume"/>).
    /// </summary>
    public void Rebuild(IEnumerable<Delivery.StoredGcEvent> history)
    {
        lock (_gate)
        {
            foreach (var h in history)
            {
                var state = Instance(h.Service, h.Instance);
                if (h.Cycle is null)
                {
                    state.Analyzer.Goroutines = h.Goroutines;
                    continue;
                }
                _scratch.Clear();
                AddToImpact(h.Service, state.Analyzer.Observe(h.Cycle, _scratch));
            }
            _scratch.Clear();
        }
    }

    /// <summary>Alerts left firing by a previous run (from the store): continued or resolved by this one.</summary>
    public void Resume(IEnumerable<(GcAlertEvent Alert, IndexedEvent Origin)> open)
    {
        lock (_gate)
        {
            foreach (var (alert, origin) in open)
            {
                var state = Instance(alert.Service, alert.Instance);
                if (state.Open.TryAdd(alert.Kind, new Episode(alert, origin))) GcMetrics.Firing(alert.Service, alert.Kind, +1);
                state.LastSeen = _time.GetUtcNow();
            }
        }
    }

    public ImpactTable Impact(string service)
    {
        List<GcSample> window;
        lock (_gate)
        {
            window = _impactWindows.TryGetValue(service, out var q) ? [.. q] : [];
        }
        return ImpactRegression.Compute(window);
    }

    public IReadOnlyList<string> Services()
    {
        lock (_gate)
        {
            return [.. _impactWindows.Keys.Order(StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<GcAlertEvent> OpenAlerts()
    {
        lock (_gate)
        {
            return [.. _instances.Values.SelectMany(s => s.Open.Values).Select(ep => Snapshot(ep.Alert))];
        }
    }

    private InstanceState Instance(string service, string instance)
    {
        if (_instances.TryGetValue((service, instance), out var state)) return state;
        if (_instances.Count >= MaxInstances)
        {
            // Rare (only beyond MaxInstances): a linear scan is fine.
            var quietest = _instances.MinBy(kv => kv.Value.LastSeen);
            foreach (var ep in quietest.Value.Open.Values) GcMetrics.Firing(ep.Alert.Service, ep.Alert.Kind, -1);
            _instances.Remove(quietest.Key);
        }
        state = new InstanceState(new GcInstanceAnalyzer(_options, service)) { LastSeen = _time.GetUtcNow() };
        _instances[(service, instance)] = state;
        return state;
    }

    private void Notify(GcAlertEvent alert)
    {
        foreach (var n in _notifiers) n.Notify(alert);
    }

    public static string Fingerprint(string service, string instance, string kind)
    {
        var h = System.IO.Hashing.XxHash64.HashToUInt64(System.Text.Encoding.UTF8.GetBytes($"{service}\n{instance}\n{kind}"));
        return h.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A copy for the sink and notifiers: the episode itself keeps changing on this thread.</summary>
    private static GcAlertEvent Snapshot(GcAlertEvent a) => new()
    {
        Stream = a.Stream,
        Line = a.Line,
        EndLine = a.EndLine,
        Service = a.Service,
        Instance = a.Instance,
        Kind = a.Kind,
        Fingerprint = a.Fingerprint,
        Status = a.Status,
        StartedAt = a.StartedAt,
        LastSeenAt = a.LastSeenAt,
        EndedAt = a.EndedAt,
        FirstCycle = a.FirstCycle,
        LastCycle = a.LastCycle,
        Cycles = a.Cycles,
        Value = a.Value,
        Threshold = a.Threshold,
        PeakValue = a.PeakValue,
        Reason = a.Reason,
    };
}

/// <summary>Told about every alert change (opened, updated, resolved), on the processing thread: must not block.</summary>
public interface IAlertNotifier
{
    void Notify(GcAlertEvent alert);
}
