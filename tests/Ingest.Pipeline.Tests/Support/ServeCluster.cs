using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>A mock cluster a test hosts for `ingest serve` child processes: the topics serve consumes by default, and its dead-letter topic.</summary>
public static class ServeCluster
{
    public static MockKafkaCluster Create(int partitions = 2)
    {
        var cluster = new MockKafkaCluster(brokers: 1);
        foreach (var t in KafkaSourceOptions.DefaultTopics) cluster.CreateTopic(t.Name, partitions);
        cluster.CreateTopic(new KafkaSourceOptions().DeadLetterTopic, 1);
        return cluster;
    }
}
