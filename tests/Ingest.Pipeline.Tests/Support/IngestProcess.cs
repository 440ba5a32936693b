using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Ingest.Pipeline.Tests.Support;

/// <summary>
/// The real <c>ingest</c> executable as a child process (the apphost the build copies beside the tests), with
/// its standard error collected line by line. Killed with SIGKILL when disposed, if still running.
/// </summary>
public sealed class IngestProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];

    public IngestProcess(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "ingest"))
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        // The test host's own ASP.NET and Ingest settings must not leak into the child.
        foreach (string key in psi.Environment.Keys.Where(k => k.StartsWith("INGEST_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList()) psi.Environment.Remove(key);
        psi.Environment["DOTNET_gcServer"] = "0";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>()) psi.Environment[k] = v;
        _process = Process.Start(psi) ?? throw new InvalidOperationException("could not start ingest");
        _process.ErrorDataReceived += (_, e) => Collect(e.Data);
        _process.OutputDataReceived += (_, e) => Collect(e.Data);
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();
    }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_lines) return string.Join('\n', _lines);
        }
    }

    private void Collect(string? line)
    {
        if (line is null) return;
        lock (_lines) _lines.Add(line);
    }

    /// <summary>The first output line that satisfies <paramref name="match"/>, waiting for it (or for the exit).</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan deadline, string what)
    {
        string? found = null;
        Wait.Until(() =>
        {
            lock (_lines) found = _lines.FirstOrDefault(match);
            return found is not null || _process.HasExited;
        }, deadline, what, () => Output);
        if (found is null)
        {
            // Exited: the last lines may still be in the pipe.
            _process.WaitForExit();
            lock (_lines) found = _lines.FirstOrDefault(match);
        }
        return found ?? throw new InvalidOperationException($"ingest exited with {_process.ExitCode} before {what}:\n{Output}");
    }

    public int WaitForExit(TimeSpan deadline)
    {
        if (!_process.WaitForExit(deadline)) throw new TimeoutException($"ingest did not exit within {deadline.TotalSeconds:0} s:\n{Output}");
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM: the clean shutdown a container runtime asks for.</summary>
    public void Terminate()
    {
        if (!_process.HasExited && SysKill(_process.Id, 15) != 0) throw new InvalidOperationException($"kill -TERM {_process.Id} failed");
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SysKill(int pid, int signal);

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
