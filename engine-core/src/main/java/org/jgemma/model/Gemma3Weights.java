package org.jgemma.model;

import java.util.Arrays;
import java.util.List;
import org.jgemma.backend.Backend;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * The resident weights of a gemma3 model (llama.cpp src/models/gemma3.cpp :: load_arch_tensors; FACTS §3.2), uploaded
 * to a backend in their packed GGML form. Names are matched exactly, so Ollama's {@code v.*} / {@code mm.*} vision
 * tensors are ignored. The output projection is tied to {@code token_embd.weight} when {@code output.weight} is absent.
 * Norm weights already include Gemma's +1 (FACTS §3.3). Every shape is checked against the config.
 *
 * @param tokenEmbd  [n_vocab][n_embd]
 * @param outputNorm [n_embd], F32
 * @param output     [n_vocab][n_embd] (the same object as tokenEmbd when tied)
 * @param layers     one per block
 */
public record Gemma3Weights(Weight tokenEmbd, Weight outputNorm, Weight output, List<Layer> layers) {

    /**
     * One block. Matrices are {@code [rows][cols]} (GGUF ne = [cols, rows]).
     *
     * @param attnNorm     [n_embd]
     * @param wq           [n_head*hd][n_embd]
     * @param wk           [n_head_kv*hd][n_embd]
     * @param wv           [n_head_kv*hd][n_embd]
     * @param qNorm        [hd]
     * @param kNorm        [hd]
     * @param wo           [n_embd][n_head*hd]
     * @param postAttnNorm [n_embd]
     * @param ffnNorm      [n_embd]
     * @param ffnGate      [n_ff][n_embd]
     * @param ffnUp        [n_ff][n_embd]
     * @param ffnDown      [n_embd][n_ff]
     * @param postFfnNorm  [n_embd]
     */
    public record Layer(Weight attnNorm, Weight wq, Weight wk, Weight wv, Weight qNorm, Weight kNorm, Weight wo,
                        Weight postAttnNorm, Weight ffnNorm, Weight ffnGate, Weight ffnUp, Weight ffnDown,
                        Weight postFfnNorm) {}

    public Gemma3Weights {
        layers = List.copyOf(layers);
    }

    public boolean tiedOutput() {
        return output == tokenEmbd;
    }

    /** Checks every tensor of {@code f} against {@code c}, verifies that {@code backend} can run them, and uploads them. */
    public static Gemma3Weights load(GgufFile f, Gemma3Config c, Backend backend) {
        Loader l = new Loader(f, backend);
        Weight embd = l.matrix("token_embd.weight", c.nEmbd(), c.nVocab(), Op.EMBED);
        Weight outNorm = l.vector("output_norm.weight", c.nEmbd());
        Weight out = f.findTensor("output.weight").isPresent() ? l.matrix("output.weight", c.nEmbd(), c.nVocab(), Op.MATMUL) : embd;
        if (out == embd) l.requireOp(f.findTensor("token_embd.weight").orElseThrow(), Op.MATMUL);
        Layer[] layers = new Layer[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            String b = "blk." + il + ".";
            if (f.findTensor(b + "attn_qkv.weight").isPresent()) {
                throw new ModelFormatException(l.where + "tensor '" + b + "attn_qkv.weight': fused QKV is not supported for gemma3");
            }
            layers[il] = new Layer(
                    l.vector(b + "attn_norm.weight", c.nEmbd()),
                    l.matrix(b + "attn_q.weight", c.nEmbd(), c.qDim(), Op.MATMUL),
                    l.matrix(b + "attn_k.weight", c.nEmbd(), c.kvDim(), Op.MATMUL),
                    l.matrix(b + "attn_v.weight", c.nEmbd(), c.kvDim(), Op.MATMUL),
                    l.vector(b + "attn_q_norm.weight", c.headDim()),
                    l.vector(b + "attn_k_norm.weight", c.headDim()),
                    l.matrix(b + "attn_output.weight", c.qDim(), c.nEmbd(), Op.MATMUL),
                    l.vector(b + "post_attention_norm.weight", c.nEmbd()),
                    l.vector(b + "ffn_norm.weight", c.nEmbd()),
                    l.matrix(b + "ffn_gate.weight", c.nEmbd(), c.nFf(), Op.MATMUL),
                    l.matrix(b + "ffn_up.weight", c.nEmbd(), c.nFf(), Op.MATMUL),
                    l.matrix(b + "ffn_down.weight", c.nFf(), c.nEmbd(), Op.MATMUL),
                    l.vector(b + "post_ffw_norm.weight", c.nEmbd()));
        }
        return new Gemma3Weights(embd, outNorm, out, Arrays.asList(layers));
    }

    private static final class Loader {
        final GgufFile f;
        final Backend backend;
        final String where;

        Loader(GgufFile f, Backend backend) {
            this.f = f;
            this.backend = backend;
            this.where = f.path() == null ? "" : f.path().getFileName() + ": ";
        }

        GgufTensorInfo find(String name) {
            return f.findTensor(name).orElseThrow(() -> new ModelFormatException(where + "missing tensor '" + name + "'"));
        }

        /** A matrix with GGUF ne = [cols, rows]. */
        Weight matrix(String name, int cols, int rows, Op op) {
            GgufTensorInfo t = find(name);
            if (t.nDims() != 2 || t.dim(0) != cols || t.dim(1) != rows) {
                throw new ModelFormatException(where + "tensor '" + name + "': expected ne [" + cols + ", " + rows + "], found "
                        + Arrays.toString(t.ne()));
            }
            requireOp(t, op);
            return backend.upload(t);
        }

        /** A norm weight with ne = [n] (F32 in every converted file; the backend says which types it reads). */
        Weight vector(String name, int n) {
            GgufTensorInfo t = find(name);
            if (t.nDims() != 1 || t.dim(0) != n) {
                throw new ModelFormatException(where + "tensor '" + name + "': expected ne [" + n + "], found " + Arrays.toString(t.ne()));
            }
            requireOp(t, Op.RMS_NORM);
            return backend.upload(t);
        }

        void requireOp(GgufTensorInfo t, Op op) {
            if (!backend.supportsOp(op, t.type())) {
                throw new ModelFormatException(where + "tensor '" + t.name() + "' has type " + t.type() + ", which backend '"
                        + backend.name() + "' cannot run for " + op);
            }
        }
    }
}
