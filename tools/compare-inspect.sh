#!/bin/sh
# Compares `bin/jgemma inspect` with gguf-py (llama.cpp's Python GGUF reader) on GGUF files:
#   metadata: every key with its type and full value (gguf_dump.py --json --json-array vs inspect --json),
#             and the key/type/count columns of the two text dumps;
#   tensors:  index, name, type, shape (ne), absolute data offset and byte size (GGUFReader vs inspect --json),
#             and name/type/shape of the two text dumps.
# Usage: tools/compare-inspect.sh FILE.gguf...     (build first: ./mvnw -q package -DskipTests)
# Env:   PY (default /tmp/venv/bin/python), GGUF_PY (default /tmp/lc/llamacpp/gguf-py)
# Prints one OK/FAIL line per file (with the first differences) and exits non-zero if any file differs.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-/tmp/venv/bin/python}
GGUF_PY=${GGUF_PY:-/tmp/lc/llamacpp/gguf-py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
for f in "$@"; do
  if ! "$root/bin/jgemma" inspect --json "$f" > "$tmp/j.json" 2> "$tmp/j.err" \
     || ! "$root/bin/jgemma" inspect "$f" > "$tmp/j.txt" 2>> "$tmp/j.err"; then
    echo "FAIL $f: jgemma inspect: $(head -n 1 "$tmp/j.err")"; fail=1; continue
  fi
  PYTHONPATH=$GGUF_PY "$PY" "$GGUF_PY/gguf/scripts/gguf_dump.py" --json --json-array "$f" > "$tmp/p.json" 2>/dev/null
  PYTHONPATH=$GGUF_PY "$PY" "$GGUF_PY/gguf/scripts/gguf_dump.py" "$f" > "$tmp/p.txt" 2>/dev/null
  PYTHONPATH=$GGUF_PY "$PY" - "$f" "$tmp" <<'PYEOF' || fail=1
import json, re, sys
from gguf import GGUFReader
path, tmp = sys.argv[1], sys.argv[2]

def norm_value(v):
    return json.dumps(v, ensure_ascii=False, sort_keys=True)

# reference: gguf_dump --json (metadata), GGUFReader (tensor data offsets and sizes, which gguf_dump does not print)
p = json.load(open(tmp + "/p.json"))
ref = []
for k, m in p["metadata"].items():
    if k.startswith("GGUF."):
        continue
    t = "[%s]" % m["array_types"][0] if m["type"] == "ARRAY" else m["type"]
    ref.append("kv\t%s\t%s\t%s" % (k, t, norm_value(m["value"])))
r = GGUFReader(path)
for i, t in enumerate(r.tensors):
    ref.append("tensor\t%d\t%s\t%s\t%s\t%d\t%d" % (i, t.name, t.tensor_type.name, [int(x) for x in t.shape],
                                                int(t.data_offset), int(t.n_bytes)))
# jgemma inspect --json
j = json.load(open(tmp + "/j.json"))
got = []
for k, m in j["metadata"].items():
    t = "[%s]" % m["array_type"] if m["type"] == "ARRAY" else m["type"]
    got.append("kv\t%s\t%s\t%s" % (k, t, norm_value(m["value"])))
for t in j["tensors"]:
    got.append("tensor\t%d\t%s\t%s\t%s\t%d\t%d" % (t["index"], t["name"], t["type"], t["shape"], t["offset"], t["bytes"]))

# text dumps: "N: TYPE | COUNT | key = ..." and tensor name/type/shape padded to 4 dims
def text_rows(txt, jgemma):
    rows = []
    for line in open(txt, encoding="utf-8"):
        m = re.match(r"\s*\d+: (\[?\w+\]?)\s*\|\s*(\d+) \| ([^ ]+) = ", line)
        if m:
            rows.append("kv %s %s %s" % (m.group(3), m.group(1), m.group(2)))
            continue
        if jgemma:
            m = re.match(r"\s*\d+: \| (\w+)\s*\| ([\d, ]+?)\s*\|\s*\d+ \|\s*\d+ \| (.*)$", line)
            if m:
                ne = [int(x) for x in m.group(2).split(",")] if m.group(2).strip() else []
                rows.append("tensor %s %s %s" % (m.group(3), m.group(1), (ne + [1, 1, 1, 1])[:4]))
        else:
            m = re.match(r"\s*\d+:\s+\d+ \| ([\d, ]+) \| (\w+)\s*\| (.*)$", line)
            if m:
                rows.append("tensor %s %s %s" % (m.group(3).rstrip("\n"), m.group(2), [int(x) for x in m.group(1).split(",")]))
    return rows

pt, jt = text_rows(tmp + "/p.txt", False), text_rows(tmp + "/j.txt", True)
bad = [("json", a, b) for a, b in zip(ref, got) if a != b] + [("text", a, b) for a, b in zip(pt, jt) if a != b]
if len(ref) != len(got): bad.append(("json", "%d entries" % len(ref), "%d entries" % len(got)))
if len(pt) != len(jt): bad.append(("text", "%d rows" % len(pt), "%d rows" % len(jt)))
nkv = sum(1 for x in ref if x.startswith("kv"))
if bad:
    print("FAIL %s: %d differences" % (path, len(bad)))
    for kind, a, b in bad[:5]:
        print("  %s gguf-py: %s\n  %s jgemma : %s" % (kind, a[:200], kind, b[:200]))
    sys.exit(1)
print("OK   %s: %d keys (values in full), %d tensors (name, type, shape, offset, bytes) identical; %d text rows identical"
      % (path, nkv, len(ref) - nkv, len(pt)))
PYEOF
done
exit $fail
