using System.CommandLine;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Correlation.Incidents;
using Ingest.Api;
using Ingest.Dashboard;
using Ingest.Hosting;
using Ingest.Reporting;
using Ingest.Pipeline.Assembly;
using Ingest.Pipeline.Delivery;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
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
        bool elastic = string.Equals(sinkOptions.Kind, "elasticsearch", StringComparison.OrdinalIgnoreCase);
        if (!elastic && !string.Equals(sinkOptions.Kind, "embedded", StringComparison.OrdinalIgnoreCase)) errors.Add("Sink:Kind must be embedded or elasticsearch");
        var esOptions = Bind<ElasticsearchOptions>(builder.Configuration, ElasticsearchOptions.SectionName);
        var telemetry = Bind<TelemetryOptions>(builder.Configuration, TelemetryOptions.SectionName);
        var correlation = Bind<CorrelationOptions>(builder.Configuration, CorrelationOptions.SectionName);
        var correlationTopics = Bind<CorrelationTopicsOptions>(builder.Configuration, CorrelationTopicsOptions.SectionName);
        errors.AddRange(correlationTopics.Validate());
        if (correlation.MaxClockOffset <= TimeSpan.Zero || correlation.ReorderWindow <= TimeSpan.Zero) errors.Add("Correlation:MaxClockOffset and Correlation:ReorderWindow must be positive");
        errors.AddRange(telemetry.Validate());
        if (elastic) errors.AddRange(esOptions.Validate());
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
            if (correlationTopics.Enabled)
            {
                dev.CreateTopic(correlationTopics.SpansTopic, serve.DevPartitions);
                dev.CreateTopic(correlationTopics.DetectionsTopic, serve.DevPartitions);
                // The mock brokers cannot look offsets up by time.
                correlationTopics.ReplayFromBeginning = true;
            }
            kafka.BootstrapServers = dev.BootstrapServers;
            Console.Error.WriteLine($"""
                ingest: no Kafka:BootstrapServers configured: started an EMBEDDED DEVELOPMENT Kafka cluster at {dev.BootstrapServers}
                        (in memory, lost on exit; not for production). Topics: {string.Join(", ", kafka.EffectiveTopics.Select(t => $"{t.Name} ({t.Format.ToString().ToLowerInvariant()})"))}.
                        Send logs:  kcat -P -b {dev.BootstrapServers} -t {kafka.EffectiveTopics.First().Name} -K '|' <<< 'pod-1|panic: boom'
                                    ingest replay --bootstrap {dev.BootstrapServers} --topic {kafka.EffectiveTopics.First().Name} FILE...
                """);
        }

        builder.AddIngestTelemetry(telemetry);
        var tracker = new OffsetTracker();
        // The store: the embedded SQLite database, or Elasticsearch data streams. Both write idempotently by id,
        // answer the same queries and give resume watermarks.
        SqliteEventStore? embedded = null;
        ElasticsearchEventSink? esSink = null;
        IEventSink sink;
        IEventQueries queries;
        IResumeWatermarks watermarks;
        string storeName;
        if (elastic)
        {
            var client = ElasticsearchEventSink.CreateClient(esOptions);
            esSink = new ElasticsearchEventSink(esOptions, client);
            var es = new ElasticsearchQueries(client, esOptions);
            (sink, queries, watermarks) = (esSink, es, es);
            storeName = $"elasticsearch {string.Join(",", esOptions.Urls.Select(Telemetry.Redact))} (data streams *-go.*-{esOptions.Namespace})";
        }
        else
        {
            embedded = new SqliteEventStore(Path.Combine(Path.GetFullPath(serve.DataDirectory), "events.db"));
            (sink, queries, watermarks) = (embedded, embedded, embedded);
            storeName = embedded.Path;
        }
        builder.Services.AddSingleton(queries).AddSingleton(watermarks);
        if (esSink is not null) builder.Services.AddSingleton(esSink);
        builder.Services.AddSingleton(analysis).AddSingleton(kafka).AddSingleton(assembly).AddSingleton(sinkOptions).AddSingleton(serve);
        builder.Services.AddSingleton(tracker).AddSingleton<PipelineMetrics>();
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
            try
            {
                var open = queries.AlertsAsync(GcAlertEvent.Firing, null, 1000, CancellationToken.None).GetAwaiter().GetResult();
                gc.Resume(open.Select(AlertDocuments.Parse));
            }
            catch (Exception ex) when (ex is ElasticsearchQueries.QueryFailedException or IOException or HttpRequestException)
            {
                sp.GetRequiredService<ILogger<GcAnalytics>>().LogWarning("could not load the alerts the previous run left firing ({Reason}); they stay open in the store until resolved by hand", ex.Message);
            }
            return gc;
        });
        builder.Services.AddSingleton(correlation).AddSingleton(correlationTopics);
        builder.Services.AddSingleton(Bind<PostmortemOptions>(builder.Configuration, PostmortemOptions.SectionName));
        // Between assembly and the sink: GC analytics, then (with correlation on) the detections publisher.
        builder.Services.AddSingleton<IEventStage>(sp => correlationTopics.Enabled
            ? new StageChain(sp.GetRequiredService<GcAnalytics>(), sp.GetRequiredService<DetectionPublisher>())
            : sp.GetRequiredService<GcAnalytics>());
        builder.Services.AddSingleton(sp => new DetectionPublisher(correlationTopics, kafka, tracker, sp.GetRequiredService<ILogger<DetectionPublisher>>()));
        builder.Services.AddSingleton(sp => new DeadLetterProducer(kafka, tracker, sp.GetRequiredService<PipelineMetrics>(), sp.GetRequiredService<ILogger<DeadLetterProducer>>()));
        builder.Services.AddSingleton(sp => new BatchingSinkHost(sink, sinkOptions, batch =>
        {
            foreach (var e in batch) tracker.Acked(e);
        }, sp.GetRequiredService<ILogger<BatchingSinkHost>>(), sp.GetRequiredService<DeadLetterProducer>().Send));
        // Stopped in reverse order: the source flushes into a sink that is still running.
        builder.Services.AddHostedService<SinkHostService>();
        builder.Services.AddSingleton<KafkaSourceService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<KafkaSourceService>());
        if (correlationTopics.Enabled)
        {
            builder.Services.AddSingleton(sp => new CorrelationSource(correlation, correlationTopics, kafka, sp.GetRequiredService<BatchingSinkHost>(), sp.GetRequiredService<ILogger<CorrelationSource>>(), analysis: analysis));
            builder.Services.AddHostedService<CorrelationService>();
        }
        if (files.Paths.Count > 0)
        {
            builder.Services.AddSingleton(files);
            builder.Services.AddHostedService<FileTailService>();
        }
        builder.WebHost.UseUrls(serve.Urls);
        builder.WebHost.ConfigureKestrel(k => k.AddServerHeader = false);
        bool requireToken = !string.IsNullOrEmpty(serve.ApiToken);
        if (requireToken)
        {
            builder.Services.AddAuthentication(BearerTokenHandler.SchemeName)
                .AddScheme<BearerTokenOptions, BearerTokenHandler>(BearerTokenHandler.SchemeName, o => o.Token = serve.ApiToken!);
            builder.Services.AddAuthorizationBuilder()
                .AddPolicy(ApiEndpoints.Policy, p => p.AddAuthenticationSchemes(BearerTokenHandler.SchemeName).RequireAuthenticatedUser());
        }

        var app = builder.Build();
        app.Use((context, next) =>
        {
            context.Response.Headers.XContentTypeOptions = "nosniff";
            return next(context);
        });
        var guard = new BindGuard();
        guard.Install(app);
        if (requireToken)
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        ApiEndpoints.MapApi(app, queries, requireToken);
        app.MapDashboard();
        int exit = 0;
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            var bound = BindGuard.BoundAddresses(app);
            if (guard.Check(bound, requireToken) is { } refusal)
            {
                Console.Error.WriteLine($"ingest serve: {refusal}");
                exit = AnalyzeCommand.ExitBadInput;
                app.Lifetime.StopApplication();
                return;
            }
            Console.Error.WriteLine($"ingest: consuming {string.Join(", ", kafka.EffectiveTopics.Select(t => t.Name))} from {kafka.BootstrapServers} as group {kafka.GroupId}; store {storeName}; API {string.Join(", ", bound)}");
            started?.Invoke(app);
        });
        try
        {
            app.RunAsync(stop).GetAwaiter().GetResult();
        }
        finally
        {
            embedded?.Dispose();
            esSink?.Dispose();
            dev?.Dispose();
        }
        return exit;
    }

    private static T Bind<T>(IConfiguration config, string section) where T : new()
    {
        var options = new T();
        config.GetSection(section).Bind(options);
        return options;
    }
}
