using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// An OTLP/HTTP endpoint on 127.0.0.1 (ephemeral port) that keeps every export request's body, as a Collector's
/// otlphttp receiver would get it, and answers 200 with an empty (fully successful) export response.
/// </summary>
public sealed class OtlpHttpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpHttpReceiver(WebApplication app) => _app = app;

    public sealed record Request(string Path, string? ContentType, byte[] Body);

    public ConcurrentQueue<Request> Requests { get; } = new();

    public Uri BaseAddress { get; private set; } = null!;

    public static async Task<OtlpHttpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var receiver = new OtlpHttpReceiver(app);
        app.MapPost("/v1/{signal}", async (HttpContext ctx) =>
        {
            using var body = new MemoryStream();
            await ctx.Request.Body.CopyToAsync(body, ctx.RequestAborted);
            receiver.Requests.Enqueue(new Request(ctx.Request.Path, ctx.Request.ContentType, body.ToArray()));
            ctx.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        receiver.BaseAddress = new Uri(address);
        return receiver;
    }

    /// <summary>The bodies received on one path (/v1/traces, /v1/logs), in arrival order.</summary>
    public List<byte[]> Bodies(string path) => Requests.Where(r => r.Path == path).Select(r => r.Body).ToList();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
