#!/usr/bin/env bash
# Ordinary logs of every shape (LogShapes: logfmt, nested JSON, klog, access lines, trigger-dense text, long and
# short lines), no runtime output: `ingest analyze --json` against `grep -c -F 'panic: '` on the same file,
# timed in turns (tools/bench/alternate.py). Writes inputs under ${BENCH_DIR:-/tmp/ingest-bench}/shapes.
#   tools/bench/shapes.sh            # 200 MB per shape
#   SHAPE_MB=50 tools/bench/shapes.sh
# Needs python3 and GNU time; clang for the native CLI (apt-get install -y clang zlib1g-dev time).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${BENCH_DIR:-/tmp/ingest-bench}
dir=$out/shapes
mb=${SHAPE_MB:-200}
mkdir -p "$dir"
cd "$root"
dotnet publish src/Ingest -c Release -o "$out/jit" >/dev/null
builds=("$out/jit/ingest")
if command -v clang >/dev/null; then
  dotnet publish src/Ingest -c Release -r linux-x64 -p:IngestCli=true -o "$out/cli" >/dev/null
  builds=("$out/cli/ingest" "${builds[@]}")
fi
dotnet build tests/Ingest.Benchmarks -c Release >/dev/null
[ -f "$dir/logfmt.log" ] || dotnet tests/Ingest.Benchmarks/bin/Release/net10.0/Ingest.Benchmarks.dll gen-shapes "$dir" "$mb"
for f in "$dir"/*.log; do
  echo "== $(basename "$f" .log) ($(du -m "$f" | cut -f1) MB)"
  cmds=("grep -c -F 'panic: ' $f")
  for b in "${builds[@]}"; do cmds+=("$b analyze --json $f"); done
  python3 tools/bench/alternate.py --rounds 10 --warmup 2 --markdown "${cmds[@]}"
done
