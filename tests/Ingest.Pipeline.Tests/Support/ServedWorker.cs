using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Ingest.Commands;
using Ingest.Pipeline.Sources.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>`ingest serve` on a thread, with its own folder, loopback port and settings file; stopped and cleaned up after.</summary>
public sealed class ServedWorker : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private int _exit = -1;
    private bool _stopped;

    /// <param name="settings">The settings file's content, from the worker's folder and port.</param>
    /// <param name="args">Command-line settings after the file's (<c>--Section:Key=value</c>).</param>
    public ServedWorker(Func<string, int, object> settings, Func<int, string[]>? args = null)
    {
        Dir = Directory.CreateTempSubdirectory("ingest-serve-").FullName;
        Port = FreePort();
        ConfigPath = Path.Combine(Dir, "appsettings.json");
        File.WriteAllText(ConfigPath, JsonSerializer.Serialize(settings(Dir, Port)));
        bool started = false;
        _thread = new Thread(() => _exit = ServeCommand.Run(ConfigPath, args?.Invoke(Port) ?? [], _stop.Token, app =>
        {
            Bootstrap = app.Services.GetRequiredService<KafkaSourceOptions>().BootstrapServers;
            started = true;
        }));
        _thread.Start();
        Wait.Until(() => started || !_thread.IsAlive, TimeSpan.FromSeconds(60), "serve started");
        Assert.True(started, $"serve exited with {_exit} before starting");
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
    }

    public string Dir { get; }
    public int Port { get; }
    public string ConfigPath { get; }
    public string? Bootstrap { get; private set; }
    public HttpClient Http { get; }

    /// <summary>Cancels serve, waits for it, returns its exit code.</summary>
    public int Stop()
    {
        if (!_stopped)
        {
            _stop.Cancel();
            Assert.True(_thread.Join(TimeSpan.FromSeconds(60)), "serve stopped");
            _stopped = true;
        }
        return _exit;
    }

    public void Dispose()
    {
        Stop();
        Http.Dispose();
        _stop.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // best effort
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
