#!/usr/bin/env bash
# Side by side: llama.cpp's llama-bench and `bin/jgemma bench --json` on the same GGUF file, in one run,
# printing both tokens/s and the ratio (jgemma / llama.cpp). Every speed claim of this project comes from here.
#
#   tools/side-by-side.sh MODEL.gguf [-p 512] [-n 128] [-r 3] [-t THREADS] [--backend cpu|cuda|opencl] \
#                         [--llama-bench /path/to/llama-bench] [--llama-args "-fa on -ngl 99"]
#
# Without --llama-bench (or $LLAMA_BENCH) only jgemma runs. Needs python3 to read the JSON.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,9p' "$0"; exit 2; }
model=$1; shift
p=512; n=128; r=3; t=""; backend=cpu; lb=${LLAMA_BENCH-}; largs=""
while [ $# -gt 0 ]; do
  case $1 in
    -p) p=$2; shift 2;; -n) n=$2; shift 2;; -r) r=$2; shift 2;; -t) t=$2; shift 2;;
    --backend) backend=$2; shift 2;; --llama-bench) lb=$2; shift 2;; --llama-args) largs=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -f "$model" ] || { echo "no such model file: $model" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "model:   $model"
if [ -n "$lb" ]; then
  # shellcheck disable=SC2086
  "$lb" -m "$model" -p "$p" -n "$n" -r "$r" ${t:+-t $t} $largs -o json > "$tmp/llama.json"
else
  echo '[]' > "$tmp/llama.json"
fi
"$root/bin/jgemma" bench "$model" -p "$p" -n "$n" -r "$r" --backend "$backend" ${t:+--threads $t} --json > "$tmp/jgemma.json"
python3 - "$tmp/llama.json" "$tmp/jgemma.json" "$p" "$n" "$backend" "${t:-all}" "$lb" "$largs" <<'PY'
import json, sys
llama = json.load(open(sys.argv[1])); jg = json.load(open(sys.argv[2]))
p, n, backend, threads, lb, largs = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
def lc(kind):
    for e in llama:
        if kind == "pp" and e.get("n_prompt") == p and e.get("n_gen") == 0: return e["avg_ts"], e["stddev_ts"]
        if kind == "tg" and e.get("n_gen") == n and e.get("n_prompt") == 0: return e["avg_ts"], e["stddev_ts"]
    return None
print(f"jgemma backend: {backend}, threads: {threads}" + (f"; llama.cpp: {lb} {largs}" if lb else ""))
print(f"{'test':<8}{'llama.cpp t/s':>18}{'jgemma t/s':>18}{'ratio':>8}")
for kind, count in (("pp", p), ("tg", n)):
    j = jg[kind]["tokens_per_second"]; l = lc(kind)
    ls = f"{l[0]:.2f} ± {l[1]:.2f}" if l else "-"
    ratio = f"{j['mean'] / l[0]:.2f}x" if l else "-"
    print(f"{kind}{count:<6}{ls:>18}{j['mean']:>11.2f} ± {j['stddev']:.2f}{ratio:>8}")
PY
