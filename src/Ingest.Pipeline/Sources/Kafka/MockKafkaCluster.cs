using System.Runtime.InteropServices;
using System.Text;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>
/// librdkafka's built-in mock cluster: real Kafka brokers speaking the wire protocol on loopback TCP,
/// in this process. For development (`ingest serve` with no bootstrap servers) and for tests, which use
/// its fault injection (brokers down, request errors). Not for production: data lives in memory.
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    /// <summary>Kafka protocol API keys for <see cref="PushRequestErrors"/>.</summary>
    public static class ApiKeys
    {
        public const short Produce = 0;
        public const short Fetch = 1;
        public const short ListOffsets = 2;
        public const short Metadata = 3;
        public const short OffsetCommit = 8;
        public const short OffsetFetch = 9;
        public const short FindCoordinator = 10;
        public const short JoinGroup = 11;
        public const short Heartbeat = 12;
        public const short SyncGroup = 14;
    }

    private IntPtr _rk;
    private IntPtr _cluster;

    public MockKafkaCluster(int brokers = 3)
    {
        NativeKafka.Ensure();
        var err = new byte[512];
        IntPtr conf = NativeKafka.rd_kafka_conf_new();
        // The handle only hosts the cluster; keep it quiet.
        _ = NativeKafka.rd_kafka_conf_set(conf, "log_level", "3", err, (UIntPtr)err.Length);
        _rk = NativeKafka.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, err, (UIntPtr)err.Length);
        if (_rk == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + Encoding.UTF8.GetString(err).TrimEnd('\0'));
        _cluster = NativeKafka.rd_kafka_mock_cluster_new(_rk, brokers);
        if (_cluster == IntPtr.Zero)
        {
            NativeKafka.rd_kafka_destroy(_rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        BrokerCount = brokers;
        BootstrapServers = Marshal.PtrToStringUTF8(NativeKafka.rd_kafka_mock_cluster_bootstraps(_cluster)) ?? throw new InvalidOperationException("no bootstrap address");
        // Consumer groups otherwise wait 3 s for more members before the first assignment.
        NativeKafka.rd_kafka_mock_group_initial_rebalance_delay_ms(_cluster, 0);
    }

    public string BootstrapServers { get; }

    public int BrokerCount { get; }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1) =>
        Check(NativeKafka.rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor), $"create topic {topic}");

    /// <summary>Broker ids are 1..<see cref="BrokerCount"/>.</summary>
    public void SetBrokerDown(int brokerId) => Check(NativeKafka.rd_kafka_mock_broker_set_down(_cluster, brokerId), "broker down");

    public void SetBrokerUp(int brokerId) => Check(NativeKafka.rd_kafka_mock_broker_set_up(_cluster, brokerId), "broker up");

    public void SetBrokerRtt(int brokerId, int rttMs) => Check(NativeKafka.rd_kafka_mock_broker_set_rtt(_cluster, brokerId, rttMs), "broker rtt");

    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(NativeKafka.rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId), "partition leader");

    public void SetGroupCoordinator(string group, int brokerId) =>
        Check(NativeKafka.rd_kafka_mock_coordinator_set(_cluster, "group", group, brokerId), "coordinator");

    /// <summary>The next <paramref name="errors"/>.Length requests of <paramref name="apiKey"/> fail with these Kafka error codes.</summary>
    public void PushRequestErrors(short apiKey, params int[] errors) =>
        NativeKafka.rd_kafka_mock_push_request_errors_array(_cluster, apiKey, (UIntPtr)errors.Length, errors);

    public void ClearRequestErrors(short apiKey) => NativeKafka.rd_kafka_mock_clear_request_errors(_cluster, apiKey);

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"mock cluster: {what} failed with librdkafka error {err}");
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero)
        {
            NativeKafka.rd_kafka_mock_cluster_destroy(_cluster);
            _cluster = IntPtr.Zero;
        }
        if (_rk != IntPtr.Zero)
        {
            NativeKafka.rd_kafka_destroy(_rk);
            _rk = IntPtr.Zero;
        }
    }
}
