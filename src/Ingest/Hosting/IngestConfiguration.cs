using Ingest.GoRuntime.Analysis;
using Microsoft.Extensions.Configuration;

namespace Ingest.Hosting;

/// <summary>
/// Configuration through the standard .NET stack: an optional JSON file (config/appsettings.json shape),
/// then environment variables prefixed INGEST_ (INGEST_Analysis__ContentionThreshold=10).
/// </summary>
public static class IngestConfiguration
{
    /// <summary>
    /// The settings file to read: the one given (null when it does not exist), else config/appsettings.json in
    /// the working directory, else the one shipped beside the executable; empty when there is none at all.
    /// </summary>
    public static string? SettingsFile(string? given)
    {
        if (given is not null) return File.Exists(given) ? Path.GetFullPath(given) : null;
        foreach (string candidate in new[] { Path.Combine(Directory.GetCurrentDirectory(), "config", "appsettings.json"), Path.Combine(AppContext.BaseDirectory, "config", "appsettings.json") })
        {
            if (File.Exists(candidate)) return candidate;
        }
        return string.Empty;
    }

    public static IConfiguration Build(string? jsonFile)
    {
        var builder = new ConfigurationBuilder();
        if (jsonFile is not null) builder.AddJsonFile(Path.GetFullPath(jsonFile), optional: false);
        builder.AddEnvironmentVariables("INGEST_");
        return builder.Build();
    }

    /// <summary>Binds and validates the Analysis section; returns the problems found.</summary>
    public static AnalyzerOptions BindAnalysis(IConfiguration config, out List<string> errors)
    {
        var options = new AnalyzerOptions();
        BindAnalysis(config, options);
        errors = Validate(options);
        return options;
    }

    /// <summary>The Analysis section onto <paramref name="options"/>: configured token tables replace the defaults.</summary>
    public static void BindAnalysis(IConfiguration config, AnalyzerOptions options)
    {
        var section = config.GetSection(AnalyzerOptions.SectionName);
        // Lists and dictionaries bind by appending to defaults; replace them when configured.
        if (section.GetSection("Semantics:Layers").Exists()) options.Semantics.Layers.Clear();
        if (section.GetSection("Semantics:Intents").Exists()) options.Semantics.Intents.Clear();
        section.Bind(options);
    }

    public static List<string> Validate(AnalyzerOptions o)
    {
        var errors = new List<string>();
        if (o.MaxEventLines < 10) errors.Add("Analysis:MaxEventLines must be at least 10");
        if (o.MaxEventBytes < 1024) errors.Add("Analysis:MaxEventBytes must be at least 1024");
        if (o.MaxLineBytes < 256) errors.Add("Analysis:MaxLineBytes must be at least 256");
        if (o.RawTextLimitBytes < 0) errors.Add("Analysis:RawTextLimitBytes must not be negative");
        if (o.ContentionThreshold < 2) errors.Add("Analysis:ContentionThreshold must be at least 2");
        if (o.LeakMinSnapshots < 2) errors.Add("Analysis:LeakMinSnapshots must be at least 2");
        if (o.LongWaitMinutes < 1) errors.Add("Analysis:LongWaitMinutes must be at least 1");
        foreach (string m in o.Modules)
        {
            if (string.IsNullOrWhiteSpace(m) || m.Contains(' ', StringComparison.Ordinal)) errors.Add($"Analysis:Modules has an invalid module path '{m}'");
        }
        return errors;
    }
}
