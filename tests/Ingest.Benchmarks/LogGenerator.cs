using System.Globalization;
using System.Text;

namespace Ingest.Benchmarks;

/// <summary>Deterministic inputs for the benchmarks (fixed seeds).</summary>
public static class LogGenerator
{
    private static readonly string[] s_paths = ["/orders", "/orders/{id}", "/cart", "/checkout", "/healthz", "/metrics", "/users/{id}/profile"];
    private static readonly string[] s_msgs = ["request served", "cache miss", "retrying upstream call", "user logged in", "payment authorised", "slow query", "connection reset by peer"];

    /// <summary>Logfmt and JSON lines as services print them, with no Go runtime output in them.</summary>
    public static byte[] OrdinaryLogs(int megabytes)
    {
        var rng = new Random(1);
        var sb = new StringBuilder(megabytes * 1024 * 1024 + 4096);
        var t = new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc);
        while (sb.Length < megabytes * 1024 * 1024)
        {
            t = t.AddMilliseconds(rng.Next(1, 50));
            string ts = t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            string path = s_paths[rng.Next(s_paths.Length)].Replace("{id}", rng.Next(100000).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            string msg = s_msgs[rng.Next(s_msgs.Length)];
            if (rng.Next(2) == 0)
            {
                sb.Append(CultureInfo.InvariantCulture, $"time={ts} level=info msg=\"{msg}\" method=GET path={path} status={(rng.Next(20) == 0 ? 500 : 200)} duration_ms={rng.Next(1, 900)} trace_id={rng.NextInt64():x16}{rng.NextInt64():x16} pod=checkout-7f9c{rng.Next(10)}\n");
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"{{\"ts\":\"{ts}\",\"level\":\"info\",\"logger\":\"http\",\"msg\":\"{msg}\",\"method\":\"POST\",\"path\":\"{path}\",\"status\":200,\"bytes\":{rng.Next(100, 90000)},\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64)\",\"span_id\":\"{rng.NextInt64():x16}\"}}\n");
            }
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static void WriteOrdinaryLogs(string path, int megabytes)
    {
        using var f = File.Create(path);
        // Write in 64 MB pieces so large files need no large buffer.
        int left = megabytes;
        var rng = 0;
        while (left > 0)
        {
            int mb = Math.Min(64, left);
            f.Write(OrdinaryLogs(mb));
            left -= mb;
            rng++;
        }
    }

    /// <summary>
    /// A runtime.Stack-style dump of <paramref name="goroutines"/> goroutines in 35 stack shapes with distinct
    /// pointer arguments and stale "0xN?" register values, for machines without Go. The real thing comes from
    /// tools/corpus-gen (gen-bigdump.sh); both are measured in docs/performance.md.
    /// </summary>
    public static byte[] SyntheticDump(int goroutines)
    {
        var rng = new Random(3);
        var sb = new StringBuilder();
        string[] waits = ["chan receive", "chan send", "select", "semacquire", "sleep", "IO wait", "sync.Cond.Wait"];
        sb.Append("goroutine 1 [running]:\nmain.main()\n\t/home/dev/src/dumpgen/main.go:80 +0x1d\n\n");
        for (int i = 0; i < goroutines; i++)
        {
            int shape = i % 35;
            string wait = waits[shape % waits.Length];
            ulong p = 0xc000100000UL + (ulong)i * 0x40;
            sb.Append(CultureInfo.InvariantCulture, $"goroutine {i + 2} [{wait}]:\n");
            sb.Append(CultureInfo.InvariantCulture, $"runtime.gopark(0x{rng.Next(16):x}?, 0x{rng.Next(16):x}?, 0x0?, 0x0?, 0x0?)\n\t/usr/lib/go-1.19/src/runtime/proc.go:363 +0xd6\n");
            sb.Append(CultureInfo.InvariantCulture, $"runtime.chanrecv(0x{p:x}, 0x0, 0x1)\n\t/usr/lib/go-1.19/src/runtime/chan.go:583 +0x49b\n");
            sb.Append(CultureInfo.InvariantCulture, $"main.block{shape}(0x{p:x})\n\t/home/dev/src/dumpgen/main.go:{20 + shape} +0x{shape * 7 + 16:x}\n");
            sb.Append(CultureInfo.InvariantCulture, $"main.wrap{shape % 5}(0x{p + 8:x}, 0x{rng.Next(4)}?)\n\t/home/dev/src/dumpgen/main.go:{70 + shape % 5} +0x25\n");
            sb.Append(CultureInfo.InvariantCulture, $"created by main.spawn\n\t/home/dev/src/dumpgen/main.go:75 +0x3a\n\n");
        }
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static void WriteSyntheticDump(string path, int goroutines) => File.WriteAllBytes(path, SyntheticDump(goroutines));
}
