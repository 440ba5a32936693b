using Ingest.GoRuntime.Model;
using Ingest.GoRuntime.Text;

namespace Ingest.GoRuntime.Parsing.BuildInfo;

/// <summary>
/// The lines of Go build information, linear and regex-free:
/// <code>
/// /app/server: go1.21.3            (go version -m: binary, then tab-indented rows)
/// go	go1.21.3                   (debug.BuildInfo.String(): rows without indentation)
/// path	example.com/shop/cmd/server
/// mod	example.com/shop	v1.4.2	h1:…
/// dep	github.com/acme/orm	v1.4.2	h1:…
/// =>	github.com/acme/orm	v1.4.3	h1:…   (replaces the dep above)
/// build	vcs.revision=0a1b2c…
/// </code>
/// </summary>
public static class BuildInfoLines
{
    /// <summary>A first line: "go\tgo1.N…" or "/path/to/binary: go1.N…".</summary>
    public static bool TryHeader(ReadOnlySpan<byte> line, out string? binary, out string goVersion)
    {
        binary = null;
        goVersion = string.Empty;
        line = Ascii8.TrimEnd(line);
        if (line.StartsWith("go\tgo1."u8))
        {
            var v = line[3..];
            if (!IsVersion(v)) return false;
            goVersion = Ascii8.Decode(v);
            return true;
        }
        if (line.Length > 0 && line[0] == (byte)'/' && line.Length < 4096)
        {
            int sep = line.IndexOf(": go1."u8);
            if (sep <= 0 || line[..sep].IndexOfAny((byte)' ', (byte)'\t') >= 0) return false;
            var v = line[(sep + 2)..];
            if (!IsVersion(v)) return false;
            binary = Ascii8.Decode(line[..sep]);
            goVersion = Ascii8.Decode(v);
            return true;
        }
        return false;
    }

    private static bool IsVersion(ReadOnlySpan<byte> v) =>
        v.StartsWith("go1."u8) && v.Length < 64 && v.IndexOfAny((byte)' ', (byte)'\t') < 0;

    /// <summary>A row of the block (with or without the leading tab); false for anything else, which ends it.</summary>
    public static bool TryRow(ReadOnlySpan<byte> line, BuildInfoEvent into)
    {
        line = Ascii8.TrimEnd(line);
        if (!line.IsEmpty && line[0] == (byte)'\t') line = line[1..];
        int tab = line.IndexOf((byte)'\t');
        if (tab <= 0) return false;
        var key = line[..tab];
        var rest = line[(tab + 1)..];
        // Fields: rest = a \t b \t c (version and checksum optional).
        int t1 = rest.IndexOf((byte)'\t');
        var first = t1 < 0 ? rest : rest[..t1];
        var after = t1 < 0 ? ReadOnlySpan<byte>.Empty : rest[(t1 + 1)..];
        int t2 = after.IndexOf((byte)'\t');
        var second = t2 < 0 ? after : after[..t2];
        string p0 = Ascii8.Decode(first), p1 = Ascii8.Decode(second);
        if (key.SequenceEqual("path"u8))
        {
            into.Path = p0;
        }
        else if (key.SequenceEqual("mod"u8))
        {
            into.MainModule = p0;
            into.MainVersion = p1;
        }
        else if (key.SequenceEqual("dep"u8))
        {
            if (into.Dependencies.Count < BuildInfoEvent.MaxDependencies) into.Dependencies.Add((p0, p1));
        }
        else if (key.SequenceEqual("=>"u8))
        {
            if (into.Dependencies.Count > 0) into.Dependencies[^1] = (p0, p1);
        }
        else if (key.SequenceEqual("build"u8))
        {
            int eq = rest.IndexOf((byte)'=');
            if (eq <= 0) return false;
            if (into.Settings.Count < 64) into.Settings.Add((Ascii8.Decode(rest[..eq]), Ascii8.Decode(rest[(eq + 1)..])));
        }
        else
        {
            return false;
        }
        return true;
    }
}
