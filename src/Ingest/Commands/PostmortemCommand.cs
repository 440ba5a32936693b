using System.CommandLine;
using Ingest.Hosting;
using Ingest.Pipeline.Alerting;
using Ingest.Pipeline.Sinks;
using Ingest.Pipeline.Sinks.Elasticsearch;
using Ingest.Pipeline.Sinks.Sqlite;
using Ingest.Reporting;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Commands;

/// <summary>
/// <c>ingest postmortem --incident ID [--lang en|zh] [--format markdown|json] [--out FILE]</c>: the postmortem draft of an
/// incident, read from the store the worker writes to (the embedded store under Serve:DataDirectory, or
/// Elasticsearch with Sink:Kind=elasticsearch). The same writer answers GET /api/v1/incidents/{id}/postmortem.
/// </summary>
public static class PostmortemCommand
{
    public static Command Create()
    {
        var incident = new Option<string>("--incident") { Description = "Incident id (GET /api/v1/incidents lists them).", Required = true };
        var lang = new Option<string>("--lang") { Description = "en or zh.", DefaultValueFactory = _ => "en" };
        var format = new Option<string>("--format") { Description = "markdown (the draft) or json (its facts).", DefaultValueFactory = _ => "markdown" };
        var output = new Option<string?>("--out") { Description = "Write the draft here instead of standard output." };
        var config = new Option<string?>("--config") { Description = "Settings file (default: config/appsettings.json when present)." };
        var cmd = new Command("postmortem", "Write the postmortem draft of an incident (Markdown or JSON, template 3.2).") { incident, lang, format, output, config };
        cmd.SetAction(parse => Run(parse.GetValue(incident)!, parse.GetValue(lang)!, parse.GetValue(format)!, parse.GetValue(output), parse.GetValue(config), Console.Out, Console.Error));
        return cmd;
    }

    public static int Run(string incidentId, string lang, string format, string? outPath, string? configPath, TextWriter stdout, TextWriter stderr)
    {
        if (lang is not ("en" or "zh"))
        {
            stderr.WriteLine("ingest postmortem: --lang must be en or zh");
            return AnalyzeCommand.ExitBadInput;
        }
        if (!PostmortemWriter.Formats.Contains(format))
        {
            stderr.WriteLine("ingest postmortem: --format must be markdown or json");
            return AnalyzeCommand.ExitBadInput;
        }
        if (IngestConfiguration.SettingsFile(configPath) is not { } path)
        {
            stderr.WriteLine($"ingest postmortem: configuration file {configPath} not found");
            return AnalyzeCommand.ExitBadInput;
        }
        var configuration = IngestConfiguration.Build(path.Length > 0 ? path : null);
        var errors = IngestComposition.Validate(configuration);
        if (errors.Count > 0)
        {
            stderr.WriteLine("ingest postmortem: invalid configuration: " + string.Join("; ", errors));
            return AnalyzeCommand.ExitBadInput;
        }
        using var services = new ServiceCollection().AddIngestOptions(configuration).AddIngestStore(configuration).BuildServiceProvider();
        var sink = services.GetRequiredService<SinkHostOptions>();
        string db = EventStore.EmbeddedPath(services.GetRequiredService<ServeOptions>());
        if (!string.Equals(sink.Kind, "elasticsearch", StringComparison.OrdinalIgnoreCase) && !File.Exists(db))
        {
            // Opening would create an empty store.
            stderr.WriteLine($"ingest postmortem: no embedded store at {db} (run `ingest serve` first, or set Serve:DataDirectory)");
            return AnalyzeCommand.ExitBadInput;
        }
        var store = services.GetRequiredService<IEventQueries>();
        var postmortem = services.GetRequiredService<PostmortemOptions>();
        string? draft = new PostmortemWriter(store, postmortem, services.GetRequiredService<AlertingOptions>())
            .WriteAsync(incidentId, lang, format, CancellationToken.None).GetAwaiter().GetResult();
        if (draft is null)
        {
            stderr.WriteLine($"ingest postmortem: no incident {incidentId}");
            return AnalyzeCommand.ExitBadInput;
        }
        if (outPath is null) stdout.Write(draft);
        else File.WriteAllText(outPath, draft);
        return AnalyzeCommand.ExitOk;
    }
}
