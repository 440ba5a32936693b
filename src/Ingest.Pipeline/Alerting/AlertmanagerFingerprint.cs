using System.Globalization;
using System.Text;

namespace Ingest.Pipeline.Alerting;

/// <summary>
/// The fingerprint Alertmanager shows for an alert (prometheus/common <c>model.LabelSet.Fingerprint()</c>):
/// FNV-1a 64 over the label names in byte order, each name and value followed by the separator byte 0xff,
/// printed as 16 lowercase hex digits. Pasted into Alertmanager's UI it finds the alert.
/// </summary>
public static class AlertmanagerFingerprint
{
    private const ulong Offset = 14695981039346656037;
    private const ulong Prime = 1099511628211;
    private const byte Separator = 0xff;

    public static ulong Compute(IReadOnlyDictionary<string, string> labels)
    {
        ulong h = Offset;
        // Go sorts label names as byte strings: ordinal on UTF-8 bytes.
        foreach (var name in labels.Keys.Select(Encoding.UTF8.GetBytes).Order(ByteOrder.Instance))
        {
            h = Add(h, name);
            h = Add(h, Separator);
            h = Add(h, Encoding.UTF8.GetBytes(labels[Encoding.UTF8.GetString(name)]));
            h = Add(h, Separator);
        }
        return h;
    }

    public static string Hex(IReadOnlyDictionary<string, string> labels) => Compute(labels).ToString("x16", CultureInfo.InvariantCulture);

    private static ulong Add(ulong h, ReadOnlySpan<byte> bytes)
    {
        foreach (byte b in bytes) h = Add(h, b);
        return h;
    }

    private static ulong Add(ulong h, byte b) => (h ^ b) * Prime;

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();
        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
