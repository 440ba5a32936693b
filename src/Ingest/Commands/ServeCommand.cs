using System.CommandLine;
using Ingest.Api;
using Ingest.Dashboard;
using Ingest.Hosting;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

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
        if (IngestConfiguration.SettingsFile(configPath) is not { } path)
        {
            Console.Error.WriteLine($"ingest serve: configuration file {configPath} not found");
            return AnalyzeCommand.ExitBadInput;
        }
        if (path.Length > 0) builder.Configuration.AddJsonFile(path, optional: false);
        builder.Configuration.AddEnvironmentVariables("INGEST_").AddCommandLine(args);
        var errors = IngestComposition.Validate(builder.Configuration);
        if (errors.Count > 0)
        {
            Console.Error.WriteLine("ingest serve: invalid configuration:\n  " + string.Join("\n  ", errors));
            return AnalyzeCommand.ExitBadInput;
        }

        var kafka = IngestComposition.Bind<KafkaSourceOptions>(builder.Configuration, KafkaSourceOptions.SectionName);
        var serve = IngestComposition.Bind<ServeOptions>(builder.Configuration, ServeOptions.SectionName);
        using var dev = string.IsNullOrWhiteSpace(kafka.BootstrapServers) ? StartDevCluster(builder.Configuration, kafka, serve) : null;

        builder.AddIngestTelemetry(IngestComposition.Bind<TelemetryOptions>(builder.Configuration, TelemetryOptions.SectionName));
        builder.Services.AddIngestPipeline(builder.Configuration).AddIngestWorker(builder.Configuration);
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
        ApiEndpoints.MapApi(app, app.Services.GetRequiredService<IEventQueries>(), requireToken);
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
            var options = app.Services.GetRequiredService<KafkaSourceOptions>();
            Console.Error.WriteLine($"ingest: consuming {string.Join(", ", options.EffectiveTopics.Select(t => t.Name))} from {options.BootstrapServers} as group {options.GroupId}; store {app.Services.GetRequiredService<EventStore>().Name}; API {string.Join(", ", bound)}");
            started?.Invoke(app);
        });
        try
        {
            app.RunAsync(stop).GetAwaiter().GetResult();
        }
        finally
        {
            // Disposes the store, the Kafka clients and the sink (what the container created).
            app.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return exit;
    }

    /// <summary>
    /// No Kafka:BootstrapServers: librdkafka's mock brokers in process, with the configured topics, and said so.
    /// Its address goes into the configuration the composition root binds.
    /// </summary>
    private static MockKafkaCluster StartDevCluster(ConfigurationManager configuration, KafkaSourceOptions kafka, ServeOptions serve)
    {
        var correlationTopics = IngestComposition.Bind<CorrelationTopicsOptions>(configuration, CorrelationTopicsOptions.SectionName);
        var dev = new MockKafkaCluster(brokers: 3);
        foreach (var t in kafka.EffectiveTopics) dev.CreateTopic(t.Name, serve.DevPartitions);
        dev.CreateTopic(kafka.DeadLetterTopic, 1);
        var overrides = new Dictionary<string, string?> { [$"{KafkaSourceOptions.SectionName}:BootstrapServers"] = dev.BootstrapServers };
        if (correlationTopics.Enabled)
        {
            dev.CreateTopic(correlationTopics.SpansTopic, serve.DevPartitions);
            dev.CreateTopic(correlationTopics.DetectionsTopic, serve.DevPartitions);
            // The mock brokers cannot look offsets up by time.
            overrides[$"{CorrelationTopicsOptions.SectionName}:ReplayFromBeginning"] = "true";
        }
        configuration.AddInMemoryCollection(overrides);
        Console.Error.WriteLine($"""
            ingest: no Kafka:BootstrapServers configured: started an EMBEDDED DEVELOPMENT Kafka cluster at {dev.BootstrapServers}
                    (in memory, lost on exit; not for production). Topics: {string.Join(", ", kafka.EffectiveTopics.Select(t => $"{t.Name} ({t.Format.ToString().ToLowerInvariant()})"))}.
                    Send logs:  kcat -P -b {dev.BootstrapServers} -t {kafka.EffectiveTopics.First().Name} -K '|' <<< 'pod-1|panic: boom'
                                ingest replay --bootstrap {dev.BootstrapServers} --topic {kafka.EffectiveTopics.First().Name} FILE...
            """);
        return dev;
    }
}
