using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Detection;

/// <summary>
/// Real records of zap 1.23 and logrus (Debian's packages, Go 1.19, tools/corpus-gen/structlog via
/// regen-detection.sh): an info line, a logrus "stack" field that is no stack, zap's stacktrace on an error value,
/// zap.Stack on a recovered nil-map panic, logrus with debug.Stack() in a "stack" field, logrus with
/// debug.Stack() inside the message, an info line.
/// </summary>
public sealed class LoggedStackTests
{
    private const string Orders = "example.com/structlog/orders";
    private const string File = "/home/dev/go/src/example.com/structlog/orders/orders.go";

    [Fact]
    public void Zap_and_logrus_records_with_stacks_become_logged_stack_events()
    {
        var events = Corpus.Analyze("go1.19-detection/structured-log-stacks.txt");
        var crashes = events.Cast<CrashEvent>().ToList(); // every event is one: the decoys and info lines make none
        Assert.Equal([3L, 4, 5, 6], crashes.Select(c => c.Line));
        Assert.All(crashes, c =>
        {
            Assert.Equal(CrashKinds.LoggedStack, c.Kind);
            Assert.False(c.Recoverable);
            Assert.False(c.Recovered);
            Assert.Equal(1, c.GoroutineCount);
            Assert.Equal(["example.com/structlog"], c.Modules);
        });
        Assert.Equal([CrashCategory.LoggedError, CrashCategory.NilMapAssignment, CrashCategory.IndexOutOfRange, CrashCategory.NilPointerDereference], crashes.Select(c => c.Category));
        Assert.Equal(
            [
                new FrameRef(Orders + ".(*Service).Checkout", File, 32), // zap: where the error was logged
                new FrameRef(Orders + ".tag", File, 71), // below the recovering handler and runtime.gopanic
                new FrameRef(Orders + ".item", File, 75),
                new FrameRef(Orders + ".total", File, 79),
            ],
            crashes.Select(c => c.RootCause));
        Assert.Equal(["charge declined for order 42: card expired", "assignment to entry in nil map", "runtime error: index out of range [5] with length 3",
            "worker crashed: runtime error: invalid memory address or nil pointer dereference"], crashes.Select(c => c.Message));
        Assert.Equal(["payment failed", "recovered panic", "order sync failed", "worker crashed: runtime error: invalid memory address or nil pointer dereference"], crashes.Select(c => c.LogMessage));
        // zap's form has no goroutine header; debug.Stack() text keeps its goroutine and drops its own frame.
        Assert.Equal([Orders + ".(*Service).Checkout", "main.main", "runtime.main"], crashes[0].CrashingGoroutine!.Frames.Select(f => f.Function));
        Assert.Equal([Orders + ".item", Orders + ".(*Service).SyncItems", "main.main"], crashes[2].CrashingGoroutine!.Frames.Select(f => f.Function));
        Assert.True(crashes[2].CrashingGoroutine!.Frames[0].Inlined);
        Assert.Equal(4, crashes.Select(c => c.Fingerprint).Distinct().Count());
    }

    [Fact]
    public void The_fingerprint_is_the_crash_fingerprint_of_the_same_failure()
    {
        // The same record logged again from another host and build path: same fingerprint; another error: not.
        string line = System.IO.File.ReadAllLines(Corpus.PathOf("go1.19-detection/structured-log-stacks.txt"))[4];
        var a = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(line)));
        var b = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(line.Replace("/home/dev/go/src", "/srv/build/go/src", StringComparison.Ordinal).Replace("[5] with length 3", "[9] with length 4", StringComparison.Ordinal))));
        var c = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(line.Replace("runtime error: index out of range [5] with length 3", "upstream timeout", StringComparison.Ordinal))));
        Assert.Equal(a.Fingerprint, b.Fingerprint);
        Assert.NotEqual(a.Fingerprint, c.Fingerprint);
        Assert.Equal(CrashCategory.LoggedError, c.Category);
    }

    [Fact]
    public void Slog_and_ecs_record_shapes_are_recognised()
    {
        // CONSTRUCTED: slog needs Go 1.21+, which the build machines cannot install. This is JSONHandler's shape
        // (time, level "ERROR", msg, an "err" attribute, a "stack" attribute holding debug.Stack()) around the real
        // debug.Stack() text of the logrus record above; the ECS record nests error.message and error.stack_trace.
        string logrus = System.IO.File.ReadAllLines(Corpus.PathOf("go1.19-detection/structured-log-stacks.txt"))[4];
        string stack = JsonDocument.Parse(logrus).RootElement.GetProperty("stack").GetString()!;
        string slog = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["time"] = "2024-05-01T10:00:02.123456789Z", ["level"] = "ERROR", ["msg"] = "job failed",
            ["err"] = "runtime error: slice bounds out of range [:8] with capacity 5", ["stack"] = stack,
        });
        string ecs = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["@timestamp"] = "2024-05-01T10:00:02Z", ["message"] = "order sync failed",
            ["error"] = new Dictionary<string, string> { ["message"] = "runtime error: index out of range [5] with length 3", ["stack_trace"] = stack },
        });
        var events = Corpus.AnalyzeText(slog + "\n" + ecs + "\n");
        Assert.Equal(2, events.Count);
        var fromSlog = Assert.IsType<CrashEvent>(events[0]);
        Assert.Equal(CrashCategory.SliceBoundsOutOfRange, fromSlog.Category);
        Assert.Equal("job failed", fromSlog.LogMessage);
        Assert.Equal(Orders + ".item", fromSlog.RootCause!.Function);
        var fromEcs = Assert.IsType<CrashEvent>(events[1]);
        Assert.Equal(CrashCategory.IndexOutOfRange, fromEcs.Category);
        Assert.Equal("order sync failed", fromEcs.LogMessage);
    }

    [Fact]
    public void Field_names_are_configurable()
    {
        string zap = System.IO.File.ReadAllLines(Corpus.PathOf("go1.19-detection/structured-log-stacks.txt"))[2].Replace("\"stacktrace\":", "\"trace\":", StringComparison.Ordinal);
        Assert.Empty(Corpus.AnalyzeText(zap));
        var options = new AnalyzerOptions();
        options.LoggedStacks.Stack = ["trace"];
        var crash = Assert.IsType<CrashEvent>(Assert.Single(Corpus.AnalyzeText(zap, options)));
        Assert.Equal(Orders + ".(*Service).Checkout", crash.RootCause!.Function);
    }

    [Fact]
    public void Json_names_the_kind_category_and_log_message()
    {
        var events = Corpus.Analyze("go1.19-detection/structured-log-stacks.txt");
        using var doc = JsonDocument.Parse(EventJson.Serialize(events.Take(1)));
        var e = doc.RootElement[0];
        Assert.Equal("crash", e.GetProperty("type").GetString());
        Assert.Equal("logged_stack", e.GetProperty("kind").GetString());
        Assert.Equal("logged_error", e.GetProperty("category").GetString());
        Assert.Equal("payment failed", e.GetProperty("log_message").GetString());
        Assert.Equal(Orders + ".(*Service).Checkout", e.GetProperty("root_cause").GetProperty("function").GetString());
    }
}
