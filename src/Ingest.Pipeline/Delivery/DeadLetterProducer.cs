using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Ingest.Pipeline.Model;
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
    public void Send(ConsumeResult<byte[], byte[]> r, string reason, DeliveryToken delivery) =>
        Produce(r.Message.Key, r.Message.Value, Headers(reason, r.Topic, r.Partition.Value, r.Offset.Value), $"{r.Topic}/{r.Partition.Value}@{r.Offset.Value}", delivery);

    /// <summary>Documents the store refused for good, each completed once its dead letter is delivered.</summary>
    public void Send(IReadOnlyList<SinkRejection> rejected)
    {
        foreach (var r in rejected)
        {
            var e = r.Event;
            var headers = Headers(r.Reason, e.Stream.Topic, e.Stream.Partition, e.FirstOffset,
                ("ingest.event.id", e.Id), ("ingest.event.type", e.Event.TypeName));
            Produce(Encoding.UTF8.GetBytes(e.Id), r.Document, headers, e.Id, e.Delivery);
        }
    }

    /// <summary>Delivered: the offset may pass it. Not delivered: it stays held, so nothing is skipped.</summary>
    private void Produce(byte[]? key, byte[] value, Headers headers, string what, DeliveryToken delivery)
    {
        _metrics.DeadLetter();
        _producer.Value.Produce(_options.DeadLetterTopic, new Message<byte[], byte[]> { Key = key!, Value = value, Headers = headers }, report =>
        {
            if (report.Error.IsError) _logger.LogError("dead letter for {What} not delivered ({Reason}); its offset stays held", what, report.Error.Reason);
            else delivery.Complete();
        });
    }

    private static Headers Headers(string reason, string topic, int partition, long offset, params (string Key, string Value)[] extra)
    {
        var headers = new Headers { { "ingest.error", Encoding.UTF8.GetBytes(reason.Length > 1000 ? reason[..1000] : reason) } };
        foreach (var (k, v) in extra) headers.Add(k, Encoding.UTF8.GetBytes(v));
        headers.Add("ingest.source.topic", Encoding.UTF8.GetBytes(topic));
        headers.Add("ingest.source.partition", Encoding.UTF8.GetBytes(partition.ToString(CultureInfo.InvariantCulture)));
        headers.Add("ingest.source.offset", Encoding.UTF8.GetBytes(offset.ToString(CultureInfo.InvariantCulture)));
        return headers;
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
