using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ingest.Pipeline.Alerting;

public sealed class AlertingOptions
{
    public const string SectionName = "Alerting";

    /// <summary>Alertmanager base URL (http://alertmanager:9093). Empty: alerts are stored, not pushed.</summary>
    public string? AlertmanagerUrl { get; set; } = string.Empty;

    /// <summary>Firing alerts are re-sent this often (keep it well below Alertmanager's resolve_timeout).</summary>
    public TimeSpan ResendInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Labels added to every pushed alert (cluster, environment).</summary>
    public Dictionary<string, string> ExtraLabels { get; set; } = [];

    /// <summary>Severity label per kind; kinds not listed are "warning".</summary>
    public Dictionary<string, string> Severity { get; set; } = new() { ["gc_thrash"] = "critical" };

    /// <summary>Base of the generatorURL (this worker's API as users reach it).</summary>
    public string? ExternalUrl { get; set; } = string.Empty;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(AlertmanagerUrl) && !Uri.TryCreate(AlertmanagerUrl, UriKind.Absolute, out _))
            errors.Add("Alerting:AlertmanagerUrl must be an absolute URL");
        if (ResendInterval < TimeSpan.FromSeconds(1)) errors.Add("Alerting:ResendInterval must be at least 1 second");
        return errors;
    }
}

/// <summary>
/// Pushes GC alerts to Alertmanager's v2 API the way Prometheus does: firing alerts are re-sent every
/// <see cref="AlertingOptions.ResendInterval"/> with endsAt four intervals ahead (so they expire on their own
/// if this worker dies), resolved alerts are sent once more with their real endsAt. Failed pushes stay
/// pending and are retried on the next round; the alert documents in the store are the record either way.
/// </summary>
public sealed class AlertmanagerPublisher : IAlertNotifier, IDisposable
{
    private readonly AlertingOptions _options;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    // Latest state per fingerprint, and when it was last delivered (null: not yet).
    private readonly Dictionary<string, (GcAlertEvent Alert, DateTimeOffset? Sent)> _alerts = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);

    public AlertmanagerPublisher(AlertingOptions options, HttpClient? http = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _options = options;
        _http = http ?? new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    public long Delivered { get; private set; }

    public void Notify(GcAlertEvent alert)
    {
        if (string.IsNullOrWhiteSpace(_options.AlertmanagerUrl)) return;
        lock (_gate)
        {
            // Bounded: one entry per (service, instance, kind) episode; resolved ones leave once delivered.
            _alerts[alert.Fingerprint + "|" + alert.StartedAt.ToUnixTimeMilliseconds()] = (alert, null);
        }
        _wake.Release();
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await PushDueAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await _wake.WaitAsync(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Sends what is new or due for a resend; returns the number of alerts delivered.</summary>
    public async Task<int> PushDueAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        List<KeyValuePair<string, (GcAlertEvent Alert, DateTimeOffset? Sent)>> due;
        lock (_gate)
        {
            due = _alerts.Where(kv => kv.Value.Sent is null || (kv.Value.Alert.Status == GcAlertEvent.Firing && now - kv.Value.Sent >= _options.ResendInterval)).ToList();
        }
        if (due.Count == 0 || string.IsNullOrWhiteSpace(_options.AlertmanagerUrl)) return 0;
        var body = due.Select(kv => ToPayload(kv.Value.Alert, now)).ToList();
        try
        {
            var url = new Uri(new Uri(_options.AlertmanagerUrl.TrimEnd('/') + "/"), "api/v2/alerts");
            using var response = await _http.PostAsJsonAsync(url, body, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                _logger.LogWarning("alertmanager answered {Status}; {Count} alerts stay pending", (int)response.StatusCode, due.Count);
                return 0;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _logger.LogWarning("alertmanager unreachable ({Reason}); {Count} alerts stay pending", ex.Message, due.Count);
            return 0;
        }
        lock (_gate)
        {
            foreach (var (key, (alert, _)) in due)
            {
                // Only if nothing newer arrived meanwhile.
                if (!_alerts.TryGetValue(key, out var current) || !ReferenceEquals(current.Alert, alert)) continue;
                if (alert.Status == GcAlertEvent.Resolved) _alerts.Remove(key);
                else _alerts[key] = (alert, now);
            }
            Delivered += due.Count;
        }
        return due.Count;
    }

    /// <summary>The labels an alert is pushed with: what Alertmanager identifies it by (<see cref="AlertmanagerFingerprint"/>).</summary>
    public static Dictionary<string, string> Labels(AlertingOptions options, string service, string instance, string kind) =>
        new(options.ExtraLabels)
        {
            ["alertname"] = "GoGcAnomaly",
            ["service"] = service,
            ["instance"] = instance,
            ["kind"] = kind,
            ["severity"] = options.Severity.GetValueOrDefault(kind, "warning"),
        };

    private PostableAlert ToPayload(GcAlertEvent a, DateTimeOffset now)
    {
        var labels = Labels(_options, a.Service, a.Instance, a.Kind);
        var annotations = new Dictionary<string, string>
        {
            ["summary"] = $"GC {a.Kind.Replace('_', ' ')} on {a.Service} ({a.Instance})",
            ["description"] = $"{a.Reason}. {a.Cycles} anomalous cycle(s) from #{a.FirstCycle} to #{a.LastCycle}; peak {a.PeakValue:0.###} against {a.Threshold:0.###}.",
            ["fingerprint"] = a.Fingerprint,
        };
        var ends = a.Status == GcAlertEvent.Resolved ? a.EndedAt ?? now : now + 4 * _options.ResendInterval;
        string? generator = _options.ExternalUrl is { Length: > 0 } ext
            ? $"{ext.TrimEnd('/')}/api/v1/alerts?service={Uri.EscapeDataString(a.Service)}"
            : null;
        return new PostableAlert(labels, annotations, a.StartedAt, ends, generator);
    }

    private sealed record PostableAlert(
        [property: JsonPropertyName("labels")] Dictionary<string, string> Labels,
        [property: JsonPropertyName("annotations")] Dictionary<string, string> Annotations,
        [property: JsonPropertyName("startsAt")] DateTimeOffset StartsAt,
        [property: JsonPropertyName("endsAt")] DateTimeOffset EndsAt,
        [property: JsonPropertyName("generatorURL"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? GeneratorUrl);

    public void Dispose()
    {
        _http.Dispose();
        _wake.Dispose();
    }
}
