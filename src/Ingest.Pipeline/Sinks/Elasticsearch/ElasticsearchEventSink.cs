using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Elastic.Clients.Elasticsearch;
using Elastic.Transport;
using Ingest.Pipeline.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace Ingest.Pipeline.Sinks.Elasticsearch;

/// <summary>
/// Indexes events into data streams with bulk `create` and the deterministic ids. Per item: 201 stored;
/// 409 already stored (a replay) counts as stored; 429 and 5xx are re-sent with backoff; any other refusal
/// (a mapping conflict, a document too large) is returned as a rejection for the dead-letter topic. A
/// circuit breaker around the cluster makes writes fail fast while it is down, so the sink host's queue
/// fills, the source pauses consumption, and nothing is buffered without bound; a trial request after the
/// break closes it again when the cluster is back.
/// </summary>
public sealed class ElasticsearchEventSink : IEventSink, IDisposable
{
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly ElasticsearchOptions _options;
    private readonly ElasticsearchClient _client;
    private readonly EcsDocumentWriter _writer;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _breaker;
    private readonly ResiliencePipeline _itemRetry;
    private readonly SemaphoreSlim _bootstrapGate = new(1, 1);
    private volatile bool _bootstrapped;

    public ElasticsearchEventSink(ElasticsearchOptions options, ElasticsearchClient client, EcsDocumentWriter? writer = null, ILogger? logger = null, TimeProvider? time = null)
    {
        _options = options;
        _client = client;
        _writer = writer ?? new EcsDocumentWriter();
        _logger = logger ?? NullLogger.Instance;
        _bootstrapped = !options.Bootstrap;
        _breaker = new ResiliencePipelineBuilder { TimeProvider = time ?? TimeProvider.System }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.BreakerFailureRatio,
                MinimumThroughput = options.BreakerMinimumThroughput,
                SamplingDuration = TimeSpan.FromSeconds(30),
                BreakDuration = options.BreakerBreakDuration,
                StateProvider = _circuit,
                ShouldHandle = new PredicateBuilder().Handle<ClusterUnavailableException>(),
                OnOpened = args =>
                {
                    _logger.LogError("elasticsearch unavailable: circuit open for {Duration}; consumption will pause as the queue fills", args.BreakDuration);
                    return ValueTask.CompletedTask;
                },
                OnClosed = _ =>
                {
                    _logger.LogInformation("elasticsearch reachable again: circuit closed");
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
        _itemRetry = new ResiliencePipelineBuilder { TimeProvider = time ?? TimeProvider.System }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<RetryableItemsException>(),
                MaxRetryAttempts = Math.Max(1, options.ItemRetries),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = TimeSpan.FromSeconds(10),
            })
            .Build();
    }

    /// <summary>The client as the worker builds it from configuration (the tests pass their own invoker).</summary>
    public static ElasticsearchClient CreateClient(ElasticsearchOptions o, IRequestInvoker? invoker = null)
    {
        var uris = o.Urls.Select(u => new Uri(u)).ToList();
        NodePool pool = uris.Count == 1 ? new SingleNodePool(uris[0]) : new StaticNodePool(uris, randomize: true);
        var settings = invoker is null ? new ElasticsearchClientSettings(pool) : new ElasticsearchClientSettings(pool, invoker);
        settings.RequestTimeout(o.RequestTimeout).MaximumRetries(0).DisablePing();
        if (o.ApiKey is { Length: > 0 } key) settings.Authentication(new ApiKey(key));
        else if (o.Username is { Length: > 0 } user) settings.Authentication(new BasicAuthentication(user, o.Password ?? string.Empty));
        if (o.CaFile is { Length: > 0 } ca)
        {
            var authority = X509CertificateLoader.LoadCertificateFromFile(ca);
            settings.ServerCertificateValidationCallback(CertificateValidations.AuthorityIsRoot(authority));
        }
        return new ElasticsearchClient(settings);
    }

    public long Created { get; private set; }
    public long Duplicates { get; private set; }
    public long Retried { get; private set; }

    /// <summary>Closed: writing. Open: the cluster is down, writes fail fast. HalfOpen: a trial request is due.</summary>
    public CircuitState Circuit => _circuit.CircuitState;

    /// <summary>Installs the ILM policy, component templates and index templates (PUT: idempotent).</summary>
    public async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        await PutAsync($"/_ilm/policy/{ElasticsearchTemplates.PolicyName}", ElasticsearchTemplates.Policy(_options), cancellationToken).ConfigureAwait(false);
        await PutAsync($"/_component_template/{ElasticsearchTemplates.SettingsComponent}", ElasticsearchTemplates.Settings(_options), cancellationToken).ConfigureAwait(false);
        await PutAsync($"/_component_template/{ElasticsearchTemplates.MappingsComponent}", ElasticsearchTemplates.Mappings(), cancellationToken).ConfigureAwait(false);
        foreach (var sharing in DataStreams.ByTemplate)
            await PutAsync($"/_index_template/{sharing.Key}", ElasticsearchTemplates.IndexTemplate(sharing), cancellationToken).ConfigureAwait(false);
        _bootstrapped = true;
        _logger.LogInformation("elasticsearch bootstrap done: policy {Policy}, {Count} data stream templates", ElasticsearchTemplates.PolicyName, DataStreams.ByTemplate.Count());
    }

    private async Task PutAsync(string path, JsonObject body, CancellationToken cancellationToken)
    {
        var response = await _client.Transport.RequestAsync<StringResponse>(Elastic.Transport.HttpMethod.PUT, path,
            PostData.String(body.ToJsonString()), cancellationToken).ConfigureAwait(false);
        var call = response.ApiCallDetails;
        if (!call.HasSuccessfulStatusCode)
        {
            string reason = call.HttpStatusCode is { } sc ? $"HTTP {sc}: {Truncate(response.Body)}" : call.OriginalException?.Message ?? "no response";
            throw new ClusterUnavailableException($"bootstrap {path} failed: {reason}", call.OriginalException);
        }
    }

    public async Task<IReadOnlyList<SinkRejection>> WriteBatchAsync(IReadOnlyList<IndexedEvent> batch, CancellationToken cancellationToken)
    {
        if (!_bootstrapped)
        {
            await _bootstrapGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_bootstrapped) await _breaker.ExecuteAsync(async ct => await BootstrapAsync(ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _bootstrapGate.Release();
            }
        }
        var pending = batch.Select(e => (Event: e, Doc: _writer.Write(e, _options.Namespace))).ToList();
        var rejected = new List<SinkRejection>();
        // Items still answered 429/5xx after the retries escape as an exception: the host retries the
        // whole batch later, and what was stored meanwhile answers 409.
        await _itemRetry.ExecuteAsync(async ct =>
        {
            var retry = new List<(IndexedEvent, EcsDocumentWriter.Written)>();
            foreach (var chunk in Chunks(pending))
            {
                var outcomes = await _breaker.ExecuteAsync(async c => await SendAsync(chunk, c).ConfigureAwait(false), ct).ConfigureAwait(false);
                for (int i = 0; i < chunk.Count; i++)
                {
                    var (status, reason) = outcomes[i];
                    switch (Classify(status))
                    {
                        case ItemOutcome.Stored:
                            Created++;
                            break;
                        case ItemOutcome.Duplicate:
                            Duplicates++;
                            break;
                        case ItemOutcome.Retry:
                            retry.Add(chunk[i]);
                            break;
                        default:
                            rejected.Add(new SinkRejection(chunk[i].Item1, $"elasticsearch refused the document ({status}): {reason}", chunk[i].Item2.Source));
                            break;
                    }
                }
            }
            pending = retry;
            if (retry.Count > 0)
            {
                Retried += retry.Count;
                throw new RetryableItemsException(retry.Count);
            }
        }, cancellationToken).ConfigureAwait(false);
        return rejected;
    }

    public enum ItemOutcome { Stored, Duplicate, Retry, Reject }

    public static ItemOutcome Classify(int status) => status switch
    {
        200 or 201 => ItemOutcome.Stored,
        409 => ItemOutcome.Duplicate,
        429 or >= 500 => ItemOutcome.Retry,
        _ => ItemOutcome.Reject,
    };

    private IEnumerable<List<(IndexedEvent, EcsDocumentWriter.Written)>> Chunks(List<(IndexedEvent Event, EcsDocumentWriter.Written Doc)> items)
    {
        var chunk = new List<(IndexedEvent, EcsDocumentWriter.Written)>();
        long bytes = 0;
        foreach (var item in items)
        {
            long size = item.Doc.Source.Length + 200;
            if (chunk.Count > 0 && bytes + size > _options.BulkMaxBytes)
            {
                yield return chunk;
                chunk = [];
                bytes = 0;
            }
            chunk.Add(item);
            bytes += size;
        }
        if (chunk.Count > 0) yield return chunk;
    }

    /// <summary>One bulk request; per item (status, reason). Throws when the cluster gave no per-item answer.</summary>
    private async Task<List<(int Status, string? Reason)>> SendAsync(List<(IndexedEvent Event, EcsDocumentWriter.Written Doc)> chunk, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        foreach (var (_, doc) in chunk)
        {
            using (var w = new Utf8JsonWriter(body))
            {
                w.WriteStartObject();
                w.WriteStartObject("create");
                w.WriteString("_index", doc.DataStream);
                w.WriteString("_id", doc.DocumentId);
                w.WriteEndObject();
                w.WriteEndObject();
            }
            body.WriteByte((byte)'\n');
            body.Write(doc.Source);
            body.WriteByte((byte)'\n');
        }
        var response = await _client.Transport.RequestAsync<BytesResponse>(Elastic.Transport.HttpMethod.POST, "/_bulk",
            PostData.ReadOnlyMemory(body.GetBuffer().AsMemory(0, (int)body.Length)), cancellationToken).ConfigureAwait(false);
        var call = response.ApiCallDetails;
        int? status = call.HttpStatusCode;
        if (status is null || status == 429 || status >= 500)
        {
            string reason = status is { } s ? $"HTTP {s}" : call.OriginalException?.Message ?? "no response";
            throw new ClusterUnavailableException($"bulk request failed: {reason}", call.OriginalException);
        }
        if (status != 200)
        {
            // The whole request was refused (a 400 for a malformed body, a 401/403): no item is stored.
            throw new InvalidOperationException($"bulk request refused: HTTP {status}: {Truncate(Encoding.UTF8.GetString(response.Body ?? []))}");
        }
        return ParseItems(response.Body ?? [], chunk.Count);
    }

    /// <summary>The items of a bulk response, in request order (Elasticsearch answers in order).</summary>
    public static List<(int Status, string? Reason)> ParseItems(byte[] body, int expected)
    {
        using var doc = JsonDocument.Parse(body);
        var result = new List<(int, string?)>(expected);
        foreach (var item in doc.RootElement.GetProperty("items").EnumerateArray())
        {
            var op = item.EnumerateObject().First().Value;
            int status = op.GetProperty("status").GetInt32();
            string? reason = null;
            if (op.TryGetProperty("error", out var error))
            {
                reason = error.ValueKind == JsonValueKind.Object
                    ? $"{(error.TryGetProperty("type", out var t) ? t.GetString() : "error")}: {(error.TryGetProperty("reason", out var r) ? r.GetString() : string.Empty)}"
                    : error.ToString();
            }
            result.Add((status, reason));
        }
        if (result.Count != expected) throw new InvalidOperationException($"bulk response has {result.Count} items for {expected} requests");
        return result;
    }

    private static string Truncate(string? s) => s is null ? string.Empty : s.Length > 500 ? s[..500] : s;

    public void Dispose() => _bootstrapGate.Dispose();

    /// <summary>The cluster did not answer (connection refused, timeout, 429/5xx for the whole request).</summary>
    public sealed class ClusterUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

    private sealed class RetryableItemsException(int count) : Exception($"{count} items answered 429/5xx");
}
