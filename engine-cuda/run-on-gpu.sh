#!/usr/bin/env bash
# The CUDA backend on the GPU machine, in one command: device info, the engine-cuda tests (host logic, the conformance
# suite against the reference backend, the fixture logits end to end), then `jgemma bench --backend cuda` on each
# model given (e.g. the synthetic gemma3 files that ../shared/device/anchor.sh makes under /root/anchor/m).
#
# Here (no GPU needed), from the repository root:
#     ../shared/device/bundle.sh                       # builds the project into .device/ (git-ignored)
# There (working tree + .device carried), from the repository root:
#     engine-cuda/run-on-gpu.sh [MODEL.gguf ...]       # bench args: BENCH_ARGS (default "-p 512 -n 128 -r 3")
# Results: test reports under ${OUT:-/tmp/jgemma-cuda}/junit, console log in .../run-on-gpu.log.
set -uo pipefail
cd "$(dirname "$0")/.."
B=.device
OUT=${OUT:-/tmp/jgemma-cuda}
mkdir -p "$OUT/junit"
LOG="$OUT/run-on-gpu.log"
exec > >(tee "$LOG") 2>&1
[ -x "$B/run-tests.sh" ] || { echo "no $B/run-tests.sh: run ../shared/device/bundle.sh here first and carry .device"; exit 2; }

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv || echo "nvidia-smi failed"

echo "== engine-cuda tests (Java: $B/java)"
"$B/run-tests.sh" --select-package org.jgemma.cuda --select-class org.jgemma.model.CudaGemma3FixtureTest \
  --details=tree --disable-banner --reports-dir "$OUT/junit"
tests=$?
echo "tests exit code: $tests"
# a skipped suite on this machine would mean the probe failed: show why
grep -h -o 'backend unavailable: [^]]*' "$OUT"/junit/*.xml 2>/dev/null | sort | uniq -c | head -5

if [ $# -gt 0 ]; then
  echo "== bench (cuda)"
  for m in "$@"; do
    echo "-- $m"
    if grep -q 'org/jgemma/cli\|engine-cli' "$B/classpath"; then
      # shellcheck disable=SC2086
      "$B/java" -cp "$(cat "$B/classpath")" org.jgemma.cli.Main bench "$(realpath "$m")" --backend cuda ${BENCH_ARGS:--p 512 -n 128 -r 3}
    else
      echo "engine-cli is not in the bundle: merge the api branch and rerun bundle.sh"
    fi
  done
fi
exit $tests
