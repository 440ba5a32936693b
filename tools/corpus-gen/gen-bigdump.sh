#!/usr/bin/env bash
# Writes a runtime.Stack(buf, true) dump of ~100,000 blocked goroutines to OUT
# (default /tmp/bigdump-100k.txt) using cmd/dumpgen. Not part of regen.sh and
# not meant to be committed (about 30 MB).
#
#   tools/corpus-gen/gen-bigdump.sh [OUT] [N] [LAYERS]   # LAYERS extra frames per goroutine (2: about 60 MB)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${1:-/tmp/bigdump-100k.txt}"
N="${2:-100000}"
LAYERS="${3:-0}"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
SRC="$WORK/home/dev/src/corpus-gen"   # printed as /home/dev/src/corpus-gen
mkdir -p "$SRC"
cp -R "$HERE/go.mod" "$HERE/cmd" "$SRC/"
(cd "$SRC" && CGO_ENABLED=0 GOFLAGS= GOPROXY=off go build -mod=mod -o "$WORK/dumpgen" ./cmd/dumpgen)

"$WORK/dumpgen" -n "$N" -layers "$LAYERS" >"$WORK/raw.txt" 2>"$WORK/stderr.txt"
sed -e "s|$SRC|/home/dev/src/corpus-gen|g" "$WORK/raw.txt" >"$OUT"
cat "$WORK/stderr.txt" >&2

# Report: size, goroutines, states, distinct stack signatures (state + function
# names + file:line, ignoring arguments, offsets and ids), gzip size.
bytes=$(wc -c <"$OUT")
gz=$(gzip -9 -c "$OUT" | wc -c)
echo "file:        $OUT"
echo "size:        $bytes bytes ($(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1048576}') MiB)"
echo "gzip -9:     $gz bytes ($(awk -v b="$gz" 'BEGIN{printf "%.2f", b/1048576}') MiB)"
echo "goroutines:  $(grep -c '^goroutine [0-9]* \[' "$OUT")"
echo "states:"
grep '^goroutine [0-9]* \[' "$OUT" | sed -E 's/^goroutine [0-9]+ \[([^],]*).*/\1/' | sort | uniq -c | sort -rn | sed 's/^/  /'
awk '
  /^goroutine [0-9]+ \[/ { if (sig != "") c[sig]++; st = $0; sub(/^goroutine [0-9]+ \[/, "", st); sub(/(, .*)?\]:$/, "", st); sig = st; next }
  /^\t/                  { l = $1; sig = sig "|" l; next }
  /^$/                   { next }
  /^created by /         { sig = sig "|" $0; next }
  { f = $0; sub(/\([^()]*\)$/, "", f); sig = sig "|" f }
  END { if (sig != "") c[sig]++; n = 0; for (s in c) n++; print "signatures:  " n " distinct (state + frames, args/ids ignored)" }
' "$OUT"
