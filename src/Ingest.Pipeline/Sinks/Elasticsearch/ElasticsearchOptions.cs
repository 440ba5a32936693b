namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>The Elasticsearch sink (Sink:Kind=elasticsearch). Secrets come from the environment, never the file.</summary>
public sealed class ElasticsearchOptions
{
    public const string SectionName = "Elasticsearch";

    /// <summary>One or more node URLs (https://es-0:9200).</summary>
    public List<string> Urls { get; set; } = [];

    /// <summary>API key (the base64 "id:key" form Kibana shows). Prefer INGEST_Elasticsearch__ApiKey.</summary>
    public string? ApiKey { get; set; }

    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signed the cluster's certificate (self-managed TLS).</summary>
    public string? CaFile { get; set; }

    /// <summary>The data streams' namespace: logs-go.crash-{Namespace}.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>Install the ILM policy and templates on start (idempotent). Off when a platform team owns them.</summary>
    public bool Bootstrap { get; set; } = true;

    /// <summary>ILM: roll the backing index over at this age or primary shard size...</summary>
    public string RolloverMaxAge { get; set; } = "1d";
    public string RolloverMaxPrimaryShardSize { get; set; } = "50gb";

    /// <summary>...and delete it this long after rollover.</summary>
    public string DeleteAfter { get; set; } = "30d";

    public int NumberOfReplicas { get; set; } = 1;

    /// <summary>One bulk request carries at most this many bytes (a batch is split).</summary>
    public int BulkMaxBytes { get; set; } = 5 * 1024 * 1024;

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Items answered 429/5xx are re-sent this many times with backoff before the batch is handed back.</summary>
    public int ItemRetries { get; set; } = 5;

    /// <summary>Circuit breaker: this share of requests failing over the sampling window opens it...</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>...once at least this many requests were made in the window...</summary>
    public int BreakerMinimumThroughput { get; set; } = 4;

    /// <summary>...and it stays open this long before a trial request.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (Urls.Count == 0) errors.Add("Elasticsearch:Urls is required when Sink:Kind is elasticsearch");
        foreach (string u in Urls)
        {
            if (!Uri.TryCreate(u, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https")) errors.Add($"Elasticsearch:Urls has an invalid URL: {u}");
        }
        if (ApiKey is not null && Username is not null) errors.Add("Elasticsearch: configure ApiKey or Username/Password, not both");
        if (Username is not null && Password is null) errors.Add("Elasticsearch:Password is required with Username");
        if (CaFile is not null && !File.Exists(CaFile)) errors.Add($"Elasticsearch:CaFile {CaFile} does not exist");
        if (string.IsNullOrWhiteSpace(Namespace) || Namespace.Any(c => char.IsUpper(c) || c is '-' or ' ' or '*' or ',' or '\\' or '/' or '?' or '"' or '<' or '>' or '|'))
            errors.Add("Elasticsearch:Namespace must be lower case without '-', spaces or wildcards (data stream naming)");
        if (BulkMaxBytes < 64 * 1024) errors.Add("Elasticsearch:BulkMaxBytes must be at least 64 KB");
        if (ItemRetries < 0) errors.Add("Elasticsearch:ItemRetries must not be negative");
        if (BreakerFailureRatio is <= 0 or > 1) errors.Add("Elasticsearch:BreakerFailureRatio must be in (0, 1]");
        if (BreakerMinimumThroughput < 2) errors.Add("Elasticsearch:BreakerMinimumThroughput must be at least 2");
        if (BreakerBreakDuration < TimeSpan.FromMilliseconds(500)) errors.Add("Elasticsearch:BreakerBreakDuration must be at least 00:00:00.500");
        return errors;
    }
}
