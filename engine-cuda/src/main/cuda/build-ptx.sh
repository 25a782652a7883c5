#!/usr/bin/env bash
# Compiles every kernel file (*.cu) of engine-cuda to PTX for compute capability 8.0 (JIT-compiled by the driver for
# newer GPUs, e.g. the H100 at 9.0) and checks the committed copies under src/main/resources/org/jgemma/cuda/ptx.
#   build-ptx.sh check   (the Maven build, when nvcc is present): compile into target/ptx, fail if a committed file differs
#   build-ptx.sh update  compile and copy into the resources (then commit them)
# Comment lines (// ...) are ignored in the comparison: they hold the compiler's version and build id. So are the
# hashes nvcc puts in the names of internal-linkage symbols (_INTERNAL_<8 hex>_, e.g. a function-local __shared__
# array): nvcc derives them from the source file's absolute path, so every clone compiles different ones.
set -euo pipefail
MODE=${1:-check}
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(cd "$HERE/../../.." && pwd)
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/bin/nvcc)}
OUT="$MODULE/target/ptx"
RES="$MODULE/src/main/resources/org/jgemma/cuda/ptx"
mkdir -p "$OUT" "$RES"
status=0
normalized() { grep -v '^//' "$1" 2>/dev/null | sed -E 's/_INTERNAL_[0-9a-f]{8}_/_INTERNAL_x_/g'; }
for cu in "$HERE"/*.cu; do
  name=$(basename "$cu" .cu)
  "$NVCC" -ptx -arch=compute_80 -O3 -std=c++17 -o "$OUT/$name.ptx" "$cu"
  if [ "$MODE" = update ]; then
    cp "$OUT/$name.ptx" "$RES/$name.ptx"
  elif ! cmp -s <(normalized "$OUT/$name.ptx") <(normalized "$RES/$name.ptx"); then
    echo "PTX out of date: $RES/$name.ptx differs from the one compiled from $cu." >&2
    echo "  Run engine-cuda/src/main/cuda/build-ptx.sh update (or cp $OUT/$name.ptx $RES/) and commit it." >&2
    status=1
  fi
done
# every committed PTX must have its source
for ptx in "$RES"/*.ptx; do
  [ -e "$ptx" ] || continue
  [ -f "$HERE/$(basename "$ptx" .ptx).cu" ] || { echo "stale PTX $ptx: no $(basename "$ptx" .ptx).cu" >&2; status=1; }
done
(cd "$RES" && ls *.ptx | sort > "$OUT/index.txt")
if [ "$MODE" = update ]; then cp "$OUT/index.txt" "$RES/index.txt"
elif ! cmp -s "$OUT/index.txt" "$RES/index.txt"; then echo "PTX index $RES/index.txt is out of date (run build-ptx.sh update)" >&2; status=1; fi
exit $status
