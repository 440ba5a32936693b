using Confluent.Kafka;
using Ingest.Pipeline.Sources.Kafka;

namespace Ingest.Pipeline.Tests.Sources.Kafka;

/// <summary>The in-process cluster speaks the real protocol: a Confluent.Kafka producer and consumer group use it over TCP.</summary>
public sealed class MockKafkaClusterTests
{
    [Fact]
    public void Producer_and_consumer_group_round_trip_over_tcp()
    {
        using var cluster = new MockKafkaCluster(brokers: 3);
        cluster.CreateTopic("logs", partitions: 4);
        Assert.Matches(@"^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+)*$", cluster.BootstrapServers);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 1 }).Build())
        {
            for (int i = 0; i < 200; i++) producer.Produce("logs", new Message<string, string> { Key = $"pod-{i % 7}", Value = $"line {i}" });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var seen = new HashSet<string>();
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "smoke",
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe("logs");
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (seen.Count < 200 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r?.Message is not null) seen.Add(r.Message.Value);
        }
        consumer.Close();
        Assert.Equal(200, seen.Count);
    }
}
