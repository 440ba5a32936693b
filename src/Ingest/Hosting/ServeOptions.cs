namespace Ingest.Hosting;

/// <summary>Where the worker keeps its data and serves its API.</summary>
public sealed class ServeOptions
{
    public const string SectionName = "Serve";

    /// <summary>Folder of the embedded store (events.db).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>HTTP API address. Loopback by default; any other address requires <see cref="ApiToken"/>.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>
    /// Bearer token the /api/ endpoints require (from a secret: INGEST_Serve__ApiToken). /healthz and /metrics
    /// stay open for probes and scrapers; they carry no log content.
    /// </summary>
    public string? ApiToken { get; set; }

    /// <summary>Topics the embedded development cluster creates, with this many partitions.</summary>
    public int DevPartitions { get; set; } = 4;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory)) errors.Add("Serve:DataDirectory is required");
        foreach (string url in Urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https"))
            {
                errors.Add($"Serve:Urls has an invalid URL '{url}'");
            }
            else if (!u.IsLoopback && u.Host != "localhost" && string.IsNullOrEmpty(ApiToken))
            {
                errors.Add($"Serve:Urls binds {u.Host}: set Serve:ApiToken (a bearer token, from a secret) to serve the API beyond loopback");
            }
        }
        if (ApiToken is { Length: > 0 and < 16 }) errors.Add("Serve:ApiToken must be at least 16 characters");
        if (DevPartitions is < 1 or > 256) errors.Add("Serve:DevPartitions must be between 1 and 256");
        return errors;
    }
}
