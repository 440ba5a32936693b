using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Delivery;

/// <summary>
/// Documents the store refused for good go to the dead-letter topic, with the reason and origin in headers;
/// their offsets are released only once the dead letter is delivered (an undelivered one holds its offset,
/// so the event is re-read after a restart rather than lost).
/// </summary>
public sealed class DeadLetterProducer : IDisposable
{
    private readonly KafkaSourceOptions _options;
    private readonly OffsetTracker _tracker;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;

    public DeadLetterProducer(KafkaSourceOptions options, OffsetTracker tracker, PipelineMetrics metrics, ILogger? logger = null)
    {
        _options = options;
        _tracker = tracker;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _producer = new Lazy<IProducer<byte[], byte[]>>(() =>
        {
            var config = new ProducerConfig { BootstrapServers = _options.BootstrapServers, EnableIdempotence = true, MessageMaxBytes = 32 * 1024 * 1024 };
            foreach (var (key, value) in _options.Client) config.Set(key, value);
            return new ProducerBuilder<byte[], byte[]>(config).Build();
        });
    }

    public void Send(IReadOnlyList<SinkRejection> rejected)
    {
        foreach (var r in rejected)
        {
            var e = r.Event;
            _metrics.DeadLetter();
            var headers = new Headers
            {
                { "ingest.error", Encoding.UTF8.GetBytes(r.Reason.Length > 1000 ? r.Reason[..1000] : r.Reason) },
                { "ingest.event.id", Encoding.UTF8.GetBytes(e.Id) },
                { "ingest.event.type", Encoding.UTF8.GetBytes(EventJsonWriter.TypeName(e.Event.Type)) },
                { "ingest.source.topic", Encoding.UTF8.GetBytes(e.Stream.Topic) },
                { "ingest.source.partition", Encoding.UTF8.GetBytes(e.Stream.Partition.ToString(CultureInfo.InvariantCulture)) },
                { "ingest.source.offset", Encoding.UTF8.GetBytes(e.FirstOffset.ToString(CultureInfo.InvariantCulture)) },
            };
            _producer.Value.Produce(_options.DeadLetterTopic, new Message<byte[], byte[]> { Key = Encoding.UTF8.GetBytes(e.Id), Value = r.Document, Headers = headers }, report =>
            {
                if (report.Error.IsError) _logger.LogError("dead letter for {Id} not delivered ({Reason}); its offset stays held", e.Id, report.Error.Reason);
                else _tracker.Acked(e);
            });
        }
    }

    public void Flush(TimeSpan timeout)
    {
        if (_producer.IsValueCreated) _producer.Value.Flush(timeout);
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated) _producer.Value.Dispose();
    }
}
