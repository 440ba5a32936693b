using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.GcTrace;

/// <summary>
/// Reads <c>GODEBUG=gctrace=1</c>, <c>gcpacertrace=1</c> and <c>scavtrace=1</c> lines, anywhere after a logger prefix.
/// A strict left-to-right cursor: every field must be where the runtime prints it, so prose that merely
/// contains "gc 1" never matches, and nothing is allocated before the whole line has matched.
/// </summary>
public static class GcTraceReader
{
    /// <summary>Cheap test used by the line dispatcher before any parsing.</summary>
    public static int IndexOfGcLine(ReadOnlySpan<byte> line)
    {
        int from = 0;
        while (from < line.Length)
        {
            int i = line[from..].IndexOf("gc "u8);
            if (i < 0) return -1;
            i += from;
            if ((i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t' || line[i - 1] == '"') && i + 3 < line.Length &&
                (Ascii8.IsDigit(line[i + 3]) || line[i + 3] == '#'))
            {
                return i;
            }
            from = i + 3;
        }
        return -1;
    }

    public static bool TryReadCycle(ReadOnlySpan<byte> line, out GcCycle? cycle)
    {
        cycle = null;
        int at = IndexOfGcLine(line);
        if (at < 0) return false;
        var c = new Cursor(line[(at + 3)..]);
        c.Skip((byte)'#');
        if (!c.Int(out int num) || !c.Lit(" @"u8) || !c.Number(out double atSec) || !c.Lit("s "u8) ||
            !c.Int(out int pct) || !c.Lit("%: "u8))
        {
            return false;
        }
        Span<double> clock = stackalloc double[8];
        int nClock = c.NumberList(clock, plusOnly: true);
        if (nClock < 3 || !c.Lit(" ms clock, "u8)) return false;
        Span<double> cpu = stackalloc double[8];
        int nCpu = c.NumberList(cpu, plusOnly: false);
        if (nCpu < 3 || !c.Lit(" ms cpu, "u8)) return false;
        if (!c.Number(out double hStart) || !c.Lit("->"u8) || !c.Number(out double hEnd) || !c.Lit("->"u8) ||
            !c.Number(out double hLive) || !c.Lit(" MB, "u8) || !c.Number(out double goal) || !c.Lit(" MB goal, "u8))
        {
            return false;
        }
        double? stacks = null, globals = null;
        var save = c;
        if (c.Number(out double st) && c.Lit(" MB stacks, "u8) && c.Number(out double gl) && c.Lit(" MB globals, "u8))
        {
            stacks = st;
            globals = gl;
        }
        else
        {
            c = save;
        }
        if (!c.Int(out int procs) || !c.Lit(" P"u8)) return false;
        bool forced = c.Rest.StartsWith(" (forced)"u8);
        cycle = new GcCycle
        {
            Num = num,
            AtSeconds = atSec,
            CpuPercent = pct,
            StwSweepTerminationMs = clock[0],
            ConcurrentMarkMs = SumMiddle(clock[..nClock]),
            StwMarkTerminationMs = clock[nClock - 1],
            ClockPhasesMs = clock[..nClock].ToArray(),
            CpuPhasesMs = cpu[..nCpu].ToArray(),
            HeapStartMb = hStart,
            HeapEndMb = hEnd,
            HeapLiveMb = hLive,
            HeapGoalMb = goal,
            StacksMb = stacks,
            GlobalsMb = globals,
            Procs = procs,
            Forced = forced,
        };
        return true;
    }

    private static double SumMiddle(ReadOnlySpan<double> phases)
    {
        double sum = 0;
        for (int i = 1; i < phases.Length - 1; i++) sum += phases[i];
        return sum;
    }

    /// <summary><c>pacer: assist ratio=+1.5e+000 (scan ...) workers=...</c> or <c>pacer: 39% CPU (25 exp.) for ... (∆goal -65536, ...)</c>.</summary>
    public static bool TryReadPacer(ReadOnlySpan<byte> line, GcPacer? previous, out GcPacer? pacer)
    {
        pacer = null;
        int at = line.IndexOf("pacer: "u8);
        if (at < 0) return false;
        var s = line[(at + 7)..];
        if (s.StartsWith("assist ratio="u8))
        {
            var v = s[13..];
            int sp = v.IndexOf((byte)' ');
            if (sp > 0) v = v[..sp];
            if (!System.Buffers.Text.Utf8Parser.TryParse(v, out double ratio, out int used, 'e') || used != v.Length) return false;
            pacer = (previous ?? new GcPacer()) with { AssistRatio = ratio };
            return true;
        }
        var c = new Cursor(s);
        if (!c.Int(out int cpuPct) || !c.Lit("% CPU ("u8) || !c.Int(out int exp) || !c.Lit(" exp.)"u8)) return false;
        long? delta = null;
        int d = s.IndexOf("goal "u8); // "(∆goal -65536," — the delta sign is UTF-8, find the word instead
        if (d > 0)
        {
            var v = s[(d + 5)..];
            int comma = v.IndexOf((byte)',');
            if (comma > 0) v = v[..comma];
            bool neg = v.Length > 0 && v[0] == '-';
            if (Ascii8.TryParseLong(neg ? v[1..] : v, out long dv)) delta = neg ? -dv : dv;
        }
        pacer = (previous ?? new GcPacer()) with { CpuPercent = cpuPct, ExpectedCpuPercent = exp, HeapGoalDeltaBytes = delta };
        return true;
    }

    /// <summary>
    /// <c>scav 0 KiB work, 2528 KiB total, 99% util</c> (1.19), <c>scav N KiB work (bg), N KiB work (eager), N KiB now, P% util</c> (newer),
    /// <c>scvg3: inuse: 4, idle: 1, sys: 6, released: 0, consumed: 6 (MB)</c>, <c>scvg3: 2 MB released</c> (old).
    /// </summary>
    public static bool TryReadScavenge(ReadOnlySpan<byte> line, out GcScavenge? scav)
    {
        scav = null;
        int at = line.IndexOf("scav "u8);
        if (at >= 0 && (at == 0 || line[at - 1] == ' '))
        {
            var s = line[(at + 5)..];
            double work = 0, total = 0;
            int? util = null;
            bool any = false;
            while (!s.IsEmpty)
            {
                int comma = s.IndexOf(", "u8);
                var part = comma < 0 ? s : s[..comma];
                s = comma < 0 ? [] : s[(comma + 2)..];
                int sp = part.IndexOf((byte)' ');
                if (sp <= 0) return false;
                var num = part[..sp];
                var unit = part[(sp + 1)..];
                if (unit.StartsWith("KiB work"u8) && Ascii8.TryParseDouble(num, out double w)) { work += w; any = true; }
                else if ((unit.SequenceEqual("KiB total"u8) || unit.SequenceEqual("KiB now"u8)) && Ascii8.TryParseDouble(num, out double t)) total = t;
                else if (unit.SequenceEqual("util"u8) && num.Length > 1 && num[^1] == '%' && Ascii8.TryParseInt(num[..^1], out int u)) util = u;
                else return false;
            }
            if (!any) return false;
            scav = new GcScavenge { WorkKib = work, TotalKib = total, UtilPercent = util };
            return true;
        }
        at = line.IndexOf("scvg"u8);
        if (at < 0 || (at > 0 && line[at - 1] != ' ')) return false;
        var r = line[(at + 4)..];
        int colon = r.IndexOf(": "u8);
        if (colon < 0 || (colon > 0 && !Ascii8.TryParseLong(r[..colon], out _))) return false;
        r = r[(colon + 2)..];
        if (r.EndsWith(" MB released"u8) && Ascii8.TryParseDouble(r[..^12], out double rel))
        {
            scav = new GcScavenge { ReleasedMb = rel };
            return true;
        }
        if (!r.StartsWith("inuse: "u8)) return false;
        double? inuse = Field(r, "inuse: "u8), idle = Field(r, "idle: "u8), sys = Field(r, "sys: "u8), released = Field(r, "released: "u8);
        if (inuse is null || sys is null) return false;
        scav = new GcScavenge { InuseMb = inuse, IdleMb = idle, SysMb = sys, ReleasedMb = released };
        return true;
    }

    private static double? Field(ReadOnlySpan<byte> s, ReadOnlySpan<byte> name)
    {
        int i = s.IndexOf(name);
        if (i < 0) return null;
        var v = s[(i + name.Length)..];
        int end = v.IndexOfAny((byte)',', (byte)' ');
        if (end >= 0) v = v[..end];
        return Ascii8.TryParseDouble(v, out double d) ? d : null;
    }

    /// <summary>Left-to-right reader over one line; copies are cheap save points.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> s)
    {
        private ReadOnlySpan<byte> _s = s;

        public readonly ReadOnlySpan<byte> Rest => _s;

        public void Skip(byte b)
        {
            if (!_s.IsEmpty && _s[0] == b) _s = _s[1..];
        }

        public bool Lit(ReadOnlySpan<byte> lit)
        {
            if (!_s.StartsWith(lit)) return false;
            _s = _s[lit.Length..];
            return true;
        }

        public bool Int(out int v)
        {
            int n = 0;
            while (n < _s.Length && Ascii8.IsDigit(_s[n])) n++;
            v = 0;
            if (n == 0 || !Ascii8.TryParseInt(_s[..n], out v)) return false;
            _s = _s[n..];
            return true;
        }

        public bool Number(out double v)
        {
            int n = 0;
            while (n < _s.Length && (Ascii8.IsDigit(_s[n]) || _s[n] == '.')) n++;
            v = 0;
            if (n == 0 || !Ascii8.TryParseDouble(_s[..n], out v)) return false;
            _s = _s[n..];
            return true;
        }

        /// <summary>"0.12+2.4+0.017" (plusOnly) or "0.49+0.24/1.9/3.1+0.068".</summary>
        public int NumberList(scoped Span<double> into, bool plusOnly)
        {
            int count = 0;
            while (count < into.Length && Number(out double v))
            {
                into[count++] = v;
                if (_s.IsEmpty || !(_s[0] == '+' || (!plusOnly && _s[0] == '/'))) break;
                _s = _s[1..];
            }
            return count;
        }
    }
}
