using System.Text.Json;
using Elastic.Transport;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Sinks.Elasticsearch;

namespace Ingest.Pipeline.Tests.Sinks.Elasticsearch;

/// <summary>Runs only when INGEST_TEST_ELASTICSEARCH_URL names a real cluster; otherwise reported as skipped, with the reason.</summary>
public sealed class ElasticsearchFactAttribute : FactAttribute
{
    public const string Variable = "INGEST_TEST_ELASTICSEARCH_URL";

    public ElasticsearchFactAttribute()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(Variable)))
            Skip = $"set {Variable} (and optionally INGEST_TEST_ELASTICSEARCH_API_KEY or _USERNAME/_PASSWORD) to run against a real cluster; see deploy/README.md";
    }
}

/// <summary>
/// Against a real cluster: bootstrap, indexing with the deterministic ids (a second write is all 409s), and the
/// query API. Each run uses its own data stream namespace and deletes it afterwards.
/// </summary>
public sealed class ElasticsearchClusterTests
{
    private static ElasticsearchOptions Options() => new()
    {
        Urls = [Environment.GetEnvironmentVariable(ElasticsearchFactAttribute.Variable)!],
        ApiKey = Environment.GetEnvironmentVariable("INGEST_TEST_ELASTICSEARCH_API_KEY"),
        Username = Environment.GetEnvironmentVariable("INGEST_TEST_ELASTICSEARCH_USERNAME"),
        Password = Environment.GetEnvironmentVariable("INGEST_TEST_ELASTICSEARCH_PASSWORD"),
        CaFile = Environment.GetEnvironmentVariable("INGEST_TEST_ELASTICSEARCH_CA_FILE"),
        Namespace = "ingesttest" + Guid.NewGuid().ToString("N")[..8],
        NumberOfReplicas = 0,
    };

    [ElasticsearchFact]
    public async Task Bootstrap_index_and_query_round_trip()
    {
        var options = Options();
        var client = ElasticsearchEventSink.CreateClient(options);
        using var sink = new ElasticsearchEventSink(options, client);
        var queries = new ElasticsearchQueries(client, options);
        var events = EsTestEvents.From("01-nil-pointer-dereference.txt", "14-concurrent-map-writes.txt", "31-gctrace.txt");
        try
        {
            Assert.Empty(await sink.WriteBatchAsync(events, CancellationToken.None));
            Assert.Equal(events.Count, sink.Created);
            // Replaying the same events stores nothing new.
            Assert.Empty(await sink.WriteBatchAsync(events, CancellationToken.None));
            Assert.Equal(events.Count, sink.Duplicates);

            var refresh = await client.Transport.RequestAsync<StringResponse>(Elastic.Transport.HttpMethod.POST, $"/*-go.*-{options.Namespace}/_refresh", cancellationToken: CancellationToken.None);
            Assert.True(refresh.ApiCallDetails.HasSuccessfulStatusCode, refresh.Body);

            var crashes = events.Where(e => e.Event is CrashEvent).ToList();
            var groups = await queries.CrashGroupsAsync(DateTimeOffset.UnixEpoch, 100, CancellationToken.None);
            Assert.Equal(crashes.Select(c => ((CrashEvent)c.Event).Fingerprint).Distinct().Count(), groups.Count);
            Assert.Equal(crashes.Count, groups.Sum(g => g.Count));

            var crashDoc = await queries.ByIdAsync(crashes[0].Id, "crash", CancellationToken.None);
            Assert.NotNull(crashDoc);
            Assert.Equal(((CrashEvent)crashes[0].Event).RawText, JsonDocument.Parse(crashDoc).RootElement.GetProperty("event").GetProperty("raw_text").GetString());

            int gcCount = events.Count(e => e.Event is GcCycleEvent);
            var gc = await queries.RangeAsync("gc", DateTimeOffset.UnixEpoch, DateTimeOffset.UtcNow.AddYears(1), 10_000, "checkout", CancellationToken.None);
            Assert.Equal(gcCount, gc.Count);

            var marks = queries.Load("logs", 0);
            Assert.NotEmpty(marks);
        }
        finally
        {
            await client.Transport.RequestAsync<StringResponse>(Elastic.Transport.HttpMethod.DELETE, $"/_data_stream/*-go.*-{options.Namespace}", cancellationToken: CancellationToken.None);
        }
    }
}
