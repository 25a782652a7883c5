"""Writes quant-blocks.bin.gz: random packed rows of every GGML type the OpenCL backend reads, with gguf-py's
dequantization of them (an independent reference for the kernels' block decoding).

Run from the repo root:
  PYTHONPATH=/tmp/lc/llamacpp/gguf-py /tmp/venv/bin/python engine-opencl/src/test/python/make_quant_fixture.py

Layout (little-endian): b"JGQF", int32 count, then per type: int32 ggml type id, int32 rows, int32 cols,
int32 nbytes, nbytes packed bytes, rows*cols float32 dequantized values.
"""
import gzip
import struct

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import quants
from gguf.constants import GGML_QUANT_SIZES

OUT = "engine-opencl/src/test/resources/org/jgemma/opencl/quant-blocks.bin.gz"
rng = np.random.default_rng(20240611)

# fp16 field byte offsets in each block (the scales); all other bytes are random
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}
ROWS = 4

def packed(t, cols):
    if t == T.F32:
        return rng.standard_normal(ROWS * cols).astype("<f4").tobytes()
    if t == T.F16:
        return rng.standard_normal(ROWS * cols).astype("<f2").tobytes()
    if t == T.BF16:
        f = rng.standard_normal(ROWS * cols).astype("<f4").view("<u4")
        return (f >> 16).astype("<u2").tobytes()
    bs, ts = GGML_QUANT_SIZES[t]
    nblocks = ROWS * cols // bs
    raw = rng.integers(0, 256, size=(nblocks, ts), dtype=np.uint8)
    for off in HALF_FIELDS[t]:
        h = rng.uniform(0.001, 0.05, size=nblocks).astype("<f2") * rng.choice([-1, 1], size=nblocks).astype("<f2")
        raw[:, off:off + 2] = h.view(np.uint8).reshape(nblocks, 2)
    return raw.tobytes()

types = [(T.F32, 200), (T.F16, 200), (T.BF16, 200), (T.Q8_0, 512), (T.Q4_0, 512), (T.Q4_1, 512), (T.Q5_0, 512),
         (T.Q5_1, 512), (T.Q4_K, 512), (T.Q5_K, 512), (T.Q6_K, 512)]
out = bytearray(b"JGQF" + struct.pack("<i", len(types)))
for t, cols in types:
    data = packed(t, cols)
    arr = np.frombuffer(data, dtype=np.uint8).reshape(ROWS, -1)
    deq = quants.dequantize(arr, t).astype("<f4").reshape(ROWS, cols)
    assert np.all(np.isfinite(deq)), t
    out += struct.pack("<iiii", int(t), ROWS, cols, len(data)) + data + deq.tobytes()
with gzip.open(OUT, "wb") as f:
    f.write(bytes(out))
print(OUT, len(out), "bytes")
