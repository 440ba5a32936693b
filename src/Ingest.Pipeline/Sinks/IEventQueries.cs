namespace Ingest.Pipeline.Sinks;

/// <summary>A crash group: every crash with one fingerprint.</summary>
public sealed record CrashGroup(string Fingerprint, string Category, string Message, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen,
    IReadOnlyList<string> Services, IReadOnlyList<string> Hosts, string LatestId);

/// <summary>
/// The questions the API and dashboards ask, answered by whichever store the worker writes to (the embedded
/// store or Elasticsearch), with the same document shape from both: the JSON of <see cref="EventDocument"/>.
/// </summary>
public interface IEventQueries
{
    Task<IReadOnlyList<CrashGroup>> CrashGroupsAsync(DateTimeOffset since, int limit, CancellationToken cancellationToken);

    /// <summary>One document by event id (the latest state of an alert episode), if it is of the given type.</summary>
    Task<string?> ByIdAsync(string id, string type, CancellationToken cancellationToken);

    /// <summary>Newest first.</summary>
    Task<IReadOnlyList<string>> RecentAsync(string type, int limit, DateTimeOffset? since, string? service, CancellationToken cancellationToken);

    /// <summary>Oldest first, for series.</summary>
    Task<IReadOnlyList<string>> RangeAsync(string type, DateTimeOffset from, DateTimeOffset to, int limit, string? service, CancellationToken cancellationToken);

    /// <summary>Latest state of each alert episode, newest first, optionally only firing or resolved ones.</summary>
    Task<IReadOnlyList<string>> AlertsAsync(string? status, string? service, int limit, CancellationToken cancellationToken);
}
