using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Ingest.GoRuntime.Scanning;

/// <summary>Keeps the first N bytes of an event's text and hashes all of it.</summary>
internal sealed class RawTextBuffer(int limit)
{
    private static readonly byte[] s_newline = "\n"u8.ToArray();
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private IncrementalHash? _hash;
    private bool _first = true;

    public bool Truncated { get; private set; }

    public void Append(ReadOnlySpan<byte> line)
    {
        _hash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (!_first) _hash.AppendData(s_newline);
        _hash.AppendData(line);
        int room = limit - _buffer.WrittenCount;
        if (room > 0)
        {
            if (!_first)
            {
                _buffer.Write(s_newline);
                room--;
            }
            var part = line.Length <= room ? line : line[..room];
            _buffer.Write(part);
            if (part.Length < line.Length) Truncated = true;
        }
        else
        {
            Truncated = true;
        }
        _first = false;
    }

    public (string Text, string Sha256) Complete()
    {
        string text = Encoding.UTF8.GetString(_buffer.WrittenSpan);
        string hash = _hash is null ? string.Empty : Convert.ToHexStringLower(_hash.GetHashAndReset());
        _buffer.Clear();
        _first = true;
        Truncated = false;
        return (text, hash);
    }
}
