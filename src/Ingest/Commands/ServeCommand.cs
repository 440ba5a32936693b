using System.CommandLine;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Hosting;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Pipeline.Sources.Files;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Ingest.Commands;

/// <summary>
/// <c>ingest serve</c>: the streaming worker. Kafka log topics → stream assembly → analysis → the embedded
/// store, with an HTTP API on loopback. With no Kafka:BootstrapServers it starts an embedded development
/// cluster (librdkafka's mock brokers) and says so.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "Settings file (default: config/appsettings.json when present)." };
        var cmd = new Command("serve", "Run the streaming worker: consume log topics, analyse, store, serve the API.") { config };
        cmd.TreatUnmatchedTokensAsErrors = false;
        cmd.SetAction(parse => Run(parse.GetValue(config), [.. parse.UnmatchedTokens], CancellationToken.None));
        return cmd;
    }

    public static int Run(string? configPath, string[] args, CancellationToken stop, Action<WebApplication>? started = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        string? path = configPath ?? (File.Exists("config/appsettings.json") ? "config/appsettings.json" : null);
        if (configPath is not null && !File.Exists(configPath))
        {
            Console.Error.WriteLine($"ingest serve: configuration file {configPath} not found");
            return AnalyzeCommand.ExitBadInput;
        }
        if (path is not null) builder.Configuration.AddJsonFile(Path.GetFullPath(path), optional: false);
        builder.Configuration.AddEnvironmentVariables("INGEST_").AddCommandLine(args);

        var analysis = IngestConfiguration.BindAnalysis(builder.Configuration, out var errors);
        var kafka = Bind<KafkaSourceOptions>(builder.Configuration, KafkaSourceOptions.SectionName);
        var assembly = Bind<AssemblerOptions>(builder.Configuration, AssemblerOptions.SectionName);
        var sinkOptions = Bind<SinkHostOptions>(builder.Configuration, SinkHostOptions.SectionName);
        var serve = Bind<ServeOptions>(builder.Configuration, ServeOptions.SectionName);
        var files = Bind<FileTailOptions>(builder.Configuration, FileTailOptions.SectionName);
        var gcOptions = Bind<GcAnalyticsOptions>(builder.Configuration, GcAnalyticsOptions.SectionName);
        var alerting = Bind<AlertingOptions>(builder.Configuration, AlertingOptions.SectionName);
        errors.AddRange(gcOptions.Validate());
        errors.AddRange(alerting.Validate());
        errors.AddRange(kafka.Validate());
        errors.AddRange(assembly.Validate());
        errors.AddRange(serve.Validate());
        errors.AddRange(files.Validate());
        if (sinkOptions.BatchSize < 1 || sinkOptions.MaxPending < sinkOptions.BatchSize) errors.Add("Sink:BatchSize must be at least 1 and at most Sink:MaxPending");
        if (errors.Count > 0)
        {
            Console.Error.WriteLine("ingest serve: invalid configuration:\n  " + string.Join("\n  ", errors));
            return AnalyzeCommand.ExitBadInput;
        }

        MockKafkaCluster? dev = null;
        if (string.IsNullOrWhiteSpace(kafka.BootstrapServers))
        {
            dev = new MockKafkaCluster(brokers: 3);
            foreach (var t in kafka.EffectiveTopics) dev.CreateTopic(t.Name, serve.DevPartitions);
            dev.CreateTopic(kafka.DeadLetterTopic, 1);
            kafka.BootstrapServers = dev.BootstrapServers;
            Console.Error.WriteLine($"""
                ingest: no Kafka:BootstrapServers configured: started an EMBEDDED DEVELOPMENT Kafka cluster at {dev.BootstrapServers}
                        (in memory, lost on exit; not for production). Topics: {string.Join(", ", kafka.EffectiveTopics.Select(t => $"{t.Name} ({t.Format.ToString().ToLowerInvariant()})"))}.
                        Send logs:  kcat -P -b {dev.BootstrapServers} -t {kafka.EffectiveTopics.First().Name} -K '|' <<< 'pod-1|panic: boom'
                                    ingest replay --bootstrap {dev.BootstrapServers} --topic {kafka.EffectiveTopics.First().Name} FILE...
                """);
        }

        string dataDir = Path.GetFullPath(serve.DataDirectory);
        var store = new SqliteEventStore(Path.Combine(dataDir, "events.db"));
        var tracker = new OffsetTracker();
        builder.Services.AddSingleton(analysis).AddSingleton(kafka).AddSingleton(assembly).AddSingleton(sinkOptions).AddSingleton(serve);
        builder.Services.AddSingleton(store).AddSingleton(tracker).AddSingleton<PipelineMetrics>();
        builder.Services.AddSingleton(gcOptions).AddSingleton(alerting);
        if (!string.IsNullOrWhiteSpace(alerting.AlertmanagerUrl))
        {
            builder.Services.AddSingleton(sp => new AlertmanagerPublisher(alerting, logger: sp.GetRequiredService<ILogger<AlertmanagerPublisher>>()));
            builder.Services.AddHostedService<AlertmanagerService>();
        }
        builder.Services.AddSingleton(sp =>
        {
            var gc = new GcAnalytics(gcOptions, sp.GetService<AlertmanagerPublisher>() is { } p ? [p] : []);
            // Alerts left firing by the previous run are continued (same document) or resolved by this one.
            gc.Resume(store.OpenAlerts());
            return gc;
        });
        builder.Services.AddSingleton(sp => new BatchingSinkHost(store, sinkOptions, batch =>
        {
            foreach (var e in batch) tracker.Acked(e);
        }, sp.GetRequiredService<ILogger<BatchingSinkHost>>()));
        // Stopped in reverse order: the source flushes into a sink that is still running.
        builder.Services.AddHostedService<SinkHostService>();
        builder.Services.AddSingleton<KafkaSourceService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KafkaSourceService>());
        if (files.Paths.Count > 0)
        {
            builder.Services.AddSingleton(files);
            builder.Services.AddHostedService<FileTailService>();
        }
        builder.WebHost.UseUrls(serve.Urls);

        var app = builder.Build();
        MapApi(app, store);
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            Console.Error.WriteLine($"ingest: consuming {string.Join(", ", kafka.EffectiveTopics.Select(t => t.Name))} from {kafka.BootstrapServers} as group {kafka.GroupId}; store {store.Path}; API {serve.Urls}");
            started?.Invoke(app);
        });
        try
        {
            app.RunAsync(stop).GetAwaiter().GetResult();
        }
        finally
        {
            store.Dispose();
            dev?.Dispose();
        }
        return 0;
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly string[] s_eventTypes = ["crash", "goroutine_dump", "gc", "gc_scavenge", "tagged_log", "leak_suspect", "alert"];
    private static readonly string[] s_alertStatuses = [GcAlertEvent.Firing, GcAlertEvent.Resolved];

    public static void MapApi(WebApplication app, SqliteEventStore store)
    {
        app.MapGet("/healthz", (KafkaSourceService source, BatchingSinkHost sink) => Results.Json(new
        {
            status = "ok",
            assigned_partitions = source.Source.Assignment.Count,
            open_streams = source.Source.OpenStreams,
            sink_pending = sink.Pending,
            paused = source.Source.Paused,
        }, s_json));
        app.MapMetrics("/metrics");
        app.MapGet("/api/v1/crashes", (int? limit, string? service, DateTimeOffset? since) =>
            RawArray(store.Recent("crash", limit ?? 50, since, service).Select(r => r.Doc)));
        app.MapGet("/api/v1/crashes/{id}", (string id) =>
            store.ById(id) is { Type: "crash" } row ? Results.Text(row.Doc, "application/json") : Results.NotFound());
        app.MapGet("/api/v1/crash-groups", (int? limit, DateTimeOffset? since) =>
            Results.Json(store.CrashGroups(since ?? DateTimeOffset.UtcNow.AddDays(-7), limit ?? 100), s_json));
        app.MapGet("/api/v1/alerts", (string? status, string? service, int? limit) =>
            status is null || s_alertStatuses.Contains(status)
                ? RawArray(store.Alerts(status, service, limit ?? 100).Select(r => r.Doc))
                : Results.BadRequest(new { error = $"unknown status; one of {string.Join(", ", s_alertStatuses)}" }));
        app.MapGet("/api/v1/gc/cycles", (string? service, DateTimeOffset? from, DateTimeOffset? to, int? limit) =>
        {
            var end = to ?? DateTimeOffset.UtcNow;
            var start = from ?? end.AddHours(-1);
            if (start > end) return Results.BadRequest(new { error = "from must not be after to" });
            return RawArray(store.Range("gc", start, end, limit ?? 2000, service).Select(r => r.Doc));
        });
        app.MapGet("/api/v1/gc/services", (GcAnalytics gc) => Results.Json(gc.Services(), s_json));
        app.MapGet("/api/v1/gc/impact", (string? service, GcAnalytics gc) =>
        {
            if (string.IsNullOrWhiteSpace(service)) return Results.BadRequest(new { error = "service is required (GET /api/v1/gc/services lists them)" });
            var table = gc.Impact(service);
            return Results.Json(new
            {
                service,
                samples = table.Samples,
                r_squared = table.RSquared,
                method = "standardised OLS of the stop-the-world pause on the factors over the service's recent cycles",
                factors = table.Factors.Select(f => new { factor = f.Factor, beta = f.Beta, note = f.Note }),
            }, s_json);
        });
        app.MapGet("/api/v1/events/{type}", (string type, int? limit, string? service, DateTimeOffset? since) =>
            s_eventTypes.Contains(type)
                ? RawArray(store.Recent(type, limit ?? 50, since, service).Select(r => r.Doc))
                : Results.BadRequest(new { error = $"unknown event type; one of {string.Join(", ", s_eventTypes)}" }));
    }

    /// <summary>Stored documents are already JSON (escaped on write): stream them as an array without re-parsing.</summary>
    private static IResult RawArray(IEnumerable<string> docs) => Results.Text("[" + string.Join(",", docs) + "]", "application/json");

    private static T Bind<T>(IConfiguration config, string section) where T : new()
    {
        var options = new T();
        config.GetSection(section).Bind(options);
        return options;
    }
}
