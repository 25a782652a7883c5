#!/usr/bin/env bash
# Side by side: llama.cpp's llama-bench and `bin/jgemma bench --json` on the same GGUF file, in one run,
# printing both tokens/s and the ratio (jgemma / llama.cpp). Every speed claim of this project comes from here.
#
#   tools/side-by-side.sh MODEL.gguf [-p 512] [-n 128] [-r 3] [-t THREADS] [--backend cpu|cuda|opencl] \
#                         [--llama-bench /path/to/llama-bench] [--llama-args "-fa on -ngl 99"] [--rounds N]
#
# Without --llama-bench (or $LLAMA_BENCH) only jgemma runs. Needs python3 to read the JSON.
# --rounds N (default 1) runs the two engines N times, alternating (llama.cpp, jgemma, llama.cpp, ...), and prints
# each round's numbers and ratio, then the median ratio and its spread (min..max): on a shared machine only the
# ratios of one alternating run mean anything.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,9p' "$0"; exit 2; }
model=$1; shift
p=512; n=128; r=3; t=""; backend=cpu; lb=${LLAMA_BENCH-}; largs=""; rounds=1
while [ $# -gt 0 ]; do
  case $1 in
    -p) p=$2; shift 2;; -n) n=$2; shift 2;; -r) r=$2; shift 2;; -t) t=$2; shift 2;;
    --backend) backend=$2; shift 2;; --llama-bench) lb=$2; shift 2;; --llama-args) largs=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    *) echo "unknown option $1" >&2; exit 2;;
  esac
done
[ -f "$model" ] || { echo "no such model file: $model" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(date -u +%F)"
echo "model:   $model"
for round in $(seq "$rounds"); do
  if [ -n "$lb" ]; then
    # shellcheck disable=SC2086
    "$lb" -m "$model" -p "$p" -n "$n" -r "$r" ${t:+-t $t} $largs -o json > "$tmp/llama-$round.json"
  else
    echo '[]' > "$tmp/llama-$round.json"
  fi
  "$root/bin/jgemma" bench "$model" -p "$p" -n "$n" -r "$r" --backend "$backend" ${t:+--threads $t} --json > "$tmp/jgemma-$round.json"
done
python3 - "$tmp" "$rounds" "$p" "$n" "$backend" "${t:-all}" "$lb" "$largs" <<'PY'
import json, sys, statistics
tmp, rounds = sys.argv[1], int(sys.argv[2])
p, n, backend, threads, lb, largs = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
def lc(llama, kind):
    for e in llama:
        if kind == "pp" and e.get("n_prompt") == p and e.get("n_gen") == 0: return e["avg_ts"], e["stddev_ts"]
        if kind == "tg" and e.get("n_gen") == n and e.get("n_prompt") == 0: return e["avg_ts"], e["stddev_ts"]
    return None
print(f"jgemma backend: {backend}, threads: {threads}" + (f"; llama.cpp: {lb} {largs}" if lb else ""))
print(f"{'test':<8}{'round':>6}{'llama.cpp t/s':>18}{'jgemma t/s':>18}{'ratio':>8}")
for kind, count in (("pp", p), ("tg", n)):
    if count == 0: continue
    ratios, ls_, js_ = [], [], []
    for i in range(1, rounds + 1):
        llama = json.load(open(f"{tmp}/llama-{i}.json")); jg = json.load(open(f"{tmp}/jgemma-{i}.json"))
        if kind not in jg: continue
        j = jg[kind]["tokens_per_second"]; l = lc(llama, kind)
        js_.append(j["mean"])
        ls = f"{l[0]:.2f} ± {l[1]:.2f}" if l else "-"
        if l: ls_.append(l[0]); ratios.append(j["mean"] / l[0])
        print(f"{kind}{count:<6}{i:>6}{ls:>18}{j['mean']:>11.2f} ± {j['stddev']:.2f}{(f'{ratios[-1]:.2f}x' if l else '-'):>8}")
    if rounds > 1 and js_:
        lm = f"{statistics.median(ls_):.2f}" if ls_ else "-"
        rm = f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f})" if ratios else "-"
        print(f"{kind}{count:<6}{'median':>6}{lm:>18}{statistics.median(js_):>18.2f}  {rm}")
PY
