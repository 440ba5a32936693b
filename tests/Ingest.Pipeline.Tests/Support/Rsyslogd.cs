using System.Collections.Concurrent;
using System.Diagnostics;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>Runs only where Debian's rsyslog and rsyslog-kafka are installed (.ci/run installs them); otherwise skipped, with the reason.</summary>
public sealed class RsyslogFactAttribute : FactAttribute
{
    public RsyslogFactAttribute()
    {
        if (Rsyslogd.Executable is null) Skip = "rsyslogd is not installed (apt-get install rsyslog rsyslog-kafka; .ci/run does it)";
        else if (Rsyslogd.OmkafkaModule is null) Skip = "rsyslog's omkafka module is not installed (apt-get install rsyslog-kafka; .ci/run does it)";
    }
}

/// <summary>
/// A real rsyslogd as this process's child: foreground (-n), its own config, pid file and work directory in the
/// test's folder, only the modules the config loads (no system sockets, no kernel log). Killed on dispose.
/// </summary>
public sealed class Rsyslogd : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private Rsyslogd(Process process) => _process = process;

    public static string? Executable { get; } =
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Append("/usr/sbin").Append("/sbin")
            .Select(d => Path.Combine(d, "rsyslogd")).FirstOrDefault(File.Exists);

    /// <summary>omkafka.so where Debian puts rsyslog's modules (multiarch directory, or the plain one).</summary>
    public static string? OmkafkaModule { get; } =
        new[] { "/usr/lib", "/usr/lib64" }.Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateDirectories(d).Prepend(d))
            .Select(d => Path.Combine(d, "rsyslog", "omkafka.so")).FirstOrDefault(File.Exists);

    /// <summary>What rsyslogd printed so far (its own errors go to stderr in the foreground), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Checks the configuration (-N1), then starts rsyslogd on it, with <paramref name="dir"/> holding its files.</summary>
    public static Rsyslogd Start(string dir, string config)
    {
        string configFile = Path.Combine(dir, "rsyslog.conf");
        File.WriteAllText(configFile, config);
        using (var check = Process.Start(Info(["-N1", "-f", configFile]))!)
        {
            string diagnostics = check.StandardOutput.ReadToEnd() + check.StandardError.ReadToEnd();
            if (!check.WaitForExit(TimeSpan.FromSeconds(30)) || check.ExitCode != 0) throw new InvalidOperationException("rsyslogd rejected its configuration:\n" + diagnostics);
        }
        var process = new Process { StartInfo = Info(["-n", "-f", configFile, "-i", Path.Combine(dir, "rsyslogd.pid")]) };
        var rsyslogd = new Rsyslogd(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) rsyslogd._output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) rsyslogd._output.Enqueue(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return rsyslogd;
    }

    /// <summary>Fails with rsyslogd's output when it is no longer running.</summary>
    public void AssertRunning()
    {
        if (_process.HasExited) throw new InvalidOperationException($"rsyslogd exited with {_process.ExitCode}:\n{Output}");
    }

    private static ProcessStartInfo Info(string[] args)
    {
        var info = new ProcessStartInfo(Executable!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        return info;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(TimeSpan.FromSeconds(30));
        }
        _process.Dispose();
    }
}
