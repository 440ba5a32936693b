using System.Text;
using Ingest.GoRuntime.Parsing.Goroutines;

namespace Ingest.GoRuntime.Tests.Parsing;

public sealed class GoroutineGrammarTests
{
    [Theory]
    [InlineData("goroutine 1 [running]:", 1, "running", 0, false)]
    [InlineData("goroutine 7 [chan receive, 5 minutes, locked to thread]:", 7, "chan receive", 5, true)]
    [InlineData("goroutine 12 [select (no cases)]:", 12, "select (no cases)", 0, false)]
    [InlineData("goroutine 33 gp=0xc000103340 m=nil [sync.Mutex.Lock, 12 minutes]:", 33, "sync.Mutex.Lock", 12, false)]
    [InlineData("goroutine 18 gp=0xc000102a80 m=3 mp=0xc000080808 [running]:", 18, "running", 0, false)]
    [InlineData("  goroutine 8 [running]:", 8, "running", 0, false)]
    [InlineData("goroutine 9 [GC worker (idle), 2 minutes]:", 9, "GC worker (idle)", 2, false)]
    [InlineData("goroutine 4 [chan receive (durable), label=\"a, b\"]:", 4, "chan receive (durable)", 0, false)]
    public void Reads_headers_of_every_version(string line, long id, string state, int minutes, bool locked)
    {
        Assert.True(GoroutineGrammar.TryParseHeader(Encoding.UTF8.GetBytes(line), out var h));
        Assert.Equal(id, h.Id);
        Assert.Equal(state, Encoding.UTF8.GetString(h.State));
        Assert.Equal(minutes, h.WaitMinutes);
        Assert.Equal(locked, h.LockedToThread);
    }

    [Fact]
    public void Reads_m_field_of_gp_headers()
    {
        Assert.True(GoroutineGrammar.TryParseHeader("goroutine 18 gp=0xc000102a80 m=3 mp=0xc000080808 [running]:"u8, out var h));
        Assert.Equal(3, h.M);
    }

    [Theory]
    [InlineData("goroutine 1 [running]")]
    [InlineData("goroutine x [running]:")]
    [InlineData("the goroutine 1 [running]:")]
    [InlineData("goroutine 1 running:")]
    [InlineData("goroutine 1 junk [running]:")]
    [InlineData("goroutine 1 []:")]
    public void Rejects_lines_that_only_look_like_headers(string line) =>
        Assert.False(GoroutineGrammar.TryParseHeader(Encoding.UTF8.GetBytes(line), out _));

    [Theory]
    [InlineData("example.com/shop/internal/store.(*Repo).Find(0xc0000a6000, {0x6a1b2c, 0x3})", "example.com/shop/internal/store.(*Repo).Find", "0xc0000a6000, {0x6a1b2c, 0x3}")]
    [InlineData("main.main()", "main.main", "")]
    [InlineData("sync.(*Mutex).Lock(...)", "sync.(*Mutex).Lock", "...")]
    [InlineData("main.(*Box[...]).Get(...)", "main.(*Box[...]).Get", "...")]
    [InlineData("panic({0x48ae80, 0xc00008a220})", "panic", "{0x48ae80, 0xc00008a220}")]
    [InlineData("runtime.gopark(0x0?, 0x0?, 0x0?, 0x0?, 0x0?)", "runtime.gopark", "0x0?, 0x0?, 0x0?, 0x0?, 0x0?")]
    [InlineData("gopkg.in/yaml%2ev2.handleErr(0x433b20)", "gopkg.in/yaml%2ev2.handleErr", "0x433b20")]
    public void Reads_function_lines(string line, string function, string args)
    {
        Assert.True(GoroutineGrammar.TryParseFunction(Encoding.UTF8.GetBytes(line), out var fn));
        Assert.Equal(function, Encoding.UTF8.GetString(fn.Function));
        Assert.Equal(args, Encoding.UTF8.GetString(fn.Args));
    }

    [Theory]
    [InlineData("level=info msg=\"done (ok)\"")]
    [InlineData("see the docs (chapter 3)")]
    [InlineData("()")]
    public void Rejects_prose_ending_in_a_parenthesis(string line) =>
        Assert.False(GoroutineGrammar.TryParseFunction(Encoding.UTF8.GetBytes(line), out _));

    [Theory]
    [InlineData("\t/usr/lib/go-1.19/src/runtime/proc.go:250 +0x212", "/usr/lib/go-1.19/src/runtime/proc.go", 250)]
    [InlineData("\t/usr/lib/go-1.19/src/runtime/panic.go:1047 +0x5d fp=0x7ffd13914130 sp=0x7ffd13914100 pc=0x436add", "/usr/lib/go-1.19/src/runtime/panic.go", 1047)]
    [InlineData("\t/usr/lib/go-1.19/src/sync/mutex.go:90", "/usr/lib/go-1.19/src/sync/mutex.go", 90)]
    [InlineData("        /goroot/src/runtime/proc.c:1472 +0x485", "/goroot/src/runtime/proc.c", 1472)]
    [InlineData("\texample.com/shop/internal/store/store.go:33 +0x1d", "example.com/shop/internal/store/store.go", 33)]
    [InlineData("\tC:/Users/dev/go/src/shop/main.go:12 +0x1d", "C:/Users/dev/go/src/shop/main.go", 12)]
    [InlineData("\t_cgo_gotypes.go:55 +0x48", "_cgo_gotypes.go", 55)]
    public void Reads_file_lines(string line, string path, int ln)
    {
        Assert.True(GoroutineGrammar.TryParseFileLine(Encoding.UTF8.GetBytes(line), out var f));
        Assert.Equal(path, Encoding.UTF8.GetString(f.Path));
        Assert.Equal(ln, f.Line);
    }

    [Theory]
    [InlineData("created by net/http.(*Server).Serve", "net/http.(*Server).Serve", null)]
    [InlineData("created by main.main in goroutine 1", "main.main", 1L)]
    public void Reads_created_by(string line, string function, long? parent)
    {
        Assert.True(GoroutineGrammar.TryParseCreatedBy(Encoding.UTF8.GetBytes(line), out var fn, out long? p));
        Assert.Equal(function, Encoding.UTF8.GetString(fn));
        Assert.Equal(parent, p);
    }

    [Theory]
    [InlineData("...additional frames elided...", true)]
    [InlineData("...120 frames elided...", true)]
    [InlineData("... frames", false)]
    public void Recognises_elided_markers(string line, bool expected) =>
        Assert.Equal(expected, GoroutineGrammar.IsElided(Encoding.UTF8.GetBytes(line)));

    [Theory]
    [InlineData("rax    0x0", true)]
    [InlineData("r8     0x7ffd13914130", true)]
    [InlineData("gs     0x0", true)]
    [InlineData("hello  0xzz", false)]
    [InlineData("level=info", false)]
    public void Recognises_register_lines(string line, bool expected) =>
        Assert.Equal(expected, GoroutineGrammar.IsRegisterLine(Encoding.UTF8.GetBytes(line)));
}
