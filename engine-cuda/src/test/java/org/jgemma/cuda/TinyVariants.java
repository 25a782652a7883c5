package org.jgemma.cuda;

import java.lang.foreign.MemorySegment;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.testing.Fixtures;

/**
 * Variants of the tiny fixture model in memory: {@code layers} blocks (block i is tiny's block i % 6) and the first
 * {@code vocab} rows of token_embd (the tied output; at most tiny's). Same kernels and weight types as tiny, so the
 * launches of a step have the structure of a real model of that depth (26 layers: gemma3 1B).
 */
final class TinyVariants {
    private TinyVariants() {}

    private static final Map<String, GgufFile> CACHE = new ConcurrentHashMap<>();

    static GgufFile of(String format, int layers, int vocab) {
        return CACHE.computeIfAbsent(format + "/" + layers + "/" + vocab, k -> make(format, layers, vocab));
    }

    private static GgufFile make(String format, int layers, int vocab) {
        try {
            GgufFile tiny = GgufFile.open(Fixtures.model("tiny", format));
            GgufWriter w = new GgufWriter().putAll(tiny.metadata());
            w.put("gemma3.block_count", GgufValue.ofUInt32(layers));
            for (GgufTensorInfo t : tiny.tensors()) {
                if (t.name().equals("token_embd.weight")) {
                    long rows = Math.min(vocab, t.ne()[1]);
                    w.addTensor(t.name(), t.type(), new long[] {t.ne()[0], rows}, t.data().asSlice(0, rows * t.rowBytes()));
                } else if (!t.name().startsWith("blk.")) {
                    w.addTensor(t.name(), t.type(), t.ne(), t.data());
                }
            }
            for (int il = 0; il < layers; il++) {
                String src = "blk." + (il % 6) + ".";
                for (GgufTensorInfo t : tiny.tensors()) {
                    if (t.name().startsWith(src)) w.addTensor("blk." + il + "." + t.name().substring(src.length()), t.type(), t.ne(), t.data());
                }
            }
            return GgufFile.parse(MemorySegment.ofArray(w.toByteArray()));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
