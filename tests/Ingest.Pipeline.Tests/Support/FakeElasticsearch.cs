using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// A loopback HTTP server speaking enough of Elasticsearch's API for the sink (templates, ILM, _bulk with
/// create semantics: 201 new, 409 existing) with scripted faults: whole-request status codes, per-item
/// statuses, slow answers (after the write is applied, as a real cluster does when the client gives up),
/// and being down (connection refused) until brought back on the same port.
/// </summary>
public sealed class FakeElasticsearch : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<string, JsonElement> _docs = new(StringComparer.Ordinal);
    private HttpListener? _listener;
    private Task? _loop;
    private int _bulkRequests;

    public FakeElasticsearch()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Up();
    }

    public int Port { get; }
    public string Url => $"http://127.0.0.1:{Port}";

    /// <summary>Decides the fate of bulk request n (1-based): null = normal.</summary>
    public Func<int, Fault?> BulkFaults { get; set; } = _ => null;

    public sealed record Fault(int? RequestStatus = null, int? ItemStatus = null, TimeSpan? Delay = null);

    /// <summary>Documents refused for good, whatever the request (a mapping conflict): index → status.</summary>
    public Func<string, int?> RefuseIndex { get; set; } = _ => null;

    public List<string> TemplatePaths { get; } = [];
    public Exception? LastError { get; private set; }
    public int CreateAttempts { get; private set; }
    public int Conflicts { get; private set; }

    public IReadOnlyDictionary<string, JsonElement> Documents
    {
        get
        {
            lock (_gate) return new Dictionary<string, JsonElement>(_docs);
        }
    }

    public bool IsUp => _listener is { IsListening: true };

    public void Up()
    {
        lock (_gate)
        {
            if (IsUp) return;
            _listener = new HttpListener();
            _listener.Prefixes.Add(Url + "/");
            _listener.Start();
            var l = _listener;
            _loop = Task.Run(() => LoopAsync(l));
        }
    }

    /// <summary>Stops listening: connections are refused until <see cref="Up"/>.</summary>
    public void Down()
    {
        HttpListener? l;
        lock (_gate)
        {
            l = _listener;
            _listener = null;
        }
        l?.Stop();
        l?.Close();
    }

    private async Task LoopAsync(HttpListener listener)
    {
        while (listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        try
        {
            string body;
            // The client gzips request bodies (as a real cluster accepts them).
            Stream input = string.Equals(ctx.Request.Headers["Content-Encoding"], "gzip", StringComparison.OrdinalIgnoreCase)
                ? new System.IO.Compression.GZipStream(ctx.Request.InputStream, System.IO.Compression.CompressionMode.Decompress)
                : ctx.Request.InputStream;
            using (var reader = new StreamReader(input, Encoding.UTF8)) body = await reader.ReadToEndAsync();
            string path = ctx.Request.Url!.AbsolutePath;
            (int status, string response, TimeSpan delay) = ctx.Request.HttpMethod switch
            {
                "PUT" when path.StartsWith("/_ilm/", StringComparison.Ordinal) || path.StartsWith("/_component_template/", StringComparison.Ordinal) || path.StartsWith("/_index_template/", StringComparison.Ordinal)
                    => Template(path),
                "POST" when path == "/_bulk" => Bulk(body),
                // Searches are answered empty: the fake checks writes, not queries.
                "POST" when path.EndsWith("/_search", StringComparison.Ordinal) => (200, """{"hits":{"total":{"value":0},"hits":[]}}""", TimeSpan.Zero),
                "GET" when path == "/" => (200, """{"version":{"number":"9.1.0"},"tagline":"You Know, for Search"}""", TimeSpan.Zero),
                _ => (404, """{"error":"not emulated"}""", TimeSpan.Zero),
            };
            if (delay > TimeSpan.Zero) await Task.Delay(delay);
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            ctx.Response.Headers["x-elastic-product"] = "Elasticsearch";
            var bytes = Encoding.UTF8.GetBytes(response);
            await ctx.Response.OutputStream.WriteAsync(bytes);
            ctx.Response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or IOException)
        {
            // the client went away (timeout) or the server is going down
        }
        catch (Exception ex)
        {
            // A bug in the emulation must surface as an error answer, not a hung client.
            LastError = ex;
            try
            {
                ctx.Response.StatusCode = 599;
                ctx.Response.Close();
            }
            catch (Exception closing) when (closing is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                // already gone
            }
        }
    }

    private (int, string, TimeSpan) Template(string path)
    {
        lock (_gate) TemplatePaths.Add(path);
        return (200, """{"acknowledged":true}""", TimeSpan.Zero);
    }

    private (int, string, TimeSpan) Bulk(string body)
    {
        int n = Interlocked.Increment(ref _bulkRequests);
        var fault = BulkFaults(n);
        if (fault?.RequestStatus is { } whole) return (whole, $$"""{"error":{"type":"scripted","reason":"fault"},"status":{{whole}}}""", fault.Delay ?? TimeSpan.Zero);
        var items = new JsonArray();
        string[] lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lock (_gate)
        {
            for (int i = 0; i + 1 < lines.Length; i += 2)
            {
                var action = JsonNode.Parse(lines[i])!["create"]!;
                string index = action["_index"]!.GetValue<string>(), id = action["_id"]!.GetValue<string>();
                int status;
                if (fault?.ItemStatus is { } forced)
                {
                    status = forced;
                }
                else if (RefuseIndex(index) is { } refused)
                {
                    status = refused;
                }
                else
                {
                    CreateAttempts++;
                    string key = index + "/" + id;
                    if (_docs.ContainsKey(key))
                    {
                        status = 409;
                        Conflicts++;
                    }
                    else
                    {
                        _docs[key] = JsonDocument.Parse(lines[i + 1]).RootElement.Clone();
                        status = 201;
                    }
                }
                var result = new JsonObject { ["_index"] = index, ["_id"] = id, ["status"] = status };
                if (status >= 300) result["error"] = new JsonObject { ["type"] = status == 409 ? "version_conflict_engine_exception" : "scripted", ["reason"] = $"status {status}" };
                items.Add(new JsonObject { ["create"] = result });
            }
        }
        return (200, new JsonObject { ["took"] = 1, ["errors"] = false, ["items"] = items }.ToJsonString(), fault?.Delay ?? TimeSpan.Zero);
    }

    public void Dispose() => Down();
}
