namespace Ingest.GoRuntime.Analysis.Gc;

/// <summary>One factor's weight on the pause: the standardised coefficient (change in pause, in standard
/// deviations, per standard deviation of the factor, the others held fixed), or why it could not be estimated.</summary>
public sealed record ImpactFactor(string Factor, double? Beta, string? Note);

public sealed record ImpactTable(int Samples, double? RSquared, IReadOnlyList<ImpactFactor> Factors);

/// <summary>
/// How much live heap, allocation rate, GOMAXPROCS, goroutine count and forced cycles weigh on the
/// stop-the-world pause over a window: ordinary least squares on z-scored variables (standardised betas),
/// with a tiny ridge term so collinear factors stay finite. Five factors at most: the normal equations are
/// solved by hand (Gaussian elimination with partial pivoting) rather than pulling in a numerics package.
/// </summary>
public static class ImpactRegression
{
    public static ImpactTable Compute(IReadOnlyList<GcSample> window)
    {
        var rows = window.Where(s => s.AllocRateMbPerSecond is not null).ToList();
        bool goroutinesKnown = rows.Count > 0 && rows.All(s => s.Goroutines is not null);
        var columns = new List<(string Name, double[] Values)>();
        var factors = new List<ImpactFactor>();
        double[] Column(Func<GcSample, double> f) => rows.Select(f).ToArray();
        var candidates = new (string Name, double[]? Values, string? Missing)[]
        {
            ("live_heap_mb", Column(s => s.HeapLiveMb), null),
            ("alloc_rate_mb_s", Column(s => s.AllocRateMbPerSecond!.Value), null),
            ("gomaxprocs", Column(s => s.Procs), null),
            ("goroutines", goroutinesKnown ? Column(s => s.Goroutines!.Value) : null, "no goroutine dump of these instances in the window"),
            ("forced", Column(s => s.Forced ? 1 : 0), null),
        };
        if (rows.Count < 3)
            return new ImpactTable(rows.Count, null, candidates.Select(c => new ImpactFactor(c.Name, null, "too few cycles in the window")).ToList());

        double[] y = Standardise(Column(s => s.PauseMs), out double ySd);
        foreach (var (name, values, missing) in candidates)
        {
            if (values is null)
            {
                factors.Add(new ImpactFactor(name, null, missing));
                continue;
            }
            var z = Standardise(values, out double sd);
            if (sd == 0)
            {
                factors.Add(new ImpactFactor(name, null, "constant over the window"));
                continue;
            }
            columns.Add((name, z));
            factors.Add(new ImpactFactor(name, 0, null)); // filled below
        }
        if (ySd == 0 || columns.Count == 0)
        {
            string note = ySd == 0 ? "pause constant over the window" : "no factor varies over the window";
            return new ImpactTable(rows.Count, null, factors.Select(f => f.Beta is null ? f : f with { Beta = null, Note = note }).ToList());
        }

        int k = columns.Count, n = rows.Count;
        var a = new double[k, k + 1];
        for (int i = 0; i < k; i++)
        {
            for (int j = 0; j < k; j++)
            {
                double sum = 0;
                for (int r = 0; r < n; r++) sum += columns[i].Values[r] * columns[j].Values[r];
                a[i, j] = sum + (i == j ? 1e-6 * n : 0);
            }
            double xy = 0;
            for (int r = 0; r < n; r++) xy += columns[i].Values[r] * y[r];
            a[i, k] = xy;
        }
        double[] beta = Solve(a, k);
        double ssRes = 0, ssTot = 0;
        for (int r = 0; r < n; r++)
        {
            double fit = 0;
            for (int i = 0; i < k; i++) fit += beta[i] * columns[i].Values[r];
            ssRes += (y[r] - fit) * (y[r] - fit);
            ssTot += y[r] * y[r];
        }
        var betas = columns.Select((c, i) => (c.Name, beta[i])).ToDictionary(x => x.Name, x => x.Item2);
        return new ImpactTable(n, ssTot > 0 ? 1 - ssRes / ssTot : null,
            factors.Select(f => betas.TryGetValue(f.Factor, out double b) ? f with { Beta = Math.Round(b, 4) } : f).ToList());
    }

    private static double[] Standardise(double[] values, out double sd)
    {
        double mean = values.Average();
        double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
        sd = Math.Sqrt(variance);
        // Relative cut-off: floating-point noise on a constant column is not variation.
        if (sd <= 1e-12 * Math.Max(1, Math.Abs(mean))) sd = 0;
        double s = sd;
        return s == 0 ? new double[values.Length] : values.Select(v => (v - mean) / s).ToArray();
    }

    private static double[] Solve(double[,] a, int k)
    {
        for (int col = 0; col < k; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < k; r++)
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (pivot != col)
            {
                for (int c = 0; c <= k; c++) (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
            }
            for (int r = col + 1; r < k; r++)
            {
                double f = a[r, col] / a[col, col];
                for (int c = col; c <= k; c++) a[r, c] -= f * a[col, c];
            }
        }
        var x = new double[k];
        for (int r = k - 1; r >= 0; r--)
        {
            double sum = a[r, k];
            for (int c = r + 1; c < k; c++) sum -= a[r, c] * x[c];
            x[r] = sum / a[r, r];
        }
        return x;
    }
}
