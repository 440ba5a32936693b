using System.CommandLine;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Correlation.Incidents;
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

        var app = builder.Build();
        if (!string.IsNullOrEmpty(serve.ApiToken)) RequireToken(app, serve.ApiToken);
        MapApi(app, queries);
        app.MapDashboard();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            Console.Error.WriteLine($"ingest: consuming {string.Join(", ", kafka.EffectiveTopics.Select(t => t.Name))} from {kafka.BootstrapServers} as group {kafka.GroupId}; store {storeName}; API {serve.Urls}");
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
        return 0;
    }

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly string[] s_eventTypes = ["crash", "goroutine_dump", "gc", "gc_scavenge", "tagged_log", "leak_suspect", "alert", "incident", "dependency_graph", "build_info"];
    private static readonly string[] s_alertStatuses = [GcAlertEvent.Firing, GcAlertEvent.Resolved];

    public static void MapApi(WebApplication app, IEventQueries store)
    {
        app.MapGet("/healthz", (KafkaSourceService source, BatchingSinkHost sink, IServiceProvider services) => Results.Json(new
        {
            status = "ok",
            assigned_partitions = source.Source.Assignment.Count,
            open_streams = source.Source.OpenStreams,
            sink_pending = sink.Pending,
            sink_rejected = sink.Rejected,
            paused = source.Source.Paused,
            elasticsearch_circuit = services.GetService<ElasticsearchEventSink>()?.Circuit.ToString().ToLowerInvariant(),
        }, s_json));
        app.MapMetrics("/metrics");
        app.MapGet("/api/v1/crashes", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "crash", limit ?? 50, since, service, before, ct));
        app.MapGet("/api/v1/goroutine-dumps", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "goroutine_dump", limit ?? 20, since, service, before, ct));
        app.MapGet("/api/v1/leak-suspects", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "leak_suspect", limit ?? 100, since, service, before, ct));
        app.MapGet("/api/v1/gc/anomalies", async (string? service, DateTimeOffset? from, DateTimeOffset? to, CancellationToken ct) =>
        {
            var end = to ?? DateTimeOffset.UtcNow;
            var start = from ?? end.AddHours(-24);
            if (start > end) return Results.BadRequest(new { error = "from must not be after to" });
            // The cycles a detector flagged, with the detector's reason.
            var cycles = await store.RangeAsync("gc", start, end, 10_000, service, ct);
            return RawArray(cycles.Where(d => d.Contains("\"anomalies\":[", StringComparison.Ordinal)));
        });
        app.MapGet("/api/v1/crashes/{id}", async (string id, CancellationToken ct) =>
            await store.ByIdAsync(id, "crash", ct) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());
        app.MapGet("/api/v1/crash-groups", async (int? limit, DateTimeOffset? since, CancellationToken ct) =>
            Results.Json(await store.CrashGroupsAsync(since ?? DateTimeOffset.UtcNow.AddDays(-7), limit ?? 100, ct), s_json));
        app.MapGet("/api/v1/alerts", async (string? status, string? service, int? limit, CancellationToken ct) =>
            status is null || s_alertStatuses.Contains(status)
                ? RawArray(await store.AlertsAsync(status, service, limit ?? 100, ct))
                : Results.BadRequest(new { error = $"unknown status; one of {string.Join(", ", s_alertStatuses)}" }));
        app.MapGet("/api/v1/gc/cycles", async (string? service, DateTimeOffset? from, DateTimeOffset? to, int? limit, CancellationToken ct) =>
        {
            var end = to ?? DateTimeOffset.UtcNow;
            var start = from ?? end.AddHours(-1);
            if (start > end) return Results.BadRequest(new { error = "from must not be after to" });
            return RawArray(await store.RangeAsync("gc", start, end, limit ?? 2000, service, ct));
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
        app.MapGet("/api/v1/incidents", async (int? limit, string? service, DateTimeOffset? since, CancellationToken ct) =>
            RawArray(await store.RecentAsync("incident", limit ?? 50, since, service, ct)));
        app.MapGet("/api/v1/incidents/{id}/postmortem", async (string id, string? lang, IServiceProvider services, CancellationToken ct) =>
        {
            if (lang is not (null or "en" or "zh")) return Results.BadRequest(new { error = "lang is en or zh" });
            var writer = new PostmortemWriter(store, services.GetService<PostmortemOptions>() ?? new PostmortemOptions());
            return await writer.WriteAsync(id, lang ?? "en", ct) is { } draft ? Results.Text(draft, "text/markdown; charset=utf-8") : Results.NotFound();
        });
        app.MapGet("/api/v1/incidents/{id}", async (string id, CancellationToken ct) =>
            await store.ByIdAsync(id, "incident", ct) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());
        // The stored graph: the same answer whichever worker of the group correlated it.
        app.MapGet("/api/v1/dependency-graph", async (CancellationToken ct) =>
            await store.RecentAsync("dependency_graph", 1, null, null, ct) is [var doc, ..]
                ? Results.Text(doc, "application/json")
                : Results.NotFound(new { error = "no dependency graph yet: no spans with parents seen" }));
        app.MapGet("/api/v1/clock-skew", (IServiceProvider services) =>
            services.GetService<CorrelationSource>() is { } c
                ? Results.Json(new
                {
                    method = "lower bounds from causal span pairs: a child starting before its parent by its node's clock",
                    nodes = c.ClockLagNanos().Select(kv => new { node = kv.Key, behind_ms = kv.Value / 1e6 }),
                    beyond_max_offset = c.SkewedNodes(),
                }, s_json)
                : Results.NotFound(new { error = "correlation is disabled (Correlation:Enabled)" }));
        app.MapGet("/api/v1/events/{type}", async (HttpContext http, string type, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            s_eventTypes.Contains(type)
                ? await Page(http, store, type, limit ?? 50, since, service, before, ct)
                : Results.BadRequest(new { error = $"unknown event type; one of {string.Join(", ", s_eventTypes)}" }));
    }

    /// <summary>/api/ answers only with the bearer token (compared in constant time); probes and metrics stay open.</summary>
    private static void RequireToken(WebApplication app, string token)
    {
        byte[] expected = System.Text.Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.Ordinal))
            {
                byte[] given = System.Text.Encoding.UTF8.GetBytes(context.Request.Headers.Authorization.ToString());
                if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(given, expected))
                {
                    context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    context.Response.Headers.WWWAuthenticate = "Bearer";
                    return;
                }
            }
            await next(context).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// A page of documents, newest first. A full page answers with a Link header (rel="next") and
    /// X-Next-Cursor; pass the cursor back as ?before= for the next, older page.
    /// </summary>
    private static async Task<IResult> Page(HttpContext http, IEventQueries store, string type, int limit, DateTimeOffset? since, string? service, string? before, CancellationToken ct)
    {
        PageCursor? cursor = null;
        if (before is not null)
        {
            if (!PageCursor.TryParse(before, out var c)) return Results.BadRequest(new { error = "before is a cursor from X-Next-Cursor" });
            cursor = c;
        }
        int size = Math.Clamp(limit, 1, 1000);
        var docs = await store.RecentAsync(type, size, since, service, ct, cursor);
        if (docs.Count == size)
        {
            string next = PageCursor.After(docs[^1]).ToString();
            http.Response.Headers["X-Next-Cursor"] = next;
            var query = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(http.Request.QueryString.Value);
            var pairs = query.Where(kv => kv.Key != "before").SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v))).Append(new("before", next));
            http.Response.Headers.Link = $"<{Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString(http.Request.Path, pairs)}>; rel=\"next\"";
        }
        return RawArray(docs);
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
