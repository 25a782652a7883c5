#!/usr/bin/env bash
# Starts `bin/jgemma serve` on a free loopback port over one GGUF file, runs tools/serve-bench.mjs against it for
# each concurrency given, and stops the server. A benchmark, not a test (speeds depend on the machine and its load).
#
#   tools/serve-bench.sh MODEL.gguf [--parallel 4] [--concurrency "1 4 8"] [--requests 32] [--num-predict 64] [--backend cpu]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:?usage: serve-bench.sh MODEL.gguf [--parallel N] [--concurrency "1 4 8"] [--requests N] [--num-predict T] [--backend B]}
shift
parallel=4 concurrency="1 4 8" requests=32 predict=64 backend=auto
while [ $# -gt 0 ]; do
  case $1 in
    --parallel) parallel=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --requests) requests=$2; shift 2 ;;
    --num-predict) predict=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
dir=$(mktemp -d)
ln -s "$(cd "$(dirname "$model")" && pwd)/$(basename "$model")" "$dir/"
name=$(basename "$model" .gguf)
log=$dir/serve.log
# its own process group, so that stopping it stops the launcher and the JVM under it
setsid "$root/bin/jgemma" serve --port 0 --no-ollama-store --models "$dir" --parallel "$parallel" --backend "$backend" 2>"$log" &
pid=$!
trap 'rc=$?; kill -- -$pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$dir"; exit $rc' EXIT
for _ in $(seq 600); do grep -q 'listening on' "$log" && break; sleep 0.1; done
url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1)
[ -n "$url" ] || { cat "$log" >&2; exit 1; }
for c in $concurrency; do
  node "$root/tools/serve-bench.mjs" --url "$url" --model "$name" --concurrency "$c" --requests "$requests" --num-predict "$predict" --json
done
