using Ingest.Pipeline.Sources.Kafka.Decoding;

namespace Ingest.Pipeline.Sources.Kafka;

public sealed class TopicOptions
{
    public string Name { get; set; } = "logs";
    public MessageFormat Format { get; set; } = MessageFormat.Raw;
    public JsonFieldMapping Fields { get; set; } = new();
}

public sealed class KafkaSourceOptions
{
    public const string SectionName = "Kafka";

    /// <summary>Comma-separated brokers. Empty: `ingest serve` starts an embedded development cluster.</summary>
    public string? BootstrapServers { get; set; } = string.Empty;

    public string GroupId { get; set; } = "ingest";

    /// <summary>
    /// Static group membership (group.instance.id, KIP-345) of the log consumer: a member that comes back with the
    /// same id gets its partitions back without waiting for its old session to expire. Unset: the pod name
    /// (POD_NAME, from the chart's downward API), else the host name and the data directory (stable across
    /// restarts, distinct for two workers on one host). Empty: dynamic membership.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>
    /// How long the group waits for a silent member before reassigning its partitions: what bounds a restart
    /// after kill -9 where the broker does not honour static membership. librdkafka heartbeats on its own
    /// thread, so a busy worker is not evicted. 6 s is the smallest real brokers accept by default
    /// (group.min.session.timeout.ms).
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(6);

    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    public List<TopicOptions> Topics { get; set; } = [];

    /// <summary>Undecodable messages go here, with the reason and origin in headers.</summary>
    public string DeadLetterTopic { get; set; } = "ingest-dead-letter";

    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How often safe offsets are stored (librdkafka commits stored offsets every AutoCommitInterval).</summary>
    public TimeSpan StoreInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    public int AutoCommitIntervalMs { get; set; } = 1000;

    /// <summary>On revocation, how long to wait for the sink to acknowledge the partitions' events.</summary>
    public TimeSpan RevokeDrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Extra librdkafka properties (security.protocol, sasl.*, ssl.*). Secrets belong in the environment.</summary>
    public Dictionary<string, string> Client { get; set; } = [];

    /// <summary>
    /// The configured topics, or the defaults (config/appsettings.json lists the same): raw lines, JSON envelopes
    /// and the Collector's OTLP logs. Defaults live here rather than in <see cref="Topics"/>: the configuration
    /// binder appends to a list it finds filled, so configured topics would add to them instead of replacing them.
    /// </summary>
    public IEnumerable<TopicOptions> EffectiveTopics => Topics.Count > 0 ? Topics : DefaultTopics;

    public static IReadOnlyList<TopicOptions> DefaultTopics { get; } =
    [
        new TopicOptions { Name = "logs", Format = MessageFormat.Raw },
        new TopicOptions { Name = "logs-json", Format = MessageFormat.Json },
        new TopicOptions { Name = "otlp_logs", Format = MessageFormat.OtlpProto },
    ];

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(GroupId)) errors.Add("Kafka:GroupId is required");
        var names = EffectiveTopics.Select(t => t.Name).ToList();
        if (names.Exists(string.IsNullOrWhiteSpace)) errors.Add("Kafka:Topics has a topic without a name");
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) errors.Add("Kafka:Topics lists a topic twice");
        if (names.Contains(DeadLetterTopic)) errors.Add("Kafka:DeadLetterTopic must not be one of the consumed topics");
        if (PollTimeout <= TimeSpan.Zero) errors.Add("Kafka:PollTimeout must be positive");
        if (SessionTimeout < TimeSpan.FromSeconds(1) || HeartbeatInterval <= TimeSpan.Zero || HeartbeatInterval * 3 > SessionTimeout)
            errors.Add("Kafka:SessionTimeout must be at least 1 s and at least three Kafka:HeartbeatInterval");
        if (AutoCommitIntervalMs < 10) errors.Add("Kafka:AutoCommitIntervalMs must be at least 10");
        return errors;
    }
}
