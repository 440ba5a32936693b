using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Tests.Support;

namespace Ingest.GoRuntime.Tests.Parsing;

public sealed class BuildInfoTests
{
    [Fact]
    public void Go_version_m_output_is_one_build_info_event()
    {
        const string text = """
            /app/server: go1.21.3
            	path	example.com/shop/cmd/server
            	mod	example.com/shop	v1.4.2	h1:Z8Qm0mcF9WeqOZp8Zx0q5c2qjW8X7y8Zx0q5c2qjW8Y=
            	dep	github.com/acme/orm	v1.4.2	h1:abc=
            	=>	github.com/acme/orm	v1.4.3	h1:def=
            	dep	golang.org/x/sync	v0.5.0	h1:ghi=
            	build	-compiler=gc
            	build	vcs.revision=0a1b2c3d4e5f
            	build	vcs.time=2026-11-28T10:00:00Z
            time=2026-11-29T10:00:00Z level=info msg="listening"
            """;
        var e = Assert.Single(Corpus.AnalyzeText(text).OfType<BuildInfoEvent>());
        Assert.Equal("/app/server", e.Binary);
        Assert.Equal("go1.21.3", e.GoVersion);
        Assert.Equal("example.com/shop/cmd/server", e.Path);
        Assert.Equal(("example.com/shop", "v1.4.2"), (e.MainModule, e.MainVersion));
        Assert.Equal([("github.com/acme/orm", "v1.4.3"), ("golang.org/x/sync", "v0.5.0")], e.Dependencies);
        Assert.Equal("0a1b2c3d4e5f", e.Setting("vcs.revision"));
        Assert.Equal(1, e.Line);
        Assert.Equal(9, e.EndLine);
    }

    [Fact]
    public void Debug_build_info_printed_at_start_up_behind_a_log_prefix_is_read_and_the_next_crash_still_parses()
    {
        var lines = new[]
        {
            "2026-11-29T10:00:00.000000001Z stderr F go\tgo1.19.8",
            "2026-11-29T10:00:00.000000002Z stderr F path\texample.com/shop/cmd/server",
            "2026-11-29T10:00:00.000000003Z stderr F mod\texample.com/shop\t(devel)\t",
            "2026-11-29T10:00:00.000000004Z stderr F build\tvcs.revision=feedbeef",
        };
        var crash = File.ReadAllText(Corpus.PathOf("go1.19/01-nil-pointer-dereference.txt"));
        var events = Corpus.AnalyzeText(string.Join('\n', lines) + "\n" + crash);
        var build = Assert.Single(events.OfType<BuildInfoEvent>());
        Assert.Equal("go1.19.8", build.GoVersion);
        Assert.Equal("(devel)", build.MainVersion);
        Assert.Equal("feedbeef", build.Setting("vcs.revision"));
        Assert.Single(events.OfType<CrashEvent>());
    }

    [Fact]
    public void A_lone_go_version_line_or_a_path_that_only_looks_like_one_is_not_build_info()
    {
        Assert.Empty(Corpus.AnalyzeText("go\tgo1.21.3\nsomething else\n").OfType<BuildInfoEvent>());
        Assert.Empty(Corpus.AnalyzeText("/var/log/app: go1.21 is great\n").OfType<BuildInfoEvent>());
        Assert.Empty(Corpus.AnalyzeText("/tmp/x y: go1.21.3\n\tpath\tx\n").OfType<BuildInfoEvent>());
    }
}
