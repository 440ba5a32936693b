using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Ingest.GoRuntime.Model;
using Ingest.Pipeline.Analysis;
using Ingest.Pipeline.Alerting;
using Microsoft.Extensions.Time.Testing;

namespace Ingest.Pipeline.Tests.Alerting;

/// <summary>Pushes to a fake Alertmanager listening on loopback (a real HTTP server, a real client).</summary>
public sealed class AlertmanagerPublisherTests
{
    private sealed class FakeAlertmanager : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public FakeAlertmanager()
        {
            int port = FreePort();
            Url = $"http://127.0.0.1:{port}/";
            _listener.Prefixes.Add(Url);
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public string Url { get; }
        public HttpStatusCode Answer { get; set; } = HttpStatusCode.OK;
        public List<(string Path, JsonElement Body)> Received { get; } = [];

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                string body = await reader.ReadToEndAsync();
                lock (Received) Received.Add((ctx.Request.Url!.AbsolutePath, JsonDocument.Parse(body).RootElement.Clone()));
                ctx.Response.StatusCode = (int)Answer;
                ctx.Response.Close();
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static FakeTimeProvider NewClock() => new(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero));

    private static GcAlertEvent Alert(string status, DateTimeOffset started, DateTimeOffset? ended = null) => new()
    {
        Stream = "pod-a", Line = 0, Service = "checkout", Instance = "checkout-7d9f", Kind = "gc_thrash", Fingerprint = "0123456789abcdef",
        Status = status, StartedAt = started, LastSeenAt = started, EndedAt = ended, FirstCycle = 122, LastCycle = 130, Cycles = 9,
        Value = 0.4, Threshold = 0.2, PeakValue = 0.41, Reason = "GC every 50 ms over the last 5 cycles against 500 ms before",
    };

    [Fact]
    public async Task Firing_alerts_are_pushed_resent_and_resolved_with_the_labels_alertmanager_users_expect()
    {
        using var am = new FakeAlertmanager();
        var clock = NewClock();
        using var publisher = new AlertmanagerPublisher(new AlertingOptions
        {
            AlertmanagerUrl = am.Url, ResendInterval = TimeSpan.FromMinutes(1), ExtraLabels = { ["cluster"] = "prod-eu" }, ExternalUrl = "https://ingest.example",
        }, time: clock);
        var started = clock.GetUtcNow();
        publisher.Notify(Alert(GcAlertEvent.Firing, started));
        Assert.Equal(1, await publisher.PushDueAsync(CancellationToken.None));
        Assert.Equal(0, await publisher.PushDueAsync(CancellationToken.None)); // nothing new, resend not due

        var (path, body) = Assert.Single(am.Received);
        Assert.Equal("/api/v2/alerts", path);
        var alert = Assert.Single(body.EnumerateArray());
        var labels = alert.GetProperty("labels");
        Assert.Equal("GoGcAnomaly", labels.GetProperty("alertname").GetString());
        Assert.Equal("checkout", labels.GetProperty("service").GetString());
        Assert.Equal("checkout-7d9f", labels.GetProperty("instance").GetString());
        Assert.Equal("gc_thrash", labels.GetProperty("kind").GetString());
        Assert.Equal("critical", labels.GetProperty("severity").GetString());
        Assert.Equal("prod-eu", labels.GetProperty("cluster").GetString());
        Assert.Contains("GC every 50 ms", alert.GetProperty("annotations").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(started, alert.GetProperty("startsAt").GetDateTimeOffset());
        // Firing: endsAt four resend intervals ahead, so the alert expires if this worker dies.
        Assert.Equal(started + TimeSpan.FromMinutes(4), alert.GetProperty("endsAt").GetDateTimeOffset());
        Assert.StartsWith("https://ingest.example/api/v1/alerts", alert.GetProperty("generatorURL").GetString(), StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(1, await publisher.PushDueAsync(CancellationToken.None)); // re-sent while firing

        var ended = clock.GetUtcNow() + TimeSpan.FromSeconds(5);
        publisher.Notify(Alert(GcAlertEvent.Resolved, started, ended));
        Assert.Equal(1, await publisher.PushDueAsync(CancellationToken.None));
        Assert.Equal(ended, am.Received[^1].Body[0].GetProperty("endsAt").GetDateTimeOffset());
        clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await publisher.PushDueAsync(CancellationToken.None)); // resolved ones are sent once
        Assert.Equal(3, am.Received.Count);
    }

    [Fact]
    public async Task A_failed_push_stays_pending_and_goes_out_when_alertmanager_is_back()
    {
        using var am = new FakeAlertmanager { Answer = HttpStatusCode.ServiceUnavailable };
        using var publisher = new AlertmanagerPublisher(new AlertingOptions { AlertmanagerUrl = am.Url }, time: NewClock());
        publisher.Notify(Alert(GcAlertEvent.Firing, new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero)));
        Assert.Equal(0, await publisher.PushDueAsync(CancellationToken.None));
        am.Answer = HttpStatusCode.OK;
        Assert.Equal(1, await publisher.PushDueAsync(CancellationToken.None));
        Assert.Equal(2, am.Received.Count);
    }

    [Fact]
    public async Task An_unreachable_alertmanager_is_logged_not_fatal()
    {
        string url = $"http://127.0.0.1:{FreePort()}/";
        using var publisher = new AlertmanagerPublisher(new AlertingOptions { AlertmanagerUrl = url }, time: NewClock());
        publisher.Notify(Alert(GcAlertEvent.Firing, new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero)));
        Assert.Equal(0, await publisher.PushDueAsync(CancellationToken.None));
        Assert.Equal(0, publisher.Delivered);
    }
}
