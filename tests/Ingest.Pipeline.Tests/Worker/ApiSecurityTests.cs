using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ingest.Pipeline.Tests.Support;

namespace Ingest.Pipeline.Tests.Worker;

/// <summary>The API tried as an attacker would: paths in other cases and encodings, every source of a bind address.</summary>
public sealed class ApiSecurityTests
{
    private const string Token = "s3cret-token-0123456789";

    // Each reaches an /api/v1 endpoint through routing (case-insensitive, percent-decoded).
    private static readonly string[] s_variants =
    [
        "/api/v1/crashes", "/API/v1/crashes", "/Api/V1/Crashes", "/aPi/v1/crashes", "/%61pi/v1/crashes", "/%41PI/v1/crashes",
        "/api/v1/%63rashes", "/api/v1/crashes?limit=5", "/API/V1/EVENTS/crash", "/api/v1/incidents", "/API/v1/gc/cycles", "/api/v1/crash-groups",
    ];

    [Fact]
    public void The_token_check_follows_routing_whatever_the_case_or_encoding_of_the_path()
    {
        // Bound beyond loopback through Kestrel's own configuration, with a token.
        using var serve = new ServedWorker(
            (dir, port) => new { Serve = new { DataDirectory = Path.Combine(dir, "data"), ApiToken = Token } },
            port => [$"--Kestrel:Endpoints:e1:Url=http://0.0.0.0:{port}"]);
        foreach (string path in s_variants)
        {
            Assert.Equal((path, 401), (path, RawGet(serve.Port, path, token: null).Status));
            Assert.Equal((path, 401), (path, RawGet(serve.Port, path, token: "wrong-token-0123456789").Status));
            Assert.Equal((path, 401), (path, RawGet(serve.Port, path, token: Token + "x").Status));
            Assert.Equal((path, 200), (path, RawGet(serve.Port, path, token: Token).Status));
        }
        // Probes, metrics and the dashboard carry no log content and stay open.
        Assert.Equal(200, RawGet(serve.Port, "/healthz", null).Status);
        Assert.Equal(200, RawGet(serve.Port, "/metrics", null).Status);
        Assert.Equal(200, RawGet(serve.Port, "/", null).Status);
        Assert.Equal(0, serve.Stop());
    }

    /// <summary>Each source of a bind address; refused: Kestrel binds it (Kestrel:Endpoints win over every URL setting).</summary>
    public static TheoryData<string, string[], string[], bool> BindSources()
    {
        const string any = "http://0.0.0.0:{port}";
        return new()
        {
            { "Kestrel endpoint on the command line", [$"--Kestrel:Endpoints:e1:Url={any}"], [], true },
            { "Kestrel endpoint in the environment", [], [$"INGEST_Kestrel__Endpoints__e1__Url={any}"], true },
            { "Kestrel endpoint in the settings file", ["settings:Kestrel"], [], true },
            { "IPv6 any", ["--Kestrel:Endpoints:e1:Url=http://[::]:{port}"], [], true },
            { "a host name", ["--Kestrel:Endpoints:e1:Url=http://ingest.example:{port}"], [], true },
            { "Serve:Urls in the environment", [], [$"INGEST_Serve__Urls={any}"], true },
            { "Serve:Urls on the command line", [$"--Serve:Urls={any}"], [], true },
            // Serve:Urls (loopback here) is applied after these, so they bind nothing.
            { "--urls", [$"--urls={any}"], [], false },
            { "ASPNETCORE_URLS", [], [$"ASPNETCORE_URLS={any}"], false },
            { "ASPNETCORE_HTTP_PORTS", [], ["ASPNETCORE_HTTP_PORTS={port}"], false },
        };
    }

    /// <summary>
    /// The real executable with each source of a bind address and no token: it refuses to start with a message
    /// that says what to set, or serves on loopback only (the address it prints is what Kestrel bound).
    /// </summary>
    [Theory]
    [MemberData(nameof(BindSources))]
    public void No_source_of_a_bind_address_serves_beyond_loopback_without_a_token(string source, string[] args, string[] env, bool refused)
    {
        string dir = Directory.CreateTempSubdirectory("ingest-bind-").FullName;
        try
        {
            int port = ServedWorker.FreePort();
            int loopbackPort = ServedWorker.FreePort();
            string Fill(string s) => s.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
            object settings = args.Contains("settings:Kestrel")
                ? new { Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{loopbackPort}" }, Kestrel = new { Endpoints = new { e1 = new { Url = Fill("http://0.0.0.0:{port}") } } } }
                : new { Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{loopbackPort}" } };
            string config = Path.Combine(dir, "appsettings.json");
            File.WriteAllText(config, JsonSerializer.Serialize(settings));
            var environment = env.Select(Fill).Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => (string?)p[1]);
            using var ingest = new IngestProcess(["serve", "--config", config, .. args.Where(a => !a.StartsWith("settings:", StringComparison.Ordinal)).Select(Fill)], environment, dir);
            string line = ingest.WaitForLine(l => l.StartsWith("ingest: consuming", StringComparison.Ordinal) || l.StartsWith("ingest serve:", StringComparison.Ordinal), TimeSpan.FromSeconds(60), $"{source}: start or refusal");
            Assert.Equal((source, refused), (source, line.StartsWith("ingest serve:", StringComparison.Ordinal)));
            if (refused)
            {
                Assert.Equal(2, ingest.WaitForExit(TimeSpan.FromSeconds(60)));
                Assert.Contains("set Serve:ApiToken", ingest.Output, StringComparison.Ordinal);
                return;
            }
            // Started: every address it bound is loopback, and the refused one is not among them.
            string api = line[(line.LastIndexOf("; API ", StringComparison.Ordinal) + 6)..];
            foreach (string address in api.Split(", "))
            {
                Assert.True(Ingest.Api.BindGuard.IsLoopback(address), $"{source}: serving on {address} without a token\n{ingest.Output}");
            }
            Assert.Equal(200, RawGet(loopbackPort, "/healthz", null).Status);
            ingest.Terminate();
            Assert.Equal(0, ingest.WaitForExit(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Limits_outside_the_range_are_refused_and_every_response_is_hardened()
    {
        using var serve = new ServedWorker((dir, port) => new { Serve = new { DataDirectory = Path.Combine(dir, "data"), Urls = $"http://127.0.0.1:{port}" } });
        foreach (string path in new[] { "/api/v1/crashes?limit=-1", "/api/v1/crashes?limit=0", "/api/v1/crashes?limit=1001", "/api/v1/crash-groups?limit=0", "/api/v1/events/gc?limit=5000", "/api/v1/incidents?limit=-5", "/api/v1/alerts?limit=0" })
        {
            var (status, _, body) = RawGet(serve.Port, path, null);
            Assert.Equal((path, 400), (path, status));
            Assert.Contains("limit must be between 1 and 1000", body, StringComparison.Ordinal);
        }
        Assert.Contains("between 1 and 10000", RawGet(serve.Port, "/api/v1/gc/cycles?limit=10001", null).Body, StringComparison.Ordinal);
        Assert.Equal(200, RawGet(serve.Port, "/api/v1/crashes?limit=1000", null).Status);
        Assert.Equal(200, RawGet(serve.Port, "/api/v1/crashes?limit=1", null).Status);
        foreach (string path in new[] { "/healthz", "/metrics", "/", "/app.js", "/api/v1/crashes", "/api/v1/crashes?limit=0", "/api/v1/crashes/nope", "/no/such/path" })
        {
            var (_, headers, _) = RawGet(serve.Port, path, null);
            Assert.True(headers.TryGetValue("x-content-type-options", out string? nosniff) && nosniff == "nosniff", $"{path}: no nosniff");
            Assert.False(headers.ContainsKey("server"), $"{path}: Server header sent");
        }
    }

    /// <summary>One HTTP/1.1 request with the path exactly as given (HttpClient would normalise it).</summary>
    private static (int Status, Dictionary<string, string> Headers, string Body) RawGet(int port, string path, string? token)
    {
        using var client = new TcpClient();
        client.Connect(IPAddress.Loopback, port);
        using var stream = client.GetStream();
        var request = new StringBuilder($"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
        if (token is not null) request.Append($"Authorization: Bearer {token}\r\n");
        request.Append("\r\n");
        stream.Write(Encoding.ASCII.GetBytes(request.ToString()));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string response = reader.ReadToEnd();
        int headerEnd = response.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var lines = response[..headerEnd].Split("\r\n");
        int status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).ToDictionary(p => p[0].Trim().ToLowerInvariant(), p => p[1].Trim());
        return (status, headers, response[(headerEnd + 4)..]);
    }
}
