using Confluent.Kafka;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>
/// Every Kafka client of the worker is configured here, in one order: the role's defaults, then
/// <c>Kafka:Client</c> (security, tuning: it may override any default), then what the role's delivery
/// guarantee rests on, which no setting may override. Consumers: the log source and the correlation source;
/// producers: dead letters, detections, replay.
/// </summary>
public static class KafkaClients
{
    public static ConsumerConfig Consumer(KafkaSourceOptions kafka, string groupId, Action<ConsumerConfig>? defaults = null, Action<ConsumerConfig>? guarantees = null)
    {
        var config = new ConsumerConfig { BootstrapServers = kafka.BootstrapServers, GroupId = groupId, AutoOffsetReset = AutoOffsetReset.Earliest };
        defaults?.Invoke(config);
        foreach (var (key, value) in kafka.Client) config.Set(key, value);
        guarantees?.Invoke(config);
        return config;
    }

    public static ProducerConfig Producer(KafkaSourceOptions kafka, Action<ProducerConfig>? defaults = null)
    {
        var config = new ProducerConfig { BootstrapServers = kafka.BootstrapServers, MessageMaxBytes = 32 * 1024 * 1024 };
        defaults?.Invoke(config);
        foreach (var (key, value) in kafka.Client) config.Set(key, value);
        // Retries must not duplicate or reorder: a dead letter or detection written twice is a second event.
        config.EnableIdempotence = true;
        return config;
    }
}
