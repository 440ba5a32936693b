using System.Text.Json.Nodes;

namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>
/// What bootstrap installs: an ILM policy, two component templates (settings; ECS and origin mappings) and
/// one index template per data stream with that event type's go.* fields. Mappings are explicit and
/// `dynamic: false`: log content is user-controlled and must never grow the mapping; what is not mapped stays
/// in _source for the API and Kibana's document view.
/// </summary>
public static class ElasticsearchTemplates
{
    public const string PolicyName = "ingest-go";
    public const string SettingsComponent = "ingest-go-settings";
    public const string MappingsComponent = "ingest-go-ecs";
    /// <summary>Bumped when a template changes; stored in _meta.</summary>
    public const int Version = 1;

    public static JsonObject Policy(ElasticsearchOptions o) => new()
    {
        ["policy"] = new JsonObject
        {
            ["_meta"] = Meta(),
            ["phases"] = new JsonObject
            {
                ["hot"] = new JsonObject
                {
                    ["actions"] = new JsonObject
                    {
                        ["rollover"] = new JsonObject { ["max_age"] = o.RolloverMaxAge, ["max_primary_shard_size"] = o.RolloverMaxPrimaryShardSize },
                    },
                },
                ["delete"] = new JsonObject { ["min_age"] = o.DeleteAfter, ["actions"] = new JsonObject { ["delete"] = new JsonObject() } },
            },
        },
    };

    public static JsonObject Settings(ElasticsearchOptions o) => new()
    {
        ["template"] = new JsonObject
        {
            ["settings"] = new JsonObject
            {
                ["index.lifecycle.name"] = PolicyName,
                ["index.number_of_replicas"] = o.NumberOfReplicas,
                ["index.codec"] = "best_compression",
            },
        },
        ["_meta"] = Meta(),
    };

    private static JsonObject Keyword() => new() { ["type"] = "keyword" };
    private static JsonObject Type(string t) => new() { ["type"] = t };
    private static JsonObject Props(params (string Name, JsonNode Node)[] fields)
    {
        var p = new JsonObject();
        foreach (var (name, node) in fields) p[name] = node;
        return new JsonObject { ["properties"] = p };
    }

    public static JsonObject Mappings() => new()
    {
        ["template"] = new JsonObject
        {
            ["mappings"] = new JsonObject
            {
                ["dynamic"] = false,
                ["properties"] = new JsonObject
                {
                    ["@timestamp"] = Type("date"),
                    ["message"] = Type("match_only_text"),
                    ["data_stream"] = Props(("type", Type("constant_keyword")), ("dataset", Type("constant_keyword")), ("namespace", Type("constant_keyword"))),
                    ["event"] = Props(("kind", Keyword()), ("category", Keyword()), ("type", Keyword()), ("dataset", Keyword()), ("module", Keyword()), ("id", Keyword())),
                    ["error"] = Props(("type", Keyword()), ("message", Type("match_only_text")), ("stack_trace", Type("wildcard")), ("grouping_key", Keyword())),
                    ["service"] = Props(("name", Keyword()), ("version", Keyword())),
                    ["host"] = Props(("name", Keyword())),
                    ["container"] = Props(("name", Keyword())),
                    ["orchestrator"] = Props(("type", Keyword()), ("namespace", Keyword())),
                    ["kubernetes"] = Props(("pod", Props(("name", Keyword()))), ("namespace", Keyword()), ("container", Props(("name", Keyword())))),
                    ["trace"] = Props(("id", Keyword())),
                    ["span"] = Props(("id", Keyword())),
                    ["go"] = Props(
                        ("type", Keyword()),
                        ("stream", Keyword()),
                        ("episode", Keyword()),
                        ("raw_text", new JsonObject { ["type"] = "text", ["index"] = false }),
                        ("origin", Props(("id", Keyword()), ("topic", Keyword()), ("partition", Type("integer")), ("offset", Type("long")), ("end_pos", Type("long")), ("source", Keyword()), ("service", Keyword())))),
                },
            },
        },
        ["_meta"] = Meta(),
    };

    /// <summary>The go.* fields each event type indexes (the rest of go.* is kept in _source only).</summary>
    public static JsonObject GoFields(string eventType) => eventType switch
    {
        "crash" => Props(
            ("kind", Keyword()), ("category", Keyword()), ("recoverable", Type("boolean")), ("recovered", Type("boolean")),
            ("message", Type("match_only_text")), ("fingerprint", Keyword()), ("goroutine_count", Type("integer")),
            ("root_cause", Props(("function", Keyword()), ("file", Keyword()), ("line", Type("integer")))),
            ("signal", Props(("name", Keyword()))), ("truncated", Type("boolean")), ("raw_hash", Keyword())),
        "goroutine_dump" => Props(
            ("goroutine_count", Type("integer")), ("repeats", Type("integer")), ("truncated", Type("boolean")), ("raw_hash", Keyword()),
            ("findings", Props(("kind", Keyword()), ("wait_function", Keyword())))),
        "gc" => Props(
            ("num", Type("long")), ("at_seconds", Type("double")), ("cpu_percent", Type("integer")), ("pause_ms", Type("double")),
            ("concurrent_mark_ms", Type("double")), ("heap_start_mb", Type("double")), ("heap_end_mb", Type("double")),
            ("heap_live_mb", Type("double")), ("heap_goal_mb", Type("double")), ("procs", Type("integer")),
            ("forced", Type("boolean")), ("periodic", Type("boolean")),
            ("derived", Props(("interval_seconds", Type("double")), ("gc_cpu_fraction", Type("double")), ("alloc_rate_mb_per_second", Type("double")), ("goal_overshoot", Type("double")), ("goroutines", Type("integer")))),
            ("anomalies", Props(("kind", Keyword())))),
        "gc_scavenge" => Props(("released_mb", Type("double")), ("inuse_mb", Type("double")), ("idle_mb", Type("double")), ("sys_mb", Type("double"))),
        "tagged_log" => Props(("layer", Keyword()), ("intent", Keyword()), ("frame_id", Keyword()), ("inferred", Type("boolean"))),
        "leak_suspect" => Props(("top_function", Keyword()), ("created_by", Keyword())),
        "alert" => Props(
            ("service", Keyword()), ("instance", Keyword()), ("kind", Keyword()), ("fingerprint", Keyword()), ("status", Keyword()),
            ("started_at", Type("date")), ("last_seen_at", Type("date")), ("ended_at", Type("date")),
            ("first_cycle", Type("long")), ("last_cycle", Type("long")), ("cycles", Type("integer")),
            ("value", Type("double")), ("peak_value", Type("double")), ("threshold", Type("double"))),
        "incident" => Props(
            ("root_cause", Props(("id", Keyword()), ("kind", Keyword()), ("service", Keyword()), ("node", Keyword()))),
            ("services", Keyword()), ("nodes", Keyword()), ("trace_ids", Keyword()), ("event_count", Type("integer")),
            ("clock_skew", Type("boolean")), ("first_hlc", Keyword()), ("path", Props(("service", Keyword()), ("first_failure", Keyword()), ("recovered", Type("boolean"))))),
        "build_info" => Props(
            ("go_version", Keyword()), ("binary", Keyword()), ("path", Keyword()), ("main_module", Keyword()), ("main_version", Keyword()),
            ("vcs_revision", Keyword()), ("vcs_time", Type("date")), ("dependencies", Props(("path", Keyword()), ("version", Keyword())))),
        "dependency_graph" => Props(
            ("edges", Props(("caller", Keyword()), ("callee", Keyword()), ("calls", Type("long")), ("errors", Type("long")), ("crashes_propagated", Type("long")))),
            ("services", Keyword())),
        _ => throw new ArgumentOutOfRangeException(nameof(eventType), eventType, "no data stream for this event type"),
    };

    /// <summary>The template of a data stream shared by several event types: their go.* fields together.</summary>
    public static JsonObject IndexTemplate(IEnumerable<DataStreams.Stream> sharing)
    {
        var streams = sharing.ToList();
        var template = IndexTemplate(streams[0]);
        var go = (JsonObject)template["template"]!["mappings"]!["properties"]!["go"]!["properties"]!;
        foreach (var other in streams.Skip(1))
        {
            foreach (var (name, node) in (JsonObject)GoFields(other.EventType)["properties"]!)
            {
                if (!go.ContainsKey(name)) go[name] = node!.DeepClone();
            }
        }
        return template;
    }

    public static JsonObject IndexTemplate(DataStreams.Stream s) => new()
    {
        ["index_patterns"] = new JsonArray(s.Pattern),
        ["data_stream"] = new JsonObject(),
        // Above the built-in logs-*-* / metrics-*-* templates (priority 100).
        ["priority"] = 200,
        ["composed_of"] = new JsonArray(SettingsComponent, MappingsComponent),
        ["template"] = new JsonObject
        {
            ["mappings"] = new JsonObject { ["properties"] = new JsonObject { ["go"] = GoFields(s.EventType) } },
        },
        ["_meta"] = Meta(),
    };

    private static JsonObject Meta() => new() { ["managed_by"] = "ingest", ["version"] = Version };
}
