#!/usr/bin/env bash
# Builds the CPU backend's native int8 kernels (jgemma_cpu.c) into OUT_DIR/libjgemma_cpu.so, which the Maven build
# puts into engine-cpu's jar (org/jgemma/cpu/native/linux-x86_64/) and org.jgemma.cpu.NativeKernels loads.
#   build-native.sh OUT_DIR
# Only the kernels carry the AVX2/FMA/F16C target attribute; the library loads on any x86-64 CPU and says whether it
# can run (jg_cpu_supported). Skips with a message (exit 0) where no C compiler is found or the machine is not
# x86-64 Linux: the CPU backend then runs its Vector API kernels (NativeKernels.describe() says why).
set -euo pipefail
OUT=${1:?usage: build-native.sh OUT_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC="$HERE/jgemma_cpu.c"
CC=${CC:-}
if [ -z "$CC" ]; then
  for c in gcc cc clang; do command -v "$c" >/dev/null 2>&1 && { CC=$c; break; }; done
fi
if [ -z "$CC" ]; then
  echo "[engine-cpu] no C compiler (gcc, cc, clang) found: the native int8 kernels are not built; the CPU backend" \
       "runs its Vector API kernels (slower on x86-64). Install gcc to build them." >&2
  exit 0
fi
if [ "$(uname -s)" != Linux ] || [ "$(uname -m)" != x86_64 ]; then
  echo "[engine-cpu] the native int8 kernels are written for x86-64 (AVX2); not built on $(uname -s) $(uname -m)" >&2
  exit 0
fi
mkdir -p "$OUT"
LIB="$OUT/libjgemma_cpu.so"
if [ -f "$LIB" ] && [ "$LIB" -nt "$SRC" ] && [ "$LIB" -nt "$0" ]; then
  exit 0  # up to date
fi
# -ffp-contract=off: no fused multiply-adds the source does not ask for, so results do not depend on the compiler's choice
"$CC" -O2 -std=c11 -fPIC -shared -Wall -Wextra -Werror -ffp-contract=off -o "$LIB.tmp" "$SRC"
mv "$LIB.tmp" "$LIB"
echo "[engine-cpu] built $LIB ($CC)" >&2
