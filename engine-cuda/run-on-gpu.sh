#!/usr/bin/env bash
# The CUDA backend on a GPU machine, as one prepared script (the device budget is ~15 minutes in all: every phase has
# a timeout, and the script keeps going after a failed phase so one run gives everything):
#   1. the device (nvidia-smi)
#   2. the engine-cuda suites on the GPU (JCuda driver): conformance at real shapes, replay vs eager, sessions, fixture
#      logits end to end - what CI runs on the host driver (the same kernels compiled for the CPU)
#   3. a decode with graphs and the fixture protocol under compute-sanitizer memcheck, then racecheck
#      (CudaStepReplayTest + tiny fixtures; shared-memory races, out-of-bounds and misaligned accesses on the device)
#   4. llama.cpp (CUDA) beside this engine on the same synthetic gemma3 files (Q4_K_M and Q8_0 of each size):
#      ../shared/device/anchor.sh builds llama-bench and makes the files, then `jgemma bench --backend cuda --json`
#      (tokens/s, launches_per_token, and the step model: bytes each kernel reads per token, from which the achieved
#      read bandwidth of a decode token is printed: tg t/s x bytes_read)
#   5. ncu (Nsight Compute) on the three kernels that read the most bytes per token (from phase 4's step model, 1B
#      Q4_K_M): speed of light and memory workload, one launch of each inside the replayed graph
#
# Here (no GPU needed), from the repository root:
#     ../shared/device/bundle.sh                                    # classes, jars, a Java 25 runtime into .device/
#     cp ../shared/device/{anchor.sh,llamacpp-src.tar.xz,tokenizer.json.xz,tokenizer_config.json.xz} \
#        ../shared/tools/gemma3_synth.py .device/                   # for phase 4
# There (working tree + .device carried), from the repository root:
#     engine-cuda/run-on-gpu.sh [SIZES]        # SIZES of phase 4, default "1b 4b 12b" (each file takes minutes)
#     PHASES="4 5" engine-cuda/run-on-gpu.sh 1b # only some phases (default "1 2 3 4 5")
# Results: ${OUT:-/tmp/jgemma-cuda}/run-on-gpu.log, JUnit reports under .../junit*, bench JSON in .../bench-*.json,
# ncu reports in .../ncu-*.txt. Every command it runs except nvidia-smi, compute-sanitizer, ncu and anchor.sh also runs
# on the host driver (JGEMMA_CUDA_DRIVER=host: the kernels on the CPU), which is how CI checks it without a GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
B=.device
OUT=${OUT:-/tmp/jgemma-cuda}
SIZES=${*:-1b 4b 12b}
PHASES=${PHASES:-1 2 3 4 5}
want() { case " $PHASES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
mkdir -p "$OUT"
exec > >(tee "$OUT/run-on-gpu.log") 2>&1
[ -x "$B/run-tests.sh" ] || { echo "no $B/run-tests.sh: run ../shared/device/bundle.sh here first and carry .device"; exit 2; }
status=0
phase() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

JAVA=("$B/java" -cp "$(cat "$B/classpath" 2>/dev/null)")
if want 1; then
phase "1. device"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi failed"
fi

if want 2; then
phase "2. engine-cuda suites on the GPU (JCuda driver)"
# no jgemma.cuda.driver property and no JGEMMA_CUDA_DRIVER: the JCuda driver. Skips would mean the probe failed.
unset JGEMMA_CUDA_DRIVER
timeout 300 "$B/run-tests.sh" --select-package org.jgemma.cuda --select-class org.jgemma.model.CudaGemma3FixtureTest \
  --exclude-classname 'org.jgemma.cuda.HostSanitizerTest' --details=summary --disable-banner --reports-dir "$OUT/junit" \
  || { echo "suites: exit $?"; status=1; }
grep -h -o 'backend unavailable: [^]]*' "$OUT"/junit/*.xml 2>/dev/null | sort | uniq -c | head -5
fi

if ! want 3; then :
elif command -v compute-sanitizer >/dev/null; then
  for tool in memcheck racecheck; do
    phase "3. compute-sanitizer --tool $tool"
    timeout 240 compute-sanitizer --tool "$tool" --target-processes all --error-exitcode 86 --print-limit 20 \
      "$B/run-tests.sh" --select-class org.jgemma.cuda.CudaStepReplayTest \
      --select-method 'org.jgemma.model.CudaGemma3FixtureTest#fixtureProtocol(java.lang.String,java.lang.String)' \
      --details=summary --disable-banner --reports-dir "$OUT/junit-$tool" \
      || { echo "$tool: exit $? (86: the sanitizer found errors; 124: timeout)"; status=1; }
  done
else
  echo "compute-sanitizer not found (CUDA toolkit bin not on PATH?)"; status=1
fi

# the achieved read bandwidth of a decode token from a bench JSON: tg t/s x the step model's bytes read per token
achieved() {
  python3 - "$1" <<'PY' || true
import json, sys
j = json.load(open(sys.argv[1]))
tg = j.get("tg", {}).get("tokens_per_second", {}).get("mean", 0)
m = j.get("step_model", {})
b = m.get("bytes_read", 0)
top = sorted(m.get("kernels", []), key=lambda k: -k["bytes_read"])[:5]
print(f"{sys.argv[1]}: tg {tg} t/s, {j.get('launches_per_token')} launches and {b/1e6:.1f} MB read per token"
      f" -> {tg*b/1e9:.0f} GB/s achieved (the copy ceiling measured from Java on an H100: 2840 GB/s read + write)")
for k in top:
    print(f"    {k['kernel']:<28} x{k['launches']:<4} {k['bytes_read']/1e6:9.2f} MB")
PY
}

if want 4; then
phase "4. bench beside llama.cpp: $SIZES"
if [ -x "$B/anchor.sh" ]; then
  timeout 420 "$B/anchor.sh" build || echo "llama.cpp build failed or timed out"
  for s in $SIZES; do
    timeout 300 "$B/anchor.sh" model "$s" || { echo "model $s: failed"; continue; }
    timeout 120 "$B/anchor.sh" bench "$s"
    for q in q4_k_m q8_0; do
      f=/root/anchor/m/$s/gemma3-$s-$q.gguf
      [ -f "$f" ] || continue
      echo "-- jgemma bench --backend cuda $f"
      timeout 180 "${JAVA[@]}" org.jgemma.cli.Main bench "$f" --backend cuda -p 512 -n 128 -r 3 --json \
        | tee "$OUT/bench-$s-$q.json"
      achieved "$OUT/bench-$s-$q.json"
      echo "-- the same prompt through the 8-column mat-vec (JGEMMA_CUDA_PREFILL=matvec): what the prefill tiles gain"
      JGEMMA_CUDA_PREFILL=matvec timeout 120 "$B/java" -cp "$(cat "$B/classpath")" org.jgemma.cli.Main bench "$f" --backend cuda \
        -p 512 -n 0 -r 3 --json | tee "$OUT/bench-$s-$q-matvec.json"
    done
  done
else
  echo "no $B/anchor.sh: copy ../shared/device/anchor.sh and its files into .device first (see the header)"
fi
fi

if want 5; then
phase "5. ncu on the three kernels reading the most bytes per token (1B Q4_K_M)"
f=/root/anchor/m/1b/gemma3-1b-q4_k_m.gguf
if ! command -v ncu >/dev/null; then echo "ncu not found (CUDA toolkit bin not on PATH?)"; status=1
elif [ ! -f "$f" ]; then echo "no $f (phase 4 makes it)"
else
  kernels=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["step_model"]["kernels"]; print(" ".join(k["kernel"] for k in sorted(m, key=lambda k: -k["bytes_read"])[:3]))' \
    "$OUT/bench-1b-q4_k_m.json" 2>/dev/null || echo "mul_mv_geglu_q mul_mv3_q mul_mv_q4_k_f32")
  for k in $kernels; do
    echo "-- ncu $k"
    # the decode step is replayed as a graph from the third token on: skip the prompt and the first launches
    timeout 150 ncu --kernel-name "regex:^${k}(_nc[0-9]+)?\$" --launch-skip 40 --launch-count 1 --graph-profiling node \
      --section SpeedOfLight --section MemoryWorkloadAnalysis --section LaunchStats \
      "${JAVA[@]}" org.jgemma.cli.Main bench "$f" --backend cuda -p 0 -n 16 -r 1 --warmup 0 > "$OUT/ncu-$k.txt" 2>&1 \
      || { echo "ncu $k: exit $?"; status=1; }
    grep -E "Memory Throughput|DRAM Throughput|Duration|Registers Per Thread|Achieved Occupancy" "$OUT/ncu-$k.txt" | head -8
  done
fi
fi
phase "done: exit $status"
exit $status
