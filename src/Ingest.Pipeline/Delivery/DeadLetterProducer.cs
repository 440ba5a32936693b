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
/// The one dead-letter path: messages that cannot be decoded and documents the store refused for good go to
/// the dead-letter topic, with the reason and origin in headers; their offsets are released only once the
/// dead letter is delivered (an undelivered one holds its offset, so it is re-read after a restart rather than
/// lost).
/// </summary>
public sealed class DeadLetterProducer : IDisposable
{
    private readonly KafkaSourceOptions _options;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Lazy<IProducer<byte[], byte[]>> _producer;

    public DeadLetterProducer(KafkaSourceOptions options, PipelineMetrics metrics, ILogger? logger = null)
    {
        _options = options;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
        _producer = new Lazy<IProducer<byte[], byte[]>>(() => new ProducerBuilder<byte[], byte[]>(KafkaClients.Producer(_options)).Build());
    }

    /// <summary>A consumed message that could not be decoded, as it arrived.</summary>
    /// <param name="delivery">The source's token for the message, completed once the dead letter is delivered.</param>
    public void Send(ConsumeResult<byte[], byte[]> r, string reason, DeliveryToken delivery)
    {
        _metrics.DeadLetter();
        var headers = new Headers
        {
            { "ingest.error", Encoding.UTF8.GetBytes(reason.Length > 1000 ? reason[..1000] : reason) },
            { "ingest.source.topic", Encoding.UTF8.GetBytes(r.Topic) },
            { "ingest.source.partition", Encoding.UTF8.GetBytes(r.Partition.Value.ToString(CultureInfo.InvariantCulture)) },
            { "ingest.source.offset", Encoding.UTF8.GetBytes(r.Offset.Value.ToString(CultureInfo.InvariantCulture)) },
        };
        string topic = r.Topic;
        int partition = r.Partition.Value;
        long offset = r.Offset.Value;
        _producer.Value.Produce(_options.DeadLetterTopic, new Message<byte[], byte[]> { Key = r.Message.Key, Value = r.Message.Value, Headers = headers }, report =>
        {
            // Delivered: the offset may pass this message. Not delivered: it stays held, nothing is skipped.
            if (report.Error.IsError) _logger.LogError("dead letter for {Topic}/{Partition}@{Offset} not delivered: {Reason}", topic, partition, offset, report.Error.Reason);
            else delivery.Complete();
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
                else e.Delivery.Complete();
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
