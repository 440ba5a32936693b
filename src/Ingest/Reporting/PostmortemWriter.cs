using System.Text.Encodings.Web;
using System.Text.Json;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Sinks;
using Ingest.Reporting.Postmortem;

namespace Ingest.Reporting;

public sealed class PostmortemOptions
{
    public const string SectionName = "Postmortem";

    /// <summary>Repository web URL (https://github.com/acme/shop): code references link to it at the revision.</summary>
    public string? RepositoryUrl { get; set; } = string.Empty;

    /// <summary>Revision to link when the events do not say (a branch or a commit SHA).</summary>
    public string? Revision { get; set; } = string.Empty;

    /// <summary>Prefix of paths in stack traces to strip before linking (/home/dev/src/shop/).</summary>
    public string? SourceRoot { get; set; } = string.Empty;

    /// <summary>Where the API can be reached, for evidence links in the draft.</summary>
    public string? ApiBaseUrl { get; set; } = string.Empty;
}

/// <summary>
/// The postmortem draft of an incident, template 3.2: the facts (<see cref="PostmortemFactsReader"/>) as JSON, or
/// rendered as Markdown in English or Chinese (<see cref="PostmortemMarkdown"/>). Both formats come from the
/// same facts object.
/// </summary>
public sealed class PostmortemWriter(IEventQueries store, PostmortemOptions options, AlertingOptions? alerting = null)
{
    public const string TemplateVersion = "3.2";

    public static readonly IReadOnlyList<string> Formats = ["markdown", "json"];

    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        // Chinese and arrows stay readable; the document is served as application/json, never inlined into HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public Task<PostmortemFacts?> FactsAsync(string incidentId, CancellationToken cancellationToken) =>
        new PostmortemFactsReader(store, options, alerting ?? new AlertingOptions()).ReadAsync(incidentId, cancellationToken);

    /// <summary>The draft, or null when there is no such incident. <paramref name="format"/> is markdown or json (json ignores the language).</summary>
    public async Task<string?> WriteAsync(string incidentId, string lang, string format, CancellationToken cancellationToken)
    {
        var labels = PostmortemLabels.For(lang) ?? throw new ArgumentException($"unknown language {lang}", nameof(lang));
        if (!Formats.Contains(format)) throw new ArgumentException($"unknown format {format}", nameof(format));
        if (await FactsAsync(incidentId, cancellationToken).ConfigureAwait(false) is not { } facts) return null;
        return format == "json" ? Json(facts) : PostmortemMarkdown.Render(facts, labels, options.ApiBaseUrl);
    }

    /// <summary>The Markdown draft (the default format).</summary>
    public Task<string?> WriteAsync(string incidentId, string lang, CancellationToken cancellationToken) => WriteAsync(incidentId, lang, "markdown", cancellationToken);

    public static string Json(PostmortemFacts facts) => JsonSerializer.Serialize(facts, s_json);

    public static string ContentType(string format) => format == "json" ? "application/json; charset=utf-8" : "text/markdown; charset=utf-8";
}
