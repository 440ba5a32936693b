using System.Security.Cryptography;
using System.Text;
using Ingest.GoRuntime.Model;

namespace Ingest.GoRuntime.Analysis;

/// <summary>
/// A stable id for "the same bug": category + normalised messages + the in-app function names of the
/// crashing goroutine. Never goroutine ids, addresses, argument values, line numbers or paths, so the
/// same bug on another host, build directory or -trimpath build groups together.
/// </summary>
public static class Fingerprinter
{
    // The innermost three frames of the service's own code: the crash site and its callers. Deeper frames
    // are the entry path (an HTTP handler, a batch job, a test), which varies for one bug.
    private const int MaxFrames = 3;

    public static string Compute(CrashEvent crash, CodeOwnership ownership)
    {
        var sb = new StringBuilder(256);
        sb.Append("v1|").Append(crash.Category).Append('|');
        foreach (string p in crash.Panics) sb.Append(NormalizeMessage(p)).Append('|');
        var frames = crash.CrashingGoroutine?.Frames ?? (crash.RuntimeStack.Count > 0 ? [.. crash.RuntimeStack] : []);
        int taken = 0;
        foreach (var f in frames)
        {
            if (!ownership.IsInApp(f)) continue;
            sb.Append(f.Function).Append(';');
            if (++taken == MaxFrames) break;
        }
        if (taken == 0)
        {
            // No service code on the stack: fall back to the non-runtime frames, then anything.
            foreach (var f in frames)
            {
                if (GoNames.IsRuntimePackage(f.Package)) continue;
                sb.Append(f.Function).Append(';');
                if (++taken == MaxFrames) break;
            }
        }
        if (taken == 0)
        {
            foreach (var f in frames.Take(MaxFrames)) sb.Append(f.Function).Append(';');
        }
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString()), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }

    /// <summary>Replaces numbers, hex words and addresses: "index out of range [5] with length 3" → "index out of range [N] with length N".</summary>
    public static string NormalizeMessage(string message)
    {
        if (message.Length > 1024) message = message[..1024];
        var sb = new StringBuilder(message.Length);
        int i = 0;
        while (i < message.Length)
        {
            char c = message[i];
            if (c == '0' && i + 2 < message.Length && (message[i + 1] | 0x20) == 'x' && Uri.IsHexDigit(message[i + 2]))
            {
                i += 2;
                while (i < message.Length && Uri.IsHexDigit(message[i])) i++;
                sb.Append("0x?");
            }
            else if (char.IsAsciiDigit(c) && (i == 0 || !char.IsAsciiLetter(message[i - 1])))
            {
                // A run of digits and hex letters that starts with a digit: ids, counts, UUID parts.
                while (i < message.Length && (Uri.IsHexDigit(message[i]))) i++;
                sb.Append('N');
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }
}
