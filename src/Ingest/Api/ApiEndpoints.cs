using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.Hosting;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Correlation;
using Ingest.Pipeline.Model;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Reporting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Prometheus;

namespace Ingest.Api;

/// <summary>
/// The HTTP API: probes and metrics at the root, everything with log content under one <c>/api/v1</c> route
/// group, which requires the bearer token when one is configured (the policy follows routing, so
/// <c>/API/v1</c> or a percent-encoded path reaches the same endpoint and the same check).
/// </summary>
public static class ApiEndpoints
{
    public const string Policy = "api";

    private static readonly JsonSerializerOptions s_json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private static readonly string[] s_alertStatuses = [GcAlertEvent.Firing, GcAlertEvent.Resolved];

    /// <summary>Page sizes callers may ask for; a limit outside is an error, not silently clamped.</summary>
    public const int MaxLimit = 1000;

    /// <summary>GC cycles feed charts: a day of a busy service's cycles fits one request.</summary>
    public const int MaxCycleLimit = 10_000;

    public static void MapApi(WebApplication app, IEventQueries store, bool requireToken)
    {
        app.MapGet("/healthz", (KafkaSourceService source, BatchingSinkHost sink, IServiceProvider services) => Results.Json(new
        {
            status = "ok",
            assigned_partitions = source.Source.Assignment.Count,
            open_streams = source.Source.OpenStreams,
            assembly_open_bytes = source.Source.OpenBytes,
            sink_pending = sink.Pending,
            sink_rejected = sink.Rejected,
            paused = source.Source.Paused,
            offsets_lost = source.Source.LostOffsets.Select(l => new { topic = l.Topic, partition = l.Partition, from = l.From, to = l.To, count = l.Count, at = l.At }),
            elasticsearch_circuit = services.GetService<ElasticsearchEventSink>()?.Circuit.ToString().ToLowerInvariant(),
        }, s_json));
        app.MapMetrics("/metrics");

        var api = app.MapGroup("/api/v1");
        if (requireToken) api.RequireAuthorization(Policy);
        MapEvents(api, store);
        MapGc(api, store);
        MapIncidents(api, store);
        DashboardApi.MapDashboardApi(api, store);
    }

    private static void MapEvents(RouteGroupBuilder api, IEventQueries store)
    {
        api.MapGet("/crashes", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "crash", limit, 50, since, service, before, ct));
        api.MapGet("/goroutine-dumps", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "goroutine_dump", limit, 20, since, service, before, ct));
        api.MapGet("/leak-suspects", (HttpContext http, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            Page(http, store, "leak_suspect", limit, 100, since, service, before, ct));
        api.MapGet("/crashes/{id}", async (string id, CancellationToken ct) =>
            await store.ByIdAsync(id, "crash", ct) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());
        api.MapGet("/crash-groups", async (int? limit, DateTimeOffset? since, TimeProvider time, CancellationToken ct) =>
            LimitError(limit, MaxLimit) ?? Results.Json(await store.CrashGroupsAsync(since ?? time.GetUtcNow().AddDays(-7), limit ?? 100, ct), s_json));
        api.MapGet("/alerts", async (string? status, string? service, int? limit, CancellationToken ct) =>
            LimitError(limit, MaxLimit) ?? (status is null || s_alertStatuses.Contains(status)
                ? RawArray(await store.AlertsAsync(status, service, limit ?? 100, ct))
                : Results.BadRequest(new { error = $"unknown status; one of {string.Join(", ", s_alertStatuses)}" })));
        api.MapGet("/events/{type}", async (HttpContext http, string type, int? limit, string? service, DateTimeOffset? since, string? before, CancellationToken ct) =>
            EventTypes.TryFor(type, out _)
                ? await Page(http, store, type, limit, 50, since, service, before, ct)
                : Results.BadRequest(new { error = $"unknown event type; one of {string.Join(", ", EventTypes.Names)}" }));
    }

    private static void MapGc(RouteGroupBuilder api, IEventQueries store)
    {
        api.MapGet("/gc/anomalies", async (string? service, DateTimeOffset? from, DateTimeOffset? to, TimeProvider time, CancellationToken ct) =>
        {
            var end = to ?? time.GetUtcNow();
            var start = from ?? end.AddHours(-24);
            if (start > end) return Results.BadRequest(new { error = "from must not be after to" });
            // The cycles a detector flagged, with the detector's reason.
            var cycles = await store.RangeAsync("gc", start, end, MaxCycleLimit, service, ct);
            return RawArray(cycles.Where(d => d.Contains("\"anomalies\":[", StringComparison.Ordinal)));
        });
        api.MapGet("/gc/cycles", async (string? service, DateTimeOffset? from, DateTimeOffset? to, int? limit, TimeProvider time, CancellationToken ct) =>
        {
            if (LimitError(limit, MaxCycleLimit) is { } error) return error;
            var end = to ?? time.GetUtcNow();
            var start = from ?? end.AddHours(-1);
            if (start > end) return Results.BadRequest(new { error = "from must not be after to" });
            return RawArray(await store.RangeAsync("gc", start, end, limit ?? 2000, service, ct));
        });
        api.MapGet("/gc/services", (GcAnalytics gc) => Results.Json(gc.Services(), s_json));
        api.MapGet("/gc/impact", (string? service, GcAnalytics gc) =>
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
    }

    private static void MapIncidents(RouteGroupBuilder api, IEventQueries store)
    {
        api.MapGet("/incidents", async (int? limit, string? service, DateTimeOffset? since, CancellationToken ct) =>
            LimitError(limit, MaxLimit) ?? RawArray(await store.RecentAsync("incident", limit ?? 50, since, service, ct)));
        api.MapGet("/incidents/{id}/postmortem", async (string id, string? lang, string? format, IServiceProvider services, CancellationToken ct) =>
        {
            if (lang is not (null or "en" or "zh")) return Results.BadRequest(new { error = "lang is en or zh" });
            if (format is not (null or "markdown" or "json")) return Results.BadRequest(new { error = "format is markdown or json" });
            var writer = new PostmortemWriter(store, services.GetService<PostmortemOptions>() ?? new PostmortemOptions(), services.GetService<AlertingOptions>());
            return await writer.WriteAsync(id, lang ?? "en", format ?? "markdown", ct) is { } draft
                ? Results.Text(draft, PostmortemWriter.ContentType(format ?? "markdown")) : Results.NotFound();
        });
        api.MapGet("/incidents/{id}", async (string id, CancellationToken ct) =>
            await store.ByIdAsync(id, "incident", ct) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());
        // The stored graph, added up over the group's workers: the same answer however many share the partitions.
        api.MapGet("/dependency-graph", async (CancellationToken ct) =>
            DependencyGraphDocuments.Merge(await store.RecentAsync("dependency_graph", 64, null, null, ct)) is { } doc
                ? Results.Text(doc, "application/json")
                : Results.NotFound(new { error = "no dependency graph yet: no spans with parents seen" }));
        api.MapGet("/clock-skew", (IServiceProvider services) =>
            services.GetService<CorrelationSource>() is { } c
                ? Results.Json(new
                {
                    method = "lower bounds from causal span pairs: a child starting before its parent by its node's clock",
                    nodes = c.ClockLagNanos().Select(kv => new { node = kv.Key, behind_ms = kv.Value / 1e6 }),
                    beyond_max_offset = c.SkewedNodes(),
                }, s_json)
                : Results.NotFound(new { error = "correlation is disabled (Correlation:Enabled)" }));
    }

    /// <summary>A 400 naming the range when <paramref name="limit"/> is outside 1..<paramref name="max"/>.</summary>
    private static IResult? LimitError(int? limit, int max) =>
        limit is < 1 || limit > max ? Results.BadRequest(new { error = $"limit must be between 1 and {max}" }) : null;

    /// <summary>
    /// A page of documents, newest first. A full page answers with a Link header (rel="next") and
    /// X-Next-Cursor; pass the cursor back as ?before= for the next, older page.
    /// </summary>
    private static async Task<IResult> Page(HttpContext http, IEventQueries store, string type, int? limit, int defaultLimit, DateTimeOffset? since, string? service, string? before, CancellationToken ct)
    {
        if (LimitError(limit, MaxLimit) is { } error) return error;
        PageCursor? cursor = null;
        if (before is not null)
        {
            if (!PageCursor.TryParse(before, out var c)) return Results.BadRequest(new { error = "before is a cursor from X-Next-Cursor" });
            cursor = c;
        }
        int size = limit ?? defaultLimit;
        var docs = await store.RecentAsync(type, size, since, service, ct, cursor);
        if (docs.Count == size)
        {
            string next = PageCursor.After(docs[^1]).ToString();
            http.Response.Headers["X-Next-Cursor"] = next;
            var query = QueryHelpers.ParseQuery(http.Request.QueryString.Value);
            var pairs = query.Where(kv => kv.Key != "before").SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string?>(kv.Key, v))).Append(new("before", next));
            http.Response.Headers.Link = $"<{QueryHelpers.AddQueryString(http.Request.Path, pairs)}>; rel=\"next\"";
        }
        return RawArray(docs);
    }

    /// <summary>Stored documents are already JSON (escaped on write): stream them as an array without re-parsing.</summary>
    private static IResult RawArray(IEnumerable<string> docs) => Results.Text("[" + string.Join(",", docs) + "]", "application/json");
}
