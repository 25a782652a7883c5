#!/usr/bin/env bash
# The CUDA backend on a GPU machine, as one prepared script (the device budget is ~15 minutes in all: every phase has
# a timeout, and the script keeps going after a failed phase so one run gives everything):
#   1. the device (nvidia-smi)
#   2. the engine-cuda suites on the GPU (JCuda driver): conformance at real shapes, replay vs eager, sessions, fixture
#      logits end to end - what CI runs on the host driver (the same kernels compiled for the CPU)
#   3. a decode with graphs and the fixture protocol under compute-sanitizer memcheck, then racecheck
#      (CudaStepReplayTest + tiny fixtures; shared-memory races, out-of-bounds and misaligned accesses on the device)
#   4. llama.cpp (CUDA) beside this engine on the same synthetic gemma3 files: ../shared/device/anchor.sh builds
#      llama-bench and makes the files, then `jgemma bench --backend cuda --json` (tokens/s and launches_per_token)
#
# Here (no GPU needed), from the repository root:
#     ../shared/device/bundle.sh                                    # classes, jars, a Java 25 runtime into .device/
#     cp ../shared/device/{anchor.sh,llamacpp-src.tar.xz,tokenizer.json.xz,tokenizer_config.json.xz} \
#        ../shared/tools/gemma3_synth.py .device/                   # for phase 4
# There (working tree + .device carried), from the repository root:
#     engine-cuda/run-on-gpu.sh [SIZES]        # SIZES of phase 4, default "1b" (also 4b, 12b: each takes minutes)
# Results: ${OUT:-/tmp/jgemma-cuda}/run-on-gpu.log, JUnit reports under .../junit*, bench JSON in .../bench-*.json.
set -uo pipefail
cd "$(dirname "$0")/.."
B=.device
OUT=${OUT:-/tmp/jgemma-cuda}
SIZES=${*:-1b}
mkdir -p "$OUT"
exec > >(tee "$OUT/run-on-gpu.log") 2>&1
[ -x "$B/run-tests.sh" ] || { echo "no $B/run-tests.sh: run ../shared/device/bundle.sh here first and carry .device"; exit 2; }
status=0
phase() { echo; echo "== $* ($(date -u +%H:%M:%S))"; }

phase "1. device"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi failed"

phase "2. engine-cuda suites on the GPU (JCuda driver)"
# no jgemma.cuda.driver property and no JGEMMA_CUDA_DRIVER: the JCuda driver. Skips would mean the probe failed.
unset JGEMMA_CUDA_DRIVER
timeout 300 "$B/run-tests.sh" --select-package org.jgemma.cuda --select-class org.jgemma.model.CudaGemma3FixtureTest \
  --exclude-classname 'org.jgemma.cuda.HostSanitizerTest' --details=summary --disable-banner --reports-dir "$OUT/junit" \
  || { echo "suites: exit $?"; status=1; }
grep -h -o 'backend unavailable: [^]]*' "$OUT"/junit/*.xml 2>/dev/null | sort | uniq -c | head -5

if command -v compute-sanitizer >/dev/null; then
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
      timeout 180 "$B/java" -cp "$(cat "$B/classpath")" org.jgemma.cli.Main bench "$f" --backend cuda -p 512 -n 128 -r 3 --json \
        | tee "$OUT/bench-$s-$q.json"
      echo "-- the same prompt through the 8-column mat-vec (JGEMMA_CUDA_PREFILL=matvec): what the prefill tiles gain"
      JGEMMA_CUDA_PREFILL=matvec timeout 120 "$B/java" -cp "$(cat "$B/classpath")" org.jgemma.cli.Main bench "$f" --backend cuda \
        -p 512 -n 0 -r 3 --json | tee "$OUT/bench-$s-$q-matvec.json"
    done
  done
else
  echo "no $B/anchor.sh: copy ../shared/device/anchor.sh and its files into .device first (see the header)"
fi
phase "done: exit $status"
exit $status
