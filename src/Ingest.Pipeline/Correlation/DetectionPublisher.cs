using Confluent.Kafka;
using Ingest.Correlation.Incidents;
using Ingest.Correlation.Model;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Correlation;

/// <summary>
/// The detecting stage's side of correlation: every failure found in the logs (a crash, a blocking finding, a
/// GC anomaly opening) is published to the detections topic, keyed by trace id (or service when untraced) so
/// it lands in the partition its trace's spans do. The offset of the log line stays held until the
/// detection is delivered: at-least-once, like the store.
/// </summary>
public sealed class DetectionPublisher : IEventStage, IDisposable
{
    private readonly CorrelationTopicsOptions _topics;
    private readonly ILogger _logger;
    private readonly Lazy<IProducer<string, byte[]>> _producer;

    public DetectionPublisher(CorrelationTopicsOptions topics, KafkaSourceOptions kafka, ILogger? logger = null)
    {
        _topics = topics;
        _logger = logger ?? NullLogger.Instance;
        _producer = new Lazy<IProducer<string, byte[]>>(() =>
        {
            var config = KafkaClients.Producer(kafka, c =>
            {
                c.LingerMs = 5;
                // The Java clients' and franz-go's partitioner: the same key lands where the Collector put its spans.
                c.Partitioner = Partitioner.Murmur2Random;
            });
            return new ProducerBuilder<string, byte[]>(config).Build();
        });
    }

    public long Published { get; private set; }

    public static DetectedEvent? Detect(IndexedEvent e)
    {
        var m = e.Metadata;
        string service = GcAnalytics.ServiceOf(e);
        string node = m.Host ?? m.Pod ?? e.Stream.Source;
        long nanos = e.Timestamp.ToUnixTimeMilliseconds() * 1_000_000 + e.Timestamp.Ticks % TimeSpan.TicksPerMillisecond * 100;
        DetectedEvent Make(FailureKind kind, string summary, string? fingerprint, CrashInfo? crash = null) => new()
        {
            Id = e.Id, Kind = kind, Service = service, Node = node, TimeUnixNanos = nanos, Stream = e.Stream.ToString(),
            TraceId = m.TraceId, SpanId = m.SpanId, Summary = summary, Fingerprint = fingerprint, Crash = crash,
            Hlc = m.Hlc is { } h && Ingest.Correlation.Clocks.HybridTimestamp.TryParse(h, out var stamp) ? stamp : null,
        };
        return e.Event switch
        {
            CrashEvent c => Make(FailureKind.Crash, $"{c.Category}: {c.Message}", c.Fingerprint, CrashInfoOf(c)),
            GoroutineDumpEvent d when d.Findings.Any(f => f.Kind is "deadlock" or "contention") =>
                Make(FailureKind.Blocking, d.Findings.First(f => f.Kind is "deadlock" or "contention").Summary, null),
            GcAlertEvent a when a.Status == GcAlertEvent.Firing && a.Cycles == 1 => Make(FailureKind.GcAnomaly, $"{a.Kind}: {a.Reason}", a.Fingerprint),
            _ => null,
        };
    }

    /// <summary>What correlation needs of a parsed crash (the same for a logged panic and a span's exception).</summary>
    public static CrashInfo CrashInfoOf(CrashEvent c) => new(c.Category, c.RootCause?.Function, c.Fingerprint.Length > 0 ? c.Fingerprint : null);

    public void Process(IndexedEvent e, Action<IndexedEvent> next)
    {
        var detected = Detect(e);
        // The offset waits for the detection too: its share is taken before the sink can complete the event.
        if (detected is not null) e.Delivery.Hold();
        next(e);
        if (detected is null) return;
        string key = detected.TraceId ?? detected.Service;
        _producer.Value.Produce(_topics.DetectionsTopic, new Message<string, byte[]> { Key = key, Value = DetectionCodec.Encode(detected) }, report =>
        {
            if (report.Error.IsError)
            {
                _logger.LogError("detection {Id} not published ({Reason}); its offset stays held", e.Id, report.Error.Reason);
                return;
            }
            Published++;
            e.Delivery.Complete();
        });
    }

    public void Tick(DateTimeOffset now, Action<IndexedEvent> emit)
    {
    }

    public void Dispose()
    {
        if (!_producer.IsValueCreated) return;
        _producer.Value.Flush(TimeSpan.FromSeconds(10));
        _producer.Value.Dispose();
    }
}

/// <summary>Stages in sequence: what the first passes on (with what it adds) goes through the second.</summary>
public sealed class StageChain(params IEventStage[] stages) : IEventStage
{
    public void Process(IndexedEvent e, Action<IndexedEvent> next) => Run(0, e, next);

    private void Run(int i, IndexedEvent e, Action<IndexedEvent> next)
    {
        if (i == stages.Length) next(e);
        else stages[i].Process(e, x => Run(i + 1, x, next));
    }

    public void Tick(DateTimeOffset now, Action<IndexedEvent> emit)
    {
        foreach (var s in stages) s.Tick(now, emit);
    }
}
