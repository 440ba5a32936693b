using Ingest.Correlation.Incidents;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Files;
using Ingest.Pipeline.Sources.Kafka;
using Ingest.Reporting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Ingest.Hosting;

/// <summary>
/// The composition root: the whole topology of the worker, in one place, shared by <c>ingest serve</c>,
/// <c>ingest postmortem</c>, the test harness and the benchmarks.
///
/// <code>
///  Kafka topics ─► KafkaLogSource ─► StreamAssembler ─► IEventStage (GcAnalytics ─► DetectionPublisher) ─► BatchingSinkHost ─► store
///  Files:Paths  ─► FileTailSource ─┘                                                      │                    │
///                                                                  ingest-detections ◄───┘   acknowledged ──► OffsetTracker (owned by the source)
///  ingest-detections + otlp_spans ─► CorrelationSource ─► incidents, dependency graph ─► BatchingSinkHost
///  refused documents, undecodable messages ─► DeadLetterProducer ─► dead-letter topic
/// </code>
/// </summary>
public static class IngestComposition
{
    /// <summary>
    /// Every settings section bound through the options pattern and validated at start, with the messages of
    /// each options class; the classes are also registered as themselves for the components that take them.
    /// </summary>
    public static IServiceCollection AddIngestOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AnalyzerOptions>().Configure(o => IngestConfiguration.BindAnalysis(configuration, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyzerOptions>>(new ListValidator<AnalyzerOptions>(IngestConfiguration.Validate));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<AnalyzerOptions>>().Value);
        Add<KafkaSourceOptions>(services, configuration, KafkaSourceOptions.SectionName, o => o.Validate());
        services.PostConfigure<KafkaSourceOptions>(o => o.InstanceId ??= DefaultInstanceId(Bind<ServeOptions>(configuration, ServeOptions.SectionName)));
        Add<AssemblerOptions>(services, configuration, AssemblerOptions.SectionName, o => o.Validate());
        Add<SinkHostOptions>(services, configuration, SinkHostOptions.SectionName, ValidateSink);
        // Only checked when it is the store in use.
        Add<ElasticsearchOptions>(services, configuration, ElasticsearchOptions.SectionName,
            o => IsElasticsearch(configuration) ? o.Validate() : []);
        Add<ServeOptions>(services, configuration, ServeOptions.SectionName, o => o.Validate());
        Add<FileTailOptions>(services, configuration, FileTailOptions.SectionName, o => o.Validate());
        Add<GcAnalyticsOptions>(services, configuration, GcAnalyticsOptions.SectionName, o => o.Validate());
        Add<AlertingOptions>(services, configuration, AlertingOptions.SectionName, o => o.Validate());
        Add<TelemetryOptions>(services, configuration, TelemetryOptions.SectionName, o => o.Validate());
        Add<CorrelationOptions>(services, configuration, CorrelationOptions.SectionName, ValidateCorrelation);
        Add<CorrelationTopicsOptions>(services, configuration, CorrelationTopicsOptions.SectionName, o => o.Validate());
        Add<PostmortemOptions>(services, configuration, PostmortemOptions.SectionName, _ => []);
        return services;
    }

    /// <summary>The problems of a configuration, found without starting anything (the same validators as at start).</summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        using var provider = new ServiceCollection().AddIngestOptions(configuration).BuildServiceProvider();
        try
        {
            provider.GetRequiredService<IStartupValidator>().Validate();
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
        catch (AggregateException ex)
        {
            return [.. ex.Flatten().InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures)];
        }
    }

    /// <summary>The store named by Sink:Kind (embedded SQLite under Serve:DataDirectory, or Elasticsearch), as sink, queries and resume watermarks.</summary>
    public static IServiceCollection AddIngestStore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp => EventStore.Open(sp.GetRequiredService<SinkHostOptions>(), sp.GetRequiredService<ServeOptions>(), sp.GetRequiredService<ElasticsearchOptions>()));
        services.AddSingleton(sp => sp.GetRequiredService<EventStore>().Sink);
        services.AddSingleton(sp => sp.GetRequiredService<EventStore>().Queries);
        services.AddSingleton(sp => sp.GetRequiredService<EventStore>().Watermarks);
        if (IsElasticsearch(configuration)) services.AddSingleton(sp => sp.GetRequiredService<EventStore>().Elasticsearch!);
        return services;
    }

    /// <summary>The pipeline's components: what <c>serve</c> runs, and what the test harness and benchmarks drive.</summary>
    public static IServiceCollection AddIngestPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddIngestOptions(configuration).AddIngestStore(configuration);
        services.AddLogging();
        // Every component reads time through this; tests put a FakeTimeProvider in its place.
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new OffsetTracker(sp.GetRequiredService<TimeProvider>())).AddSingleton<PipelineMetrics>();
        services.AddSingleton(sp => new DeadLetterProducer(sp.GetRequiredService<KafkaSourceOptions>(), sp.GetRequiredService<PipelineMetrics>(),
            sp.GetRequiredService<ILogger<DeadLetterProducer>>()));
        // Stored events complete their delivery tokens in the sink host; refused ones go to dead letters, which complete them.
        services.AddSingleton(sp => new BatchingSinkHost(sp.GetRequiredService<IEventSink>(), sp.GetRequiredService<SinkHostOptions>(),
            sp.GetRequiredService<ILogger<BatchingSinkHost>>(), sp.GetRequiredService<DeadLetterProducer>().Send, sp.GetRequiredService<TimeProvider>()));
        if (HasAlertmanager(configuration))
        {
            services.AddSingleton(sp => new AlertmanagerPublisher(sp.GetRequiredService<AlertingOptions>(), time: sp.GetRequiredService<TimeProvider>(), logger: sp.GetRequiredService<ILogger<AlertmanagerPublisher>>()));
        }
        services.AddSingleton(sp => CreateGcAnalytics(sp));
        services.AddSingleton(sp => new DetectionPublisher(sp.GetRequiredService<CorrelationTopicsOptions>(), sp.GetRequiredService<KafkaSourceOptions>(),
            sp.GetRequiredService<ILogger<DetectionPublisher>>()));
        // Between assembly and the sink: GC analytics, then (with correlation on) the detections publisher.
        services.AddSingleton<IEventStage>(sp => sp.GetRequiredService<CorrelationTopicsOptions>().Enabled
            ? new StageChain(sp.GetRequiredService<GcAnalytics>(), sp.GetRequiredService<DetectionPublisher>())
            : sp.GetRequiredService<GcAnalytics>());
        services.AddSingleton(sp => new KafkaLogSource(sp.GetRequiredService<KafkaSourceOptions>(), sp.GetRequiredService<AnalyzerOptions>(),
            sp.GetRequiredService<AssemblerOptions>(), sp.GetRequiredService<BatchingSinkHost>(), sp.GetRequiredService<OffsetTracker>(),
            sp.GetRequiredService<PipelineMetrics>(), sp.GetRequiredService<DeadLetterProducer>(), sp.GetRequiredService<IResumeWatermarks>(),
            sp.GetRequiredService<ILogger<KafkaLogSource>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IEventStage>(),
            sp.GetRequiredService<EventStore>().History));
        services.AddSingleton(sp => new CorrelationSource(sp.GetRequiredService<CorrelationOptions>(), sp.GetRequiredService<CorrelationTopicsOptions>(),
            sp.GetRequiredService<KafkaSourceOptions>(), sp.GetRequiredService<BatchingSinkHost>(), sp.GetRequiredService<ILogger<CorrelationSource>>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<AnalyzerOptions>()));
        return services;
    }

    /// <summary>The worker's long-running services, started and stopped by the host (stopped in reverse order).</summary>
    public static IServiceCollection AddIngestWorker(this IServiceCollection services, IConfiguration configuration)
    {
        // The sink stops last: the sources flush into a sink that is still running.
        services.AddHostedService<SinkHostService>();
        services.AddSingleton<KafkaSourceService>();
        services.AddHostedService(sp => sp.GetRequiredService<KafkaSourceService>());
        if (Bind<CorrelationTopicsOptions>(configuration, CorrelationTopicsOptions.SectionName).Enabled) services.AddHostedService<CorrelationService>();
        if (Bind<FileTailOptions>(configuration, FileTailOptions.SectionName).Paths.Count > 0) services.AddHostedService<FileTailService>();
        if (HasAlertmanager(configuration)) services.AddHostedService<AlertmanagerService>();
        return services;
    }

    // The binding generator cannot see through these two generic helpers (SYSLIB1104, silenced in the project),
    // so the worker's sections bind by reflection, which its JIT build supports; the analysis section, which the
    // native CLI needs too, binds through generated code in IngestConfiguration.
    public static T Bind<T>(IConfiguration configuration, string section) where T : new()
    {
        var options = new T();
        configuration.GetSection(section).Bind(options);
        return options;
    }

    private static void Add<T>(IServiceCollection services, IConfiguration configuration, string section, Func<T, IEnumerable<string>> validate) where T : class
    {
        services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new ListValidator<T>(validate));
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
    }

    /// <summary>
    /// A stable identity for static group membership: the pod name in Kubernetes (the chart sets POD_NAME), else
    /// the host name with a hash of the data directory, so two workers on one host (each with its own store) are
    /// two members, and a worker restarted on its store is the same one.
    /// </summary>
    public static string DefaultInstanceId(ServeOptions serve)
    {
        if (Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod) return pod;
        var hash = System.IO.Hashing.XxHash32.HashToUInt32(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(serve.DataDirectory)));
        return $"{Environment.MachineName}-{hash:x8}";
    }

    private static bool HasAlertmanager(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(Bind<AlertingOptions>(configuration, AlertingOptions.SectionName).AlertmanagerUrl);

    private static bool IsElasticsearch(IConfiguration configuration) =>
        string.Equals(configuration[$"{SinkHostOptions.SectionName}:Kind"], "elasticsearch", StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<string> ValidateSink(SinkHostOptions o)
    {
        if (o.BatchSize < 1 || o.MaxPending < o.BatchSize) yield return "Sink:BatchSize must be at least 1 and at most Sink:MaxPending";
        if (!string.Equals(o.Kind, "elasticsearch", StringComparison.OrdinalIgnoreCase) && !string.Equals(o.Kind, "embedded", StringComparison.OrdinalIgnoreCase))
            yield return "Sink:Kind must be embedded or elasticsearch";
    }

    private static IEnumerable<string> ValidateCorrelation(CorrelationOptions o)
    {
        if (o.MaxClockOffset <= TimeSpan.Zero || o.ReorderWindow <= TimeSpan.Zero) yield return "Correlation:MaxClockOffset and Correlation:ReorderWindow must be positive";
    }

    private static GcAnalytics CreateGcAnalytics(IServiceProvider sp)
    {
        var publisher = sp.GetService<AlertmanagerPublisher>();
        var gc = new GcAnalytics(sp.GetRequiredService<GcAnalyticsOptions>(), publisher is null ? [] : [publisher], sp.GetRequiredService<TimeProvider>());
        // Alerts left firing by the previous run are continued (same document) or resolved by this one.
        try
        {
            var open = sp.GetRequiredService<IEventQueries>().AlertsAsync(GcAlertEvent.Firing, null, 1000, CancellationToken.None).GetAwaiter().GetResult();
            gc.Resume(open.Select(AlertDocuments.Parse));
        }
        catch (Exception ex) when (ex is ElasticsearchQueries.QueryFailedException or IOException or HttpRequestException)
        {
            (sp.GetService<ILogger<GcAnalytics>>() ?? NullLogger<GcAnalytics>.Instance)
                .LogWarning("could not load the alerts the previous run left firing ({Reason}); they stay open in the store until resolved by hand", ex.Message);
        }
        // Baselines, windows and goroutine counts: rebuilt from the stored cycles and dumps (IStoredHistory).
        try
        {
            gc.Rebuild(sp.GetRequiredService<EventStore>().History.GcHistory(gc.HistoryCycles));
        }
        catch (ElasticsearchQueries.QueryFailedException ex)
        {
            (sp.GetService<ILogger<GcAnalytics>>() ?? NullLogger<GcAnalytics>.Instance)
                .LogWarning("could not rebuild GC baselines from the store ({Reason}); they start over", ex.Message);
        }
        return gc;
    }

    private sealed class ListValidator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = validate(options).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}

/// <summary>The store in use: the embedded SQLite database or Elasticsearch data streams; both write idempotently by id.</summary>
public sealed class EventStore : IDisposable
{
    private EventStore(IEventSink sink, IEventQueries queries, IResumeWatermarks watermarks, IStoredHistory history, string name, IDisposable owned, ElasticsearchEventSink? elasticsearch)
    {
        (Sink, Queries, Watermarks, History, Name, _owned, Elasticsearch) = (sink, queries, watermarks, history, name, owned, elasticsearch);
    }

    private readonly IDisposable _owned;

    public IEventSink Sink { get; }
    public IEventQueries Queries { get; }
    public IResumeWatermarks Watermarks { get; }

    /// <summary>What derived state is rebuilt from after a restart.</summary>
    public IStoredHistory History { get; }
    public string Name { get; }
    public ElasticsearchEventSink? Elasticsearch { get; }

    public static EventStore Open(SinkHostOptions sink, ServeOptions serve, ElasticsearchOptions elasticsearch)
    {
        if (string.Equals(sink.Kind, "elasticsearch", StringComparison.OrdinalIgnoreCase))
        {
            var client = ElasticsearchEventSink.CreateClient(elasticsearch);
            var es = new ElasticsearchEventSink(elasticsearch, client);
            var queries = new ElasticsearchQueries(client, elasticsearch);
            return new EventStore(es, queries, queries, queries, $"elasticsearch {string.Join(",", elasticsearch.Urls.Select(Telemetry.Redact))} (data streams *-go.*-{elasticsearch.Namespace})", es, es);
        }
        var embedded = new SqliteEventStore(EmbeddedPath(serve));
        return new EventStore(embedded, embedded, embedded, embedded, embedded.Path, embedded, null);
    }

    public static string EmbeddedPath(ServeOptions serve) => Path.Combine(Path.GetFullPath(serve.DataDirectory), "events.db");

    public void Dispose() => _owned.Dispose();
}
