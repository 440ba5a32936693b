using System.Text;
using Elastic.Transport;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// Elastic.Transport's InMemoryRequestInvoker, answering each request from a script and recording what was
/// sent (method, path, body): request shapes and response handling without a network. Every response carries
/// x-elastic-product: Elasticsearch, as the client requires.
/// </summary>
public sealed class ScriptedInvoker : InMemoryRequestInvoker, IRequestInvoker
{
    private static readonly Dictionary<string, IEnumerable<string>> s_headers = new() { ["x-elastic-product"] = ["Elasticsearch"] };
    private readonly Func<Call, (int Status, string Body)> _respond;

    public ScriptedInvoker(Func<Call, (int Status, string Body)> respond)
        : base([], 200, null, "application/json", s_headers) => _respond = respond;

    public sealed record Call(string Method, string Path, string Body);

    public List<Call> Calls { get; } = [];

    private Call Capture(Endpoint endpoint, BoundConfiguration config, PostData? data)
    {
        using var ms = new MemoryStream();
        data?.Write(ms, config.ConnectionSettings, disableDirectStreaming: true);
        var r = new Call(endpoint.Method.ToString().ToUpperInvariant(), endpoint.PathAndQuery, Encoding.UTF8.GetString(ms.ToArray()));
        lock (Calls) Calls.Add(r);
        return r;
    }

    public new TResponse Request<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData)
        where TResponse : TransportResponse, new()
    {
        var (status, body) = _respond(Capture(endpoint, boundConfiguration, postData));
        return BuildResponse<TResponse>(endpoint, boundConfiguration, postData, Encoding.UTF8.GetBytes(body), status);
    }

    public new Task<TResponse> RequestAsync<TResponse>(Endpoint endpoint, BoundConfiguration boundConfiguration, PostData? postData, CancellationToken cancellationToken)
        where TResponse : TransportResponse, new()
    {
        var (status, body) = _respond(Capture(endpoint, boundConfiguration, postData));
        return BuildResponseAsync<TResponse>(endpoint, boundConfiguration, postData, cancellationToken, Encoding.UTF8.GetBytes(body), status);
    }
}
