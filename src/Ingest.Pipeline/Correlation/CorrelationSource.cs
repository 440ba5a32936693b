using Confluent.Kafka;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Pipeline.Sources.Kafka.Decoding;
using Ingest.Pipeline.Sources.Kafka.Decoding.Otlp;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Correlation;

/// <summary>
/// The correlating stage: a consumer group over the detections topic and the spans topic, co-partitioned by
/// trace id (range assignment gives a worker the same partition numbers of both), feeding the
/// <see cref="Correlator"/> and writing incidents to the sink as they change. Its state is a time window, so
/// instead of committing offsets it re-reads <see cref="CorrelationTopicsOptions.Lookback"/> of history when
/// partitions are assigned; incident ids are deterministic, so rewriting an incident after a restart or a
/// rebalance replaces the same document.
/// </summary>
public sealed class CorrelationSource
{
    public static readonly StreamKey IncidentStream = new("correlation", 0, "incidents");

    private readonly CorrelationTopicsOptions _topics;
    private readonly KafkaSourceOptions _kafka;
    private readonly BatchingSinkHost _sink;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private Correlator _correlator;
    private readonly CorrelationOptions _options;
    private readonly List<SpanRecord> _spans = [];
    // Span crashes parsed but not yet decided on (see ParseStack), in arrival order for the bound.
    private readonly Dictionary<string, IndexedEvent> _spanCrashes = new(StringComparer.Ordinal);
    private readonly Queue<string> _spanCrashOrder = new();

    private readonly Ingest.GoRuntime.Analysis.AnalyzerOptions _analysis;

    public CorrelationSource(CorrelationOptions options, CorrelationTopicsOptions topics, KafkaSourceOptions kafka, BatchingSinkHost sink, ILogger? logger = null, TimeProvider? time = null,
        Ingest.GoRuntime.Analysis.AnalyzerOptions? analysis = null)
    {
        _analysis = analysis ?? new Ingest.GoRuntime.Analysis.AnalyzerOptions();
        _options = options;
        _topics = topics;
        _kafka = kafka;
        _sink = sink;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _correlator = new Correlator(options, _time);
    }

    public long Detections { get; private set; }
    public long Spans { get; private set; }
    public long IncidentsWritten { get; private set; }
    public IReadOnlyList<TopicPartition> Assignment { get; private set; } = [];

    public IReadOnlyList<Incident> Incidents()
    {
        lock (_gate) return _correlator.Incidents();
    }

    public IReadOnlyList<DependencyEdge> Graph()
    {
        lock (_gate) return _correlator.Graph();
    }

    public IReadOnlyDictionary<string, long> ClockLagNanos()
    {
        lock (_gate) return new Dictionary<string, long>(_correlator.Skew.All);
    }

    public IReadOnlyCollection<string> SkewedNodes()
    {
        lock (_gate) return [.. _correlator.SkewedNodes];
    }

    public void Run(CancellationToken cancellationToken)
    {
        var config = KafkaClients.Consumer(_kafka, _kafka.GroupId + "-correlation", c =>
        {
            c.EnableAutoCommit = false;
            // Partition i of the detections topic and partition i of the spans topic go to the same worker.
            c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range;
        });
        using var consumer = new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, e) => _logger.Log(e.IsFatal ? LogLevel.Error : LogLevel.Warning, "correlation kafka: {Reason}", e.Reason))
            .SetPartitionsAssignedHandler((c, partitions) => OnAssigned(c, partitions))
            .SetPartitionsRevokedHandler((_, _) => Reset())
            .SetPartitionsLostHandler((_, _) => Reset())
            .Build();
        consumer.Subscribe([_topics.DetectionsTopic, _topics.SpansTopic]);
        long lastFlushCheck = _time.GetTimestamp();
        long lastMessage = _time.GetTimestamp();
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                ConsumeResult<byte[], byte[]>? r = null;
                try
                {
                    r = consumer.Consume(TimeSpan.FromMilliseconds(100));
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    _logger.LogWarning("correlation consume error: {Reason}", ex.Error.Reason);
                }
                if (r?.Message?.Value is { } value)
                {
                    Handle(r.Topic, value);
                    lastMessage = _time.GetTimestamp();
                }
                // Quiet for a whole reorder window of wall time: what is buffered is as complete as it will get
                // (detections trail their spans by the time a crash takes to be assembled and published).
                if (_time.GetElapsedTime(lastFlushCheck) > TimeSpan.FromMilliseconds(500))
                {
                    lastFlushCheck = _time.GetTimestamp();
                    if (_time.GetElapsedTime(lastMessage) >= _options.ReorderWindow) Flush();
                    else Tick();
                    WriteChanged();
                    IndexSettledSpanCrashes();
                    lock (_gate) CorrelationMetrics.Publish(_correlator.Skew.All, _correlator.SkewedNodes, _correlator.SkewRejections, _correlator.LateEvents);
                }
            }
            Flush();
            WriteChanged();
            IndexSettledSpanCrashes();
            consumer.Close();
        }
        catch (OperationCanceledException)
        {
        }
    }

    private IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[], byte[]> consumer, List<TopicPartition> partitions)
    {
        Assignment = partitions;
        _logger.LogInformation("correlation: assigned {Count} partitions: {Partitions}", partitions.Count, string.Join(", ", partitions.Select(tp => $"{tp.Topic}[{tp.Partition.Value}]")));
        Reset();
        // Re-read the lookback window: the correlator's state is rebuilt, nothing needs committing.
        if (_topics.ReplayFromBeginning) return partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning));
        var since = _time.GetUtcNow() - _topics.Lookback;
        try
        {
            var wanted = partitions.Select(tp => new TopicPartitionTimestamp(tp, new Timestamp(since.UtcDateTime))).ToList();
            return consumer.OffsetsForTimes(wanted, TimeSpan.FromSeconds(10))
                .Select(o => o.Offset == Offset.End ? new TopicPartitionOffset(o.TopicPartition, Offset.End) : o).ToList();
        }
        catch (KafkaException ex)
        {
            _logger.LogWarning("correlation: offsets for the lookback window unavailable ({Reason}); reading from the beginning", ex.Error.Reason);
            return partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Beginning));
        }
    }

    private void Reset()
    {
        lock (_gate)
        {
            _correlator = new Correlator(_options, _time);
            _written.Clear();
            _spanCrashes.Clear();
            _spanCrashOrder.Clear();
        }
    }

    private void Handle(string topic, byte[] value)
    {
        lock (_gate)
        {
            if (topic == _topics.DetectionsTopic)
            {
                if (DetectionCodec.Decode(value) is { } detected)
                {
                    Detections++;
                    _correlator.AddEvent(detected);
                }
                return;
            }
            _spans.Clear();
            string? error = _topics.SpansFormat == MessageFormat.OtlpJson ? OtlpTracesDecoder.DecodeJson(value, _spans) : OtlpTracesDecoder.DecodeProto(value, _spans);
            if (error is not null)
            {
                _logger.LogWarning("correlation: undecodable span batch skipped: {Reason}", error);
                return;
            }
            foreach (var s in _spans) _correlator.AddSpan(ParseStack(s));
            Spans += _spans.Count;
        }
    }

    /// <summary>
    /// A Go exception event carries runtime.Stack text: it goes through the same crash parser as the logs, so the
    /// correlator can tell it is the same panic as a logged crash (category, root-cause frame, fingerprint). Its
    /// document waits for the correlator's verdict: when the logs show the same panic, that crash document is the
    /// failure and this one is never written; otherwise it is indexed as a recovered crash of its span.
    /// </summary>
    private SpanRecord ParseStack(SpanRecord span)
    {
        int at = -1;
        for (int i = 0; i < span.Exceptions.Count && at < 0; i++)
        {
            if (span.Exceptions[i].StackTrace?.Contains("goroutine ", StringComparison.Ordinal) == true) at = i;
        }
        if (at < 0) return span;
        var ex = span.Exceptions[at];
        string message = (ex.Message ?? ex.Type ?? "error").ReplaceLineEndings(" ");
        string text = $"panic: {message}\n\n{ex.StackTrace}\n";
        var stream = new StreamKey(_topics.SpansTopic, 0, $"{span.Service}/{span.Node}");
        var metadata = new SourceMetadata { Service = span.Service, Host = span.Node, TraceId = span.TraceId, SpanId = span.SpanId };
        CrashEvent? crash = null;
        using (var input = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)))
        {
            Ingest.Pipeline.Analysis.StreamAnalyzer.Analyze(input, stream.Source, _analysis, e => crash ??= e as CrashEvent);
        }
        if (crash is null) return span;
        // The span finished and was exported: the process survived it.
        crash.Recovered = true;
        string id = CausalStamper.SpanCrashId(span);
        if (_spanCrashes.TryAdd(id, new IndexedEvent
            {
                Id = id, Event = crash, Stream = stream, FirstOffset = 0,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(span.EndUnixNanos / 1_000_000), Metadata = metadata,
            }))
        {
            _spanCrashOrder.Enqueue(id);
            // Bounded like the correlator's spans: the oldest undecided one is written as it stands.
            while (_spanCrashOrder.Count > _options.MaxSpans)
            {
                if (_spanCrashes.Remove(_spanCrashOrder.Dequeue(), out var oldest)) IndexSpanCrash(oldest);
            }
        }
        var exceptions = span.Exceptions.ToArray();
        exceptions[at] = ex with { Crash = DetectionPublisher.CrashInfoOf(crash) };
        return span with { Exceptions = exceptions };
    }

    /// <summary>Writes the span crashes the correlator found no logged twin for, forgets the linked ones.</summary>
    private void IndexSettledSpanCrashes()
    {
        var write = new List<IndexedEvent>();
        lock (_gate)
        {
            foreach (var outcome in _correlator.TakeSettledSpanCrashes())
            {
                if (_spanCrashes.Remove(outcome.SpanCrashId, out var e) && outcome.LinkedCrashId is null) write.Add(e);
            }
        }
        foreach (var e in write) IndexSpanCrash(e);
    }

    private void IndexSpanCrash(IndexedEvent e)
    {
        _sink.Enqueue(e);
        StackCrashes++;
    }

    public long StackCrashes { get; private set; }

    private void Flush()
    {
        lock (_gate) _correlator.Flush();
    }

    private void Tick()
    {
        lock (_gate) _correlator.Tick();
    }

    // What was last written per incident: a document is rewritten when it gains events or a service recovers.
    private readonly Dictionary<string, string> _written = new(StringComparer.Ordinal);

    private static string Signature(Incident i) => $"{i.Events.Count}|{string.Join(",", i.Path.Select(p => p.Service + (p.Recovered ? "+" : "-")))}";

    private void WriteChanged()
    {
        var changed = new List<Incident>();
        lock (_gate)
        {
            var taken = _correlator.TakeChanged();
            var ids = taken.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            changed.AddRange(taken);
            // Services still failing may have recovered since: those incidents are looked at again.
            if (_written.Count > 0)
            {
                changed.AddRange(_correlator.Incidents().Where(i => !ids.Contains(i.Id) && _written.TryGetValue(i.Id, out var sig) && sig != Signature(i)));
            }
        }
        WriteGraph();
        foreach (var incident in changed)
        {
            _written[incident.Id] = Signature(incident);
            if (_written.Count > _options.MaxIncidents) _written.Remove(_written.Keys.First());
            var e = IncidentEvent.From(incident);
            long last = incident.Events.Max(x => x.Event.TimeUnixNanos);
            _sink.Enqueue(new IndexedEvent
            {
                Id = incident.Id, Event = e, Stream = IncidentStream, FirstOffset = 0,
                Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(last / 1_000_000), Metadata = new SourceMetadata { Service = incident.RootCause.Event.Service },
            });
            IncidentsWritten++;
            CorrelationMetrics.IncidentWritten();
        }
    }

    private string _graphWritten = string.Empty;

    /// <summary>This worker's dependency graph, stored as one document that is rewritten when it changes.</summary>
    private void WriteGraph()
    {
        IReadOnlyList<DependencyEdge> edges;
        IReadOnlyDictionary<string, long> lag;
        lock (_gate)
        {
            edges = _correlator.Graph();
            lag = new Dictionary<string, long>(_correlator.Skew.All);
        }
        if (edges.Count == 0) return;
        int[] partitions = [.. Assignment.Select(tp => tp.Partition.Value).Distinct().Order()];
        string signature = string.Join(";", edges) + "|" + string.Join(";", lag) + "|" + string.Join(",", partitions);
        if (signature == _graphWritten) return;
        _graphWritten = signature;
        var graph = new DependencyGraphEvent { Stream = "correlation", Line = 0, Edges = edges, ClockLagNanos = lag, Partitions = partitions };
        _sink.Enqueue(new IndexedEvent
        {
            // One per worker's share of the partitions: members of a group each store theirs.
            Id = $"dependency-graph:{_kafka.GroupId}:{string.Join(",", partitions)}", Event = graph, Stream = IncidentStream, FirstOffset = 0,
            Timestamp = _time.GetUtcNow(), Metadata = SourceMetadata.Empty,
        });
    }
}
