#!/bin/sh
# Makes engine-core/src/test/resources/quantize/llama-quantize.sha256: the SHA-256 of llama-quantize's output for
# each (input, type, options) the quantize test checks jgemma's Quantizer against.
#   1. write the inputs:  ./mvnw -q -o -pl engine-core test -Dtest=QuantizerTest -Djgemma.quantize.dumpInputs=DIR
#   2. tools/quantize-refs.sh DIR /path/to/llama-quantize > engine-core/src/test/resources/quantize/llama-quantize.sha256
# llama.cpp used: unslothai/llama.cpp d32676d (the fixtures' snapshot), CPU build.
set -e
dir=$1; lq=$2
[ -d "$dir" ] && [ -x "$lq" ] || { echo "usage: $0 INPUT_DIR LLAMA_QUANTIZE" >&2; exit 2; }
all="F16 BF16 Q8_0 Q4_0 Q4_1 Q5_0 Q5_1 Q2_K Q3_K_S Q3_K_M Q3_K_L Q4_K_S Q4_K_M Q5_K_S Q5_K_M Q6_K"
out=$(mktemp -d)
one() { # input type [options...]
  in=$1; type=$2; shift 2
  lopts=$(echo "$*" | sed 's/--output-tensor-type \([A-Z0-9_]*\)/--output-tensor-type \L\1/')
  # shellcheck disable=SC2086
  "$lq" $lopts "$dir/$in.gguf" "$out/o.gguf" "$type" 2 >"$out/log" 2>&1 || { cat "$out/log" >&2; exit 1; }
  echo "$in $type $* $(sha256sum "$out/o.gguf" | cut -d' ' -f1)" | tr -s ' '
}
echo "# input type [options] sha256 of llama-quantize's output (tools/quantize-refs.sh, llama.cpp d32676d)"
for t in $all; do one tiny-f32 "$t"; done
for t in $all; do one tinymix-f32 "$t"; done
for t in Q2_K Q3_K_M Q4_K_S Q4_K_M; do one tinygqa-f32 "$t"; done
for t in Q8_0 Q4_K_M; do one tiny-f16 "$t"; done
one tinymix-f32 Q4_K_M --pure
one tiny-f32 Q4_K_M --output-tensor-type Q8_0
rm -rf "$out"
