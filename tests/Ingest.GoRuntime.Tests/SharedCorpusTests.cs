using System.Text.Json;
using Ingest.GoRuntime.Analysis;
using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests;

/// <summary>
/// The reference corpus (panicparse's fixtures and Go 1.19 captures, copied from ../shared/corpus) against
/// its expectations, mapped onto our events: goroutine counts, crashing goroutine, first panic value,
/// first frame, per-state counts.
/// </summary>
public sealed class SharedCorpusTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (string f in Corpus.Files("shared/panicparse").Concat(Corpus.Files("shared/go119-extra")))
        {
            if (Corpus.HasExpectation(f)) data.Add(f);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_expectations(string file)
    {
        var expect = Corpus.Expectation(file);
        var events = Corpus.Analyze(file);
        string kind = expect.GetProperty("panic_kind").GetString()!;
        var main = events.OfType<MultiLineEvent>().ToList();
        Assert.NotEmpty(main);

        if (expect.GetProperty("goroutines").ValueKind == JsonValueKind.Array)
        {
            // Several snapshots in one stream: one event each.
            var counts = expect.GetProperty("goroutines").EnumerateArray().Select(e => e.GetInt32()).ToList();
            Assert.Equal(counts, main.Select(m => m.GoroutineCount).ToList());
            var messages = expect.GetProperty("panic_message").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(messages, main.OfType<CrashEvent>().Select(c => c.Panics[0]).ToList());
            var firstFrames = expect.GetProperty("first_frame_func").EnumerateArray().Select(e => e.GetString()!).ToList();
            Assert.Equal(firstFrames, main.Select(m => m.FirstGoroutine!.Frames[0].Function).ToList());
            return;
        }

        var ev = main[0];
        Assert.Equal(expect.GetProperty("goroutines").GetInt32(), ev.GoroutineCount);
        switch (kind)
        {
            case "panic":
            case "fatal error":
            case "recovered (net/http log)":
                var crash = Assert.IsType<CrashEvent>(ev);
                Assert.Equal(kind switch { "panic" => CrashKinds.Panic, "fatal error" => CrashKinds.Fatal, _ => CrashKinds.HttpPanic }, crash.Kind);
                string msg = expect.GetProperty("panic_message").GetString()!;
                Assert.Equal(StripRecovered(msg), crash.Panics[0]);
                if (expect.TryGetProperty("panic_chain", out var chain))
                {
                    Assert.Equal(chain.EnumerateArray().Select(c => StripRecovered(c.GetString()!)), crash.Panics);
                }
                Assert.Equal(expect.GetProperty("panicking_goroutine_id").GetInt64(), crash.CrashingGoroutine!.Id);
                break;
            case "signal (SIGQUIT)":
                var dump = Assert.IsType<GoroutineDumpEvent>(ev);
                Assert.Equal("SIGQUIT", dump.Signal);
                break;
            case "data race":
                Assert.IsType<CrashEvent>(ev);
                Assert.Equal(CrashCategory.DataRace, ((CrashEvent)ev).Category);
                break;
            default:
                Assert.StartsWith("none", kind, StringComparison.Ordinal);
                var bare = Assert.IsType<GoroutineDumpEvent>(ev);
                Assert.Null(bare.Signal);
                break;
        }

        string firstFrame = expect.GetProperty("first_frame_func").GetString()!;
        var first = ev.FirstGoroutine!;
        Assert.Equal(firstFrame, first.Frames.Length == 0 ? string.Empty : first.Frames[0].Function);

        if (expect.TryGetProperty("states", out var states) && kind != "data race")
        {
            var expected = states.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Assert.Equal(expected.OrderBy(k => k.Key), ev.States.OrderBy(k => k.Key));
        }
    }

    private static string StripRecovered(string s) => s.EndsWith(" [recovered]", StringComparison.Ordinal) ? s[..^12] : s;
}
