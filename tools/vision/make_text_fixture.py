#!/usr/bin/env python3
"""Makes the committed, compact stand-in for the vision fixtures' text model and logits references.

The shared fixture's text GGUF (16.6 MB: a 262144 x 32 Q8_0 token_embd that is also the tied output head, plus the
tokenizer) and its two 9.4 MB logits files do not fit the repository's 30 MB budget. This keeps:
  * gemma3v-text-rows.gguf: the same file without the tokenizer.* keys (the forward pass does not read them), with
    every token_embd row outside the kept set S zeroed (Q8_0 blocks of d = 0; they gzip to nothing). Rows in S are
    byte-identical to the original.
  * image2_224x224.logits-rows.bin: for the 9 reference rows, the llama.cpp and HF logits at the ids of S, and each
    reference row's full-vocabulary std, max and argmax (computed here from the full files).
S = the prompt ids + both references' 8 greedy tokens + the top 512 ids of every row of both references + 2048 seeded
random ids. A model computing the same function gives the reference's logits at every id of S; ids outside S have
zero output rows here, so a test compares logits at S only and argmax over S (which holds each row's top 512).

Layout of the .bin (little-endian): int32 n_prompt, n_gen, n_vocab, n_rows(=9), n_s; int32 tokens_llamacpp[n_prompt+n_gen];
int32 tokens_hf_greedy[n_gen] (HF argmax of rows 0..7); int32 s_ids[n_s]; then for ref in (llamacpp, hf):
float32 full_std[n_rows], full_max[n_rows]; int32 full_argmax[n_rows]; float32 logits[n_rows][n_s].
Usage: make_text_fixture.py FIXTURES_VISION_DIR OUT_DIR   (needs numpy and llama.cpp's gguf-py on PYTHONPATH)
"""
import struct, sys
import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType

src, out = sys.argv[1], sys.argv[2]

def read_logits(path):
    b = open(path, 'rb').read()
    n_prompt, n_gen, n_vocab = struct.unpack_from('<3i', b, 0)
    toks = np.frombuffer(b, '<i4', n_prompt + n_gen, 12)
    off = 12 + 4 * (n_prompt + n_gen)
    lg = np.frombuffer(b, '<f4', (1 + n_gen) * n_vocab, off).reshape(1 + n_gen, n_vocab)
    return n_prompt, n_gen, n_vocab, toks, lg

n_prompt, n_gen, n_vocab, toks, lc = read_logits(f'{src}/refs/image2_224x224.llamacpp.logits.bin')
_, _, _, toks_hf, hf = read_logits(f'{src}/refs/image2_224x224.hf.logits.bin')
assert (toks == toks_hf).all()
hf_greedy = hf[:n_gen].argmax(axis=1).astype('<i4')
s = set(int(t) for t in toks if t < n_vocab) | set(int(t) for t in hf_greedy)
for ref in (lc, hf):
    for row in ref:
        s |= set(int(i) for i in np.argsort(-row, kind='stable')[:512])
rng = np.random.default_rng(20251207)
s |= set(int(i) for i in rng.choice(n_vocab, 2048, replace=False))
s_ids = np.array(sorted(s), dtype='<i4')
print('kept rows', len(s_ids))

with open(f'{out}/image2_224x224.logits-rows.bin', 'wb') as f:
    f.write(struct.pack('<5i', n_prompt, n_gen, n_vocab, 1 + n_gen, len(s_ids)))
    f.write(toks.astype('<i4').tobytes()); f.write(hf_greedy.tobytes()); f.write(s_ids.tobytes())
    for ref in (lc, hf):
        f.write(ref.std(axis=1, dtype=np.float64).astype('<f4').tobytes())
        f.write(ref.max(axis=1).astype('<f4').tobytes())
        f.write(ref.argmax(axis=1).astype('<i4').tobytes())
        f.write(np.ascontiguousarray(ref[:, s_ids]).astype('<f4').tobytes())

r = GGUFReader(f'{src}/gemma3v-tiny-text-f32-embq8.gguf')
w = GGUFWriter(f'{out}/gemma3v-text-rows.gguf', 'gemma3', use_temp_file=False)
w.kv_data[0].pop('general.architecture', None)
for k, fld in r.fields.items():
    if k.startswith('GGUF.') or k.startswith('tokenizer.'):
        continue
    t = fld.types[0]
    if t == GGUFValueType.ARRAY:
        w.add_key_value(k, [fld.parts[i].tolist()[0] for i in fld.data], t, sub_type=fld.types[1])
    elif t == GGUFValueType.STRING:
        w.add_key_value(k, bytes(fld.parts[fld.data[0]]).decode(), t)
    else:
        w.add_key_value(k, fld.parts[fld.data[0]].tolist()[0], t)
for t in r.tensors:
    data = np.array(t.data)
    if t.name == 'token_embd.weight':
        keep = np.zeros(data.shape[0], bool); keep[s_ids] = True
        data[~keep] = 0
    w.add_tensor(t.name, data, raw_shape=data.shape if t.tensor_type == GGMLQuantizationType.F32 else None,
                 raw_dtype=t.tensor_type)
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
