package org.jgemma.testing;

import java.nio.file.Path;
import java.util.SplittableRandom;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;

/**
 * Manual tool (not a test): {@code SynthModel 270m|1b|4b OUT.gguf} writes a gemma3 file of the real model's shape
 * (vocabulary of the fixture {@code gemma3-vocab.gguf}, hidden size, layers, heads, FFN) with random Q8_0 matrices
 * and F32 norms, for speed measurements where the real weights are not at hand. Its outputs are meaningless.
 */
public final class SynthModel {
    public static void main(String[] args) throws Exception {
        // n_embd, layers, heads, KV heads, FFN, sliding window of the real models (gemma3_synth.py's SIZES)
        int[] shape = switch (args[0]) {
            case "270m" -> new int[] {640, 18, 4, 1, 2048, 512};
            case "1b" -> new int[] {1152, 26, 4, 1, 6912, 512};
            case "4b" -> new int[] {2560, 34, 8, 4, 10240, 1024};
            default -> throw new IllegalArgumentException("size " + args[0] + ": 270m, 1b or 4b");
        };
        int ne = shape[0], layers = shape[1], heads = shape[2], kv = shape[3], hd = 256, ff = shape[4];
        SplittableRandom rnd = new SplittableRandom(7);
        try (GgufFile vocab = GgufFile.open(Fixtures.file("gemma3-vocab.gguf")); GgufFile tiny = GgufFile.open(Fixtures.file("tiny/gemma3-tiny-f32.gguf"))) {
            GgufWriter w = new GgufWriter().putAll(tiny.metadata()).putAll(vocab.metadata());
            int nVocab = vocab.metadata().get("tokenizer.ggml.tokens").arrayLength();
            w.put("gemma3.embedding_length", GgufValue.ofUInt32(ne));
            w.put("gemma3.block_count", GgufValue.ofUInt32(layers));
            w.put("gemma3.feed_forward_length", GgufValue.ofUInt32(ff));
            w.put("gemma3.attention.head_count", GgufValue.ofUInt32(heads));
            w.put("gemma3.attention.head_count_kv", GgufValue.ofUInt32(kv));
            w.put("gemma3.attention.key_length", GgufValue.ofUInt32(hd));
            w.put("gemma3.attention.value_length", GgufValue.ofUInt32(hd));
            w.put("gemma3.context_length", GgufValue.ofUInt32(32768));
            w.put("gemma3.attention.sliding_window", GgufValue.ofUInt32(shape[5]));
            w.put("general.name", GgufValue.ofString("synthetic gemma3 " + args[0] + " Q8_0"));
            w.addTensor("token_embd.weight", GgmlType.Q8_0, new long[] {ne, nVocab}, q8(rnd, (long) ne * nVocab));
            w.addTensor("output_norm.weight", GgmlType.F32, new long[] {ne}, norm(rnd, ne));
            for (int il = 0; il < layers; il++) {
                String b = "blk." + il + ".";
                w.addTensor(b + "attn_norm.weight", GgmlType.F32, new long[] {ne}, norm(rnd, ne));
                w.addTensor(b + "attn_q.weight", GgmlType.Q8_0, new long[] {ne, heads * hd}, q8(rnd, (long) ne * heads * hd));
                w.addTensor(b + "attn_k.weight", GgmlType.Q8_0, new long[] {ne, kv * hd}, q8(rnd, (long) ne * kv * hd));
                w.addTensor(b + "attn_v.weight", GgmlType.Q8_0, new long[] {ne, kv * hd}, q8(rnd, (long) ne * kv * hd));
                w.addTensor(b + "attn_q_norm.weight", GgmlType.F32, new long[] {hd}, norm(rnd, hd));
                w.addTensor(b + "attn_k_norm.weight", GgmlType.F32, new long[] {hd}, norm(rnd, hd));
                w.addTensor(b + "attn_output.weight", GgmlType.Q8_0, new long[] {heads * hd, ne}, q8(rnd, (long) ne * heads * hd));
                w.addTensor(b + "post_attention_norm.weight", GgmlType.F32, new long[] {ne}, norm(rnd, ne));
                w.addTensor(b + "ffn_norm.weight", GgmlType.F32, new long[] {ne}, norm(rnd, ne));
                w.addTensor(b + "ffn_gate.weight", GgmlType.Q8_0, new long[] {ne, ff}, q8(rnd, (long) ne * ff));
                w.addTensor(b + "ffn_up.weight", GgmlType.Q8_0, new long[] {ne, ff}, q8(rnd, (long) ne * ff));
                w.addTensor(b + "ffn_down.weight", GgmlType.Q8_0, new long[] {ff, ne}, q8(rnd, (long) ne * ff));
                w.addTensor(b + "post_ffw_norm.weight", GgmlType.F32, new long[] {ne}, norm(rnd, ne));
            }
            w.write(Path.of(args[1]));
        }
    }

    /** n elements of Q8_0: per block of 32, fp16 scale 0.002 then 32 random int8. */
    private static byte[] q8(SplittableRandom rnd, long n) {
        byte[] b = new byte[Math.toIntExact(n / 32 * 34)];
        short d = Float.floatToFloat16(0.002f);
        for (int o = 0; o < b.length; o += 34) {
            b[o] = (byte) d;
            b[o + 1] = (byte) (d >> 8);
            for (int i = 2; i < 34; i += 8) {
                long r = rnd.nextLong();
                for (int j = 0; j < 8; j++) b[o + i + j] = (byte) (r >>> (8 * j));
            }
        }
        return b;
    }

    private static byte[] norm(SplittableRandom rnd, int n) {
        java.nio.ByteBuffer bb = java.nio.ByteBuffer.allocate(4 * n).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) bb.putFloat((float) (rnd.nextDouble() * 0.2));
        return bb.array();
    }
}
