#!/usr/bin/env python3
"""Reference files for GgufWriterTest, written by llama.cpp's own gguf-py GGUFWriter.

  PYTHONPATH=/tmp/lc/llamacpp/gguf-py /tmp/venv/bin/python tools/gguf/make-writer-golden.py \
      engine-core/src/test/resources/gguf

all-types.gguf: one key of every scalar type, a non-empty array of every element type, five tensors
(F32, F16, Q8_0, Q4_K, I32) with byte pattern data, default alignment 32.
align64.gguf: the same tensors with general.alignment = 64 and two keys.
GgufWriterTest builds the same content with GgufWriter and asserts identical bytes.
"""
import sys
import numpy as np
from gguf import GGUFWriter, GGUFValueType as T, GGMLQuantizationType as Q

def pattern(n, k):  # byte i of tensor k: (i * 7 + k * 13) & 0xFF
    return ((np.arange(n, dtype=np.int64) * 7 + k * 13) & 0xFF).astype(np.uint8)

# name, type, ne (ne[0] fastest), bytes
TENSORS = [("tok.weight", Q.F32, [3, 5], 60), ("h", Q.F16, [7], 14), ("blk.0.q8", Q.Q8_0, [64, 2], 136),
           ("blk.0.q4k", Q.Q4_K, [256, 1, 1, 1], 144), ("ids", Q.I32, [2, 2, 2], 32)]

def add_tensors(w):
    for k, (name, qt, ne, nbytes) in enumerate(TENSORS):
        rows = int(np.prod(ne[1:])) if len(ne) > 1 else 1
        byte_shape = list(reversed(ne[1:])) + [nbytes // rows]
        w.add_tensor(name, pattern(nbytes, k).reshape(byte_shape), raw_shape=byte_shape, raw_dtype=qt)

def write(path, fill):
    w = GGUFWriter(path, arch=None)
    fill(w)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()

def all_types(w):
    w.add_key_value("t.u8", 200, T.UINT8)
    w.add_key_value("t.i8", -100, T.INT8)
    w.add_key_value("t.u16", 65000, T.UINT16)
    w.add_key_value("t.i16", -32000, T.INT16)
    w.add_key_value("t.u32", 4000000000, T.UINT32)
    w.add_key_value("t.i32", -2000000000, T.INT32)
    w.add_key_value("t.f32", 1.5e-3, T.FLOAT32)
    w.add_key_value("t.bool", True, T.BOOL)
    w.add_key_value("t.str", "héllo \u2603 world", T.STRING)
    w.add_key_value("t.u64", 18000000000000000000, T.UINT64)
    w.add_key_value("t.i64", -9000000000000000000, T.INT64)
    w.add_key_value("t.f64", -2.25e100, T.FLOAT64)
    w.add_key_value("a.u8", [0, 1, 255], T.ARRAY, T.UINT8)
    w.add_key_value("a.i8", [-128, 0, 127], T.ARRAY, T.INT8)
    w.add_key_value("a.u16", [0, 65535], T.ARRAY, T.UINT16)
    w.add_key_value("a.i16", [-32768, 32767], T.ARRAY, T.INT16)
    w.add_key_value("a.u32", [0, 4294967295], T.ARRAY, T.UINT32)
    w.add_key_value("a.i32", [-1, 2, -3], T.ARRAY, T.INT32)
    w.add_key_value("a.f32", [0.25, -1.0e10, 3.0], T.ARRAY, T.FLOAT32)
    w.add_key_value("a.bool", [True, False, True], T.ARRAY, T.BOOL)
    w.add_key_value("a.str", ["", "a", "<unused0>", "\u2581the", "日本"], T.ARRAY, T.STRING)
    w.add_key_value("a.u64", [0, 18446744073709551615], T.ARRAY, T.UINT64)
    w.add_key_value("a.i64", [-9223372036854775808, 9223372036854775807], T.ARRAY, T.INT64)
    w.add_key_value("a.f64", [1.0e-300, -0.5], T.ARRAY, T.FLOAT64)
    w.add_key_value("general.architecture", "gemma3", T.STRING)
    add_tensors(w)

def align64(w):
    w.add_custom_alignment(64)
    w.add_key_value("general.name", "align64", T.STRING)
    add_tensors(w)

out = sys.argv[1]
write(out + "/all-types.gguf", all_types)
write(out + "/align64.gguf", align64)
