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

    /// <summary>Newest first; <paramref name="before"/> pages back from a <see cref="PageCursor"/> of the last page's last document.</summary>
    Task<IReadOnlyList<string>> RecentAsync(string type, int limit, DateTimeOffset? since, string? service, CancellationToken cancellationToken, PageCursor? before = null);

    /// <summary>Oldest first, for series.</summary>
    Task<IReadOnlyList<string>> RangeAsync(string type, DateTimeOffset from, DateTimeOffset to, int limit, string? service, CancellationToken cancellationToken);

    /// <summary>Latest state of each alert episode, newest first, optionally only firing or resolved ones.</summary>
    Task<IReadOnlyList<string>> AlertsAsync(string? status, string? service, int limit, CancellationToken cancellationToken);
}

/// <summary>Where a page ended: the last document's time and id (ids break ties within a millisecond). Text form "ms:id".</summary>
public readonly record struct PageCursor(long TimestampMs, string Id)
{
    public override string ToString() => $"{TimestampMs}:{Id}";

    public static bool TryParse(string? text, out PageCursor cursor)
    {
        cursor = default;
        int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (colon <= 0 || !long.TryParse(text.AsSpan(0, colon), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long ms)) return false;
        cursor = new PageCursor(ms, text![(colon + 1)..]);
        return cursor.Id.Length > 0;
    }

    /// <summary>The cursor after a stored document (its @timestamp and id).</summary>
    public static PageCursor After(string document)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(document);
        var root = doc.RootElement;
        return new PageCursor(root.GetProperty("@timestamp").GetDateTimeOffset().ToUnixTimeMilliseconds(), root.GetProperty("id").GetString()!);
    }
}
