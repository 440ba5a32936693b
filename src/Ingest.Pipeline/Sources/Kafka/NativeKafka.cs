using System.Runtime.InteropServices;

namespace Ingest.Pipeline.Sources.Kafka;

/// <summary>
/// Binds our P/Invokes to the SAME copy of librdkafka that Confluent.Kafka loaded: the mock cluster must live
/// in the library instance the clients use. The package ships several builds; on Debian the default one
/// needs libsasl2.so.3, which Debian lacks, and Confluent's loader falls back to another build. Rather than
/// guess, let Confluent load first, then read the mapped file from /proc/self/maps.
/// </summary>
public static class NativeKafka
{
    private const string LibraryName = "librdkafka";
    private static readonly Lock s_gate = new();
    private static string? s_path;

    public static string LibraryPath
    {
        get
        {
            Ensure();
            return s_path!;
        }
    }

    public static void Ensure()
    {
        lock (s_gate)
        {
            if (s_path is not null) return;
            _ = Confluent.Kafka.Library.Version; // forces Confluent.Kafka to load its librdkafka
            string chosen = LoadedLibrdkafka() ?? throw new DllNotFoundException("librdkafka is not mapped after Confluent.Kafka initialised");
            NativeLibrary.SetDllImportResolver(typeof(NativeKafka).Assembly, (name, _, _) =>
                name == LibraryName ? NativeLibrary.Load(chosen) : IntPtr.Zero);
            s_path = chosen;
        }
    }

    private static string? LoadedLibrdkafka()
    {
        if (!File.Exists("/proc/self/maps")) return null;
        foreach (string line in File.ReadLines("/proc/self/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash < 0) continue;
            string path = line[slash..].Trim();
            if (Path.GetFileName(path).Contains("librdkafka", StringComparison.Ordinal)) return path;
        }
        return null;
    }

    // librdkafka C API used by the mock cluster (rdkafka.h, rdkafka_mock.h).
    [DllImport(LibraryName)] internal static extern IntPtr rd_kafka_conf_new();
    [DllImport(LibraryName)] internal static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);
    [DllImport(LibraryName)] internal static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);
    [DllImport(LibraryName)] internal static extern void rd_kafka_destroy(IntPtr rk);
    [DllImport(LibraryName)] internal static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
    [DllImport(LibraryName)] internal static extern void rd_kafka_mock_cluster_destroy(IntPtr mcluster);
    [DllImport(LibraryName)] internal static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr mcluster);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_topic_create(IntPtr mcluster, string topic, int partitions, int replicationFactor);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_broker_set_down(IntPtr mcluster, int brokerId);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_broker_set_up(IntPtr mcluster, int brokerId);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_broker_set_rtt(IntPtr mcluster, int brokerId, int rttMs);
    [DllImport(LibraryName)] internal static extern void rd_kafka_mock_push_request_errors_array(IntPtr mcluster, short apiKey, UIntPtr count, int[] errors);
    [DllImport(LibraryName)] internal static extern void rd_kafka_mock_clear_request_errors(IntPtr mcluster, short apiKey);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_partition_set_leader(IntPtr mcluster, string topic, int partition, int brokerId);
    [DllImport(LibraryName)] internal static extern int rd_kafka_mock_coordinator_set(IntPtr mcluster, string keyType, string key, int brokerId);
    [DllImport(LibraryName)] internal static extern void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr mcluster, int delayMs);
}
