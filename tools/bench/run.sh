#!/usr/bin/env bash
# Whole-process benchmarks with baselines in the same run. Writes inputs under ${BENCH_DIR:-/tmp/ingest-bench}.
#   tools/bench/run.sh            # 1 GB of ordinary logs + a 100,000-goroutine dump
#   LOG_MB=200 tools/bench/run.sh # smaller
# Needs hyperfine and GNU time (apt-get install -y hyperfine time); Go only to make the real dump.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${BENCH_DIR:-/tmp/ingest-bench}
log_mb=${LOG_MB:-1000}
mkdir -p "$dir"
cd "$root"

echo "== build (ReadyToRun, as deployed)"
dotnet publish src/Ingest -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o "$dir/ingest" >/dev/null
dotnet build tests/Ingest.Benchmarks -c Release >/dev/null
bench="dotnet tests/Ingest.Benchmarks/bin/Release/net10.0/Ingest.Benchmarks.dll"

logs="$dir/logs-${log_mb}m.txt"
[ -f "$logs" ] || $bench gen-logs "$logs" "$log_mb"
dump="$dir/bigdump-100k.txt"
if [ ! -f "$dump" ]; then
  if command -v go >/dev/null; then tools/corpus-gen/gen-bigdump.sh "$dump" 100000; else $bench gen-dump "$dump" 100000; fi
fi

echo "== ordinary logs: detection vs grep -c -F 'panic: ' (same file, same run)"
hyperfine -w 2 -r 10 -N -i \
  "grep -c -F 'panic: ' $logs" \
  "$dir/ingest/ingest analyze --json $logs"

echo "== 100,000-goroutine dump: parse, bucket, findings; baseline: wc -l"
hyperfine -w 1 -r 10 -N \
  "wc -l $dump" \
  "$dir/ingest/ingest analyze --json --no-raw $dump"
/usr/bin/time -f "peak RSS %M KB, %e s" "$dir/ingest/ingest" analyze --json --no-raw "$dump" > "$dir/dump.json"
python3 - "$dir/dump.json" <<'PY'
import json,sys
d=json.loads(open(sys.argv[1]).readline())
print(f"goroutines={d['goroutine_count']} buckets={len(d['buckets'])} states={d['states']}")
PY

echo "== in-process single pass (after a warm-up pass)"
$bench measure "$logs"
$bench measure "$dump"

echo "== BenchmarkDotNet (steady state, ratio to the split-only baseline)"
INGEST_BENCH_DUMP="$dump" $bench bdn --filter '*' | grep -E '^\|'
