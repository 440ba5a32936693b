using System.Text.Json;
using Ingest.Correlation.Incidents;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.Hosting;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Sources.Files;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Reporting;
using Microsoft.Extensions.Configuration;

namespace Ingest.Pipeline.Tests.Hosting;

/// <summary>The composition root's options: the shipped settings file says what the built-in defaults are.</summary>
public sealed class CompositionTests
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };

    private static string RepoFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Ingest.sln"))) dir = dir.Parent;
        return Path.Combine(dir!.FullName, relative);
    }

    public static TheoryData<string> Sections() =>
    [
        KafkaSourceOptions.SectionName, FileTailOptions.SectionName, AssemblerOptions.SectionName, SinkHostOptions.SectionName,
        ElasticsearchOptions.SectionName, ServeOptions.SectionName, AnalyzerOptions.SectionName, GcAnalyticsOptions.SectionName,
        CorrelationOptions.SectionName, TelemetryOptions.SectionName, AlertingOptions.SectionName, PostmortemOptions.SectionName,
    ];

    [Theory]
    [MemberData(nameof(Sections))]
    public void The_shipped_settings_equal_the_built_in_defaults(string section)
    {
        var shipped = new ConfigurationBuilder().AddJsonFile(RepoFile("config/appsettings.json")).Build();
        var empty = new ConfigurationBuilder().Build();
        Assert.True(shipped.GetSection(section).Exists(), $"config/appsettings.json has no {section} section");
        Assert.Equal(Describe(empty, section), Describe(shipped, section));
    }

    [Fact]
    public void The_shipped_settings_are_valid_and_so_are_the_defaults()
    {
        Assert.Empty(IngestComposition.Validate(new ConfigurationBuilder().AddJsonFile(RepoFile("config/appsettings.json")).Build()));
        Assert.Empty(IngestComposition.Validate(new ConfigurationBuilder().Build()));
    }

    [Fact]
    public void Every_invalid_section_is_reported_with_its_message()
    {
        var bad = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Assembly:MaxOpenStreams"] = "0",
            ["Sink:Kind"] = "cassandra",
            ["Analysis:ContentionThreshold"] = "1",
            ["Correlation:ReorderWindow"] = "00:00:00",
            ["Kafka:GroupId"] = "",
        }).Build();
        var errors = IngestComposition.Validate(bad);
        Assert.Contains("Assembly:MaxOpenStreams must be at least 1", errors);
        Assert.Contains("Sink:Kind must be embedded or elasticsearch", errors);
        Assert.Contains("Analysis:ContentionThreshold must be at least 2", errors);
        Assert.Contains("Correlation:MaxClockOffset and Correlation:ReorderWindow must be positive", errors);
        Assert.Contains("Kafka:GroupId is required", errors);
        Assert.Equal(5, errors.Count);
    }

    [Fact]
    public void The_executable_finds_its_settings_beside_itself()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json");
        Assert.True(File.Exists(beside), "config/appsettings.json is not copied beside the executable");
        Assert.Equal(File.ReadAllText(RepoFile("config/appsettings.json")), File.ReadAllText(beside));
        string elsewhere = Directory.CreateTempSubdirectory("ingest-cwd-").FullName;
        string previous = Directory.GetCurrentDirectory();
        try
        {
            Directory.SetCurrentDirectory(elsewhere);
            Assert.Equal(beside, IngestConfiguration.SettingsFile(null));
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
            Directory.Delete(elsewhere);
        }
    }

    /// <summary>The section as the components see it: bound onto the built-in defaults, as JSON.</summary>
    private static string Describe(IConfiguration configuration, string section) => section switch
    {
        KafkaSourceOptions.SectionName => Json(Bound<KafkaSourceOptions>(configuration, section), k => new { k.BootstrapServers, k.GroupId, Topics = k.EffectiveTopics, k.DeadLetterTopic, k.PollTimeout, k.StoreInterval, k.AutoCommitIntervalMs, k.RevokeDrainTimeout, k.Client }),
        FileTailOptions.SectionName => Json(Bound<FileTailOptions>(configuration, section)),
        AssemblerOptions.SectionName => Json(Bound<AssemblerOptions>(configuration, section)),
        SinkHostOptions.SectionName => Json(Bound<SinkHostOptions>(configuration, section)),
        ElasticsearchOptions.SectionName => Json(Bound<ElasticsearchOptions>(configuration, section)),
        ServeOptions.SectionName => Json(Bound<ServeOptions>(configuration, section)),
        AnalyzerOptions.SectionName => Json(IngestConfiguration.BindAnalysis(configuration, out _)),
        GcAnalyticsOptions.SectionName => Json(Bound<GcAnalyticsOptions>(configuration, section)),
        CorrelationOptions.SectionName => Json(Bound<CorrelationOptions>(configuration, section)) + Json(Bound<CorrelationTopicsOptions>(configuration, section)),
        TelemetryOptions.SectionName => Json(Bound<TelemetryOptions>(configuration, section)),
        AlertingOptions.SectionName => Json(Bound<AlertingOptions>(configuration, section)),
        PostmortemOptions.SectionName => Json(Bound<PostmortemOptions>(configuration, section)),
        _ => throw new ArgumentOutOfRangeException(nameof(section)),
    };

    private static T Bound<T>(IConfiguration configuration, string section) where T : new() => IngestComposition.Bind<T>(configuration, section);

    private static string Json<T>(T value) => Canonical(JsonSerializer.SerializeToNode(value))!.ToJsonString(s_json);

    private static string Json<T>(T value, Func<T, object> shape) => Json(shape(value));

    /// <summary>Object keys in order: a table's keys come out of configuration sorted, and order carries no meaning.</summary>
    private static System.Text.Json.Nodes.JsonNode? Canonical(System.Text.Json.Nodes.JsonNode? node) => node switch
    {
        System.Text.Json.Nodes.JsonObject o => new System.Text.Json.Nodes.JsonObject(o.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => KeyValuePair.Create(kv.Key, Canonical(kv.Value?.DeepClone())))),
        System.Text.Json.Nodes.JsonArray a => new System.Text.Json.Nodes.JsonArray([.. a.Select(x => Canonical(x?.DeepClone()))]),
        _ => node?.DeepClone(),
    };
}
