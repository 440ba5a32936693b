namespace Ingest.Benchmarks;

/// <summary>The least any line-oriented tool does: find every newline. Every benchmark compares against it.</summary>
public static class Baseline
{
    public static int SplitLines(byte[] data)
    {
        int n = 0;
        var s = data.AsSpan();
        while (true)
        {
            int nl = s.IndexOf((byte)'\n');
            if (nl < 0) break;
            n += nl & 1;
            s = s[(nl + 1)..];
        }
        return n;
    }
}
