#!/usr/bin/env bash
# Ordinary logs of every shape (LogShapes: logfmt, nested JSON, klog, access lines, trigger-dense text, long and
# short lines), no runtime output: `ingest analyze --json` against `grep -c -F 'panic: '` on the same file, in
# the same run. Writes inputs under ${BENCH_DIR:-/tmp/ingest-bench}/shapes.
#   tools/bench/shapes.sh            # 200 MB per shape
#   SHAPE_MB=50 tools/bench/shapes.sh
# Needs hyperfine (apt-get install -y hyperfine).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/tmp/ingest-bench}/shapes
mb=${SHAPE_MB:-200}
mkdir -p "$dir"
cd "$root"
dotnet build src/Ingest -c Release >/dev/null
dotnet build tests/Ingest.Benchmarks -c Release >/dev/null
ingest=src/Ingest/bin/Release/net10.0/ingest
[ -f "$dir/logfmt.log" ] || dotnet tests/Ingest.Benchmarks/bin/Release/net10.0/Ingest.Benchmarks.dll gen-shapes "$dir" "$mb"
for f in "$dir"/*.log; do
  echo "== $(basename "$f" .log) ($(du -m "$f" | cut -f1) MB)"
  hyperfine -w 1 -r 5 -N -i --export-markdown "$f.md" \
    "grep -c -F 'panic: ' $f" \
    "$ingest analyze --json $f"
done
