using System.CommandLine;
using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Analysis.Gc;
using Microsoft.Extensions.Configuration;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Serialization;
using Ingest.Pipeline.Analysis;
using Ingest.Hosting;
using Ingest.Reporting;

namespace Ingest.Commands;

/// <summary><c>ingest analyze [--json] [--module PREFIX]... [FILE|-]...</c>: each input is one stream, read in order.</summary>
public static class AnalyzeCommand
{
    public const int ExitOk = 0;
    public const int ExitBadInput = 2;

    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print one JSON object per event (NDJSON) instead of a report." };
        var modules = new Option<string[]>("--module", "-m")
        {
            Description = "Module path prefix of the service's own code (repeatable), e.g. example.com/shop. Inferred when omitted.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var noRaw = new Option<bool>("--no-raw") { Description = "Leave the raw text out of JSON events." };
        var config = new Option<string?>("--config") { Description = "JSON settings file (see config/appsettings.json): the Analysis section." };
        var files = new Argument<string[]>("FILE") { Description = "Files to read, '-' for standard input (default).", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("analyze", "Find crashes, goroutine dumps, GC cycles and tagged lines in log files and report them.")
        {
            json, modules, noRaw, config, files,
        };
        cmd.SetAction(parse =>
        {
            AnalyzerOptions options;
            var gcOptions = new GcAnalyticsOptions();
            try
            {
                var configuration = IngestConfiguration.Build(parse.GetValue(config));
                options = IngestConfiguration.BindAnalysis(configuration, out var errors);
                configuration.GetSection(GcAnalyticsOptions.SectionName).Bind(gcOptions);
                errors.AddRange(gcOptions.Validate());
                if (errors.Count > 0)
                {
                    Console.Error.WriteLine("ingest analyze: invalid configuration: " + string.Join("; ", errors));
                    return ExitBadInput;
                }
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or FormatException or InvalidOperationException)
            {
                Console.Error.WriteLine($"ingest analyze: cannot load configuration: {ex.Message}");
                return ExitBadInput;
            }
            foreach (string m in parse.GetValue(modules) ?? []) options.Modules.Add(m);
            return Run(parse.GetValue(files) ?? [], parse.GetValue(json), options, parse.GetValue(noRaw), Console.OpenStandardInput, Console.OpenStandardOutput(), Console.Error, gcOptions);
        });
        return cmd;
    }

    public static int Run(string[] inputs, bool json, string[] modules, bool noRaw, Func<Stream> stdin, Stream stdout, TextWriter stderr) =>
        Run(inputs, json, new AnalyzerOptions { Modules = [.. modules] }, noRaw, stdin, stdout, stderr);

    public static int Run(string[] inputs, bool json, AnalyzerOptions options, bool noRaw, Func<Stream> stdin, Stream stdout, TextWriter stderr,
        GcAnalyticsOptions? gcOptions = null)
    {
        if (inputs.Length == 0) inputs = ["-"];
        // Open everything first: an unreadable input is a usage error before any output.
        foreach (string path in inputs)
        {
            if (path == "-") continue;
            try
            {
                using var probe = File.OpenRead(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                stderr.WriteLine($"ingest analyze: cannot read {path}: {ex.Message}");
                return ExitBadInput;
            }
        }

        using var writer = new Utf8JsonWriter(stdout, EventJsonWriter.WriterOptions);
        var eventWriter = new EventJsonWriter(options.Semantics) { IncludeRawText = !noRaw };
        var report = json ? null : new HumanReport(semantics: options.Semantics);
        foreach (string path in inputs)
        {
            string name = path == "-" ? "stdin" : path;
            // The worker's GC detectors, one instance per input (the file is one process's output).
            var gc = new GcInstanceAnalyzer(gcOptions ?? new GcAnalyticsOptions(), name);
            Action<RuntimeEvent> write = json
                ? e =>
                {
                    eventWriter.Write(writer, e);
                    writer.Flush();
                    stdout.WriteByte((byte)'\n');
                    writer.Reset();
                }
                : report!.Add;
            Action<RuntimeEvent> emit = e =>
            {
                if (e is GcCycleEvent cycle)
                {
                    var anomalies = new List<GcAnomaly>();
                    cycle.Derived = gc.Observe(cycle.Cycle, anomalies);
                    cycle.Anomalies = anomalies;
                }
                else if (e is GoroutineDumpEvent dump)
                {
                    gc.Goroutines = dump.GoroutineCount;
                }
                write(e);
            };
            try
            {
                using var input = path == "-" ? stdin() : File.OpenRead(path);
                long lines = StreamAnalyzer.Analyze(input, name, options, emit);
                report?.EndStream(name, lines);
            }
            catch (IOException ex)
            {
                stderr.WriteLine($"ingest analyze: cannot read {name}: {ex.Message}");
                return ExitBadInput;
            }
        }
        stdout.Flush();
        report?.Render();
        return ExitOk;
    }
}
