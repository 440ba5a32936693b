#!/usr/bin/env bash
# Re-vendors Chart.js from npm into wwwroot/vendor (the committed copy is what the worker serves; no CDN at run time).
# Usage: src/Ingest/Dashboard/vendor.sh   (needs npm)
set -euo pipefail
cd "$(dirname "$0")"
version=$(python3 -c 'import json;print(json.load(open("package.json"))["dependencies"]["chart.js"])')
tmp=$(mktemp -d)
(cd "$tmp" && npm pack "chart.js@${version}" >/dev/null && tar xzf chart.js-*.tgz)
cp "$tmp/package/dist/chart.umd.min.js" wwwroot/vendor/chart.umd.min.js
cp "$tmp/package/LICENSE.md" wwwroot/vendor/chart.js.LICENSE.md
sha256sum wwwroot/vendor/chart.umd.min.js
rm -rf "$tmp"
