#!/usr/bin/env bash
# Compiles the CUDA kernels (../*.cu, unchanged) for the CPU with g++ and the shim (cuda_host.h, runtime.cpp) into a
# shared library the host driver loads through java.lang.foreign (org.jgemma.cuda.HostDriver):
#   build-host.sh OUT_DIR          -O2, the library CI and `JGEMMA_CUDA_DRIVER=host` use
#   build-host.sh OUT_DIR asan     -O1 -fsanitize=address,undefined (HostSanitizerTest loads it with libasan preloaded)
# Kernel names come from the committed PTX (.entry lines), so the host library registers exactly the kernels the GPU
# has. Skips with a message (exit 0) where g++ is missing: the host-driver tests then say why they are skipped.
set -euo pipefail
OUT=${1:?usage: build-host.sh OUT_DIR [asan]}
VARIANT=${2:-release}
HERE=$(cd "$(dirname "$0")" && pwd)
CUDA_DIR=$(cd "$HERE/.." && pwd)
PTX_DIR=$(cd "$CUDA_DIR/../resources/org/jgemma/cuda/ptx" && pwd)
CXX=${CXX:-g++}
if ! command -v "$CXX" >/dev/null 2>&1; then
  echo "[engine-cuda] $CXX not found: the CUDA host library (kernels compiled for the CPU) is not built;" \
       "the host-driver tests will be skipped. Install g++ to run the CUDA kernels on the CPU." >&2
  exit 0
fi
if [ "$(uname -m)" != x86_64 ]; then
  echo "[engine-cuda] the CUDA host shim switches fibers with x86-64 assembly; not built on $(uname -m)" >&2
  exit 0
fi
case "$VARIANT" in
  release) LIB=libjgemma_cuda_host.so; FLAGS="-O2" ;;
  asan)    LIB=libjgemma_cuda_host_asan.so; FLAGS="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all" ;;
  *) echo "unknown variant $VARIANT" >&2; exit 2 ;;
esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
if [ -f "$OUT/$LIB" ] && [ -z "$(find "$CUDA_DIR" "$PTX_DIR" -newer "$OUT/$LIB" -type f | head -1)" ]; then
  exit 0  # up to date
fi
OBJ="$OUT/obj-$VARIANT"
rm -rf "$OBJ"
mkdir -p "$OBJ"
COMMON="-std=c++17 -fPIC -fno-strict-aliasing -ffp-contract=off -Wall -Wno-unknown-pragmas -Wno-unused-function -Wno-unused-variable -Wno-sign-compare"
for cu in "$CUDA_DIR"/*.cu; do
  m=$(basename "$cu" .cu)
  [ -f "$PTX_DIR/$m.ptx" ] || { echo "no committed PTX for $cu (run build-ptx.sh update)" >&2; exit 1; }
  {
    echo "#include \"$cu\""
    echo "#include \"hc_register.h\""
    grep -oE '\.entry[[:space:]]+[A-Za-z_][A-Za-z0-9_]*' "$PTX_DIR/$m.ptx" | awk '{print "HC_KERNEL(" $2 ")"}'
  } > "$OBJ/$m.cpp"
done
cp "$HERE/runtime.cpp" "$OBJ/zz_runtime.cpp"
start=$(date +%s)
# shellcheck disable=SC2086
ls "$OBJ"/*.cpp | xargs -P "$(nproc)" -I{} sh -c \
  "$CXX $COMMON $FLAGS -include '$HERE/cuda_host.h' -I'$HERE' -I'$CUDA_DIR' -c '{}' -o '{}.o' || exit 255"
# shellcheck disable=SC2086
$CXX -shared $FLAGS -o "$OUT/$LIB.tmp" "$OBJ"/*.o -lpthread
mv "$OUT/$LIB.tmp" "$OUT/$LIB"
echo "[engine-cuda] built $OUT/$LIB ($VARIANT, $(( $(date +%s) - start )) s)" >&2
