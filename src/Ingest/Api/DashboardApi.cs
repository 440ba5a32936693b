using Ingest.Pipeline.Sinks;
using Ingest.Reporting;
using Markdig;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Api;

/// <summary>What the dashboard asks beyond the list endpoints: one dump by id, and the postmortem draft as HTML.</summary>
public static class DashboardApi
{
    /// <summary>
    /// CommonMark with pipe tables and no raw HTML: markup in the draft (log text the writer escaped, or anything
    /// that slipped through) is rendered as text, so the only elements are the ones Markdig generates.
    /// </summary>
    private static readonly MarkdownPipeline s_markdown = new MarkdownPipelineBuilder().UsePipeTables().DisableHtml().Build();

    public static void MapDashboardApi(RouteGroupBuilder api, IEventQueries store)
    {
        api.MapGet("/goroutine-dumps/{id}", async (string id, CancellationToken ct) =>
            await store.ByIdAsync(id, "goroutine_dump", ct) is { } doc ? Results.Text(doc, "application/json") : Results.NotFound());
        api.MapGet("/incidents/{id}/postmortem.html", async (HttpContext http, string id, string? lang, IServiceProvider services, CancellationToken ct) =>
        {
            // Opened directly it is a page of its own: nothing in it may load or run.
            http.Response.Headers.ContentSecurityPolicy = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
            http.Response.Headers.XContentTypeOptions = "nosniff";
            if (lang is not (null or "en" or "zh")) return Results.BadRequest(new { error = "lang is en or zh" });
            var writer = new PostmortemWriter(store, services.GetService<PostmortemOptions>() ?? new PostmortemOptions(), services.GetService<Ingest.Pipeline.Alerting.AlertingOptions>());
            return await writer.WriteAsync(id, lang ?? "en", ct) is { } draft
                ? Results.Text(PostmortemHtml(draft), "text/html; charset=utf-8")
                : Results.NotFound();
        });
    }

    /// <summary>The draft as HTML: Markdig's elements only, any markup in the text escaped.</summary>
    public static string PostmortemHtml(string markdown) => Markdown.ToHtml(markdown, s_markdown);
}
