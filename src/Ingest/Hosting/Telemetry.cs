using Ingest.Pipeline.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ingest.Hosting;

/// <summary>The worker's own telemetry: OTLP traces and metrics of the pipeline, and structured logs.</summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>OTLP endpoint (http://otel-collector:4317). Empty: no export, unless OTEL_EXPORTER_OTLP_ENDPOINT is set.</summary>
    public string? OtlpEndpoint { get; set; } = string.Empty;

    /// <summary>The service.name resource attribute of the worker itself.</summary>
    public string ServiceName { get; set; } = "ingest";

    /// <summary>One JSON object per log line on stdout (what log shippers parse).</summary>
    public bool JsonLogs { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(OtlpEndpoint) || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(OtlpEndpoint) && !Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out _)) errors.Add("Telemetry:OtlpEndpoint must be an absolute URL");
        if (string.IsNullOrWhiteSpace(ServiceName)) errors.Add("Telemetry:ServiceName is required");
        return errors;
    }
}

public static class Telemetry
{
    public static void AddIngestTelemetry(this WebApplicationBuilder builder, TelemetryOptions options)
    {
        if (options.JsonLogs)
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = false);
        }
        if (!options.Enabled) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(options.ServiceName, serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString()))
            .WithTracing(t =>
            {
                t.AddSource(PipelineTelemetry.SourceName);
                t.AddOtlpExporter(o =>
                {
                    if (!string.IsNullOrWhiteSpace(options.OtlpEndpoint)) o.Endpoint = new Uri(options.OtlpEndpoint);
                });
            });
    }

    /// <summary>A URL as it may be printed: without user information (https://user:secret@host).</summary>
    public static string Redact(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.UserInfo)) return url;
        return new UriBuilder(uri) { UserName = "***", Password = string.Empty }.Uri.ToString();
    }
}
