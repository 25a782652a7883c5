package org.jgemma.model;

import java.util.Arrays;
import java.util.Optional;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;

/**
 * Gemma 3 hyperparameters, read and checked from GGUF metadata as llama.cpp does (src/models/gemma3.cpp ::
 * load_arch_hparams; FACTS §3.1), including the defaults Ollama's compatibility shim injects into its blobs (FACTS §6.2).
 * Immutable. Errors name the key and the bad value.
 *
 * @param contextLength      n_ctx_train ({@code gemma3.context_length})
 * @param nEmbd              hidden size
 * @param nLayer             number of blocks
 * @param nFf                FFN width
 * @param nHead              query heads
 * @param nHeadKv            KV heads (nHead a multiple of it)
 * @param headDim            per-head width ({@code attention.key_length}; value_length must equal it)
 * @param nVocab             logit count: token_embd rows
 * @param eps                RMSNorm epsilon
 * @param ropeBaseGlobal     RoPE base of global layers (every layer without SWA)
 * @param ropeScaleGlobal    RoPE freq_scale (1/linear factor) of global layers
 * @param ropeBaseLocal      RoPE base of sliding-window layers (freq_scale 1)
 * @param slidingWindow      n_swa, 0 = no sliding window at all
 * @param localLayers        per layer: true if it is a sliding-window layer
 * @param attentionScale     f_attention_scale applied to Q·K
 * @param finalLogitSoftcap  0 = off, else logits = cap·tanh(logits/cap)
 * @param ollama             the file was recognised as an Ollama blob (defaults of FACTS §6.2 applied)
 */
public record Gemma3Config(int contextLength, int nEmbd, int nLayer, int nFf, int nHead, int nHeadKv, int headDim,
                           int nVocab, float eps, float ropeBaseGlobal, float ropeScaleGlobal, float ropeBaseLocal,
                           int slidingWindow, boolean[] localLayers, float attentionScale, float finalLogitSoftcap,
                           boolean ollama) {

    static final String ARCH = "gemma3";
    static final String P = ARCH + ".";

    /*
     * Upper bounds on sizes read from metadata, checked before anything is sized from them (every product in long).
     * Gemma 3 27B has 62 layers, width 5376, FFN 21504, 32 x 128 query dims, a 262144-token vocabulary and a 131072
     * context: the bounds leave ample room and keep a lying 4-byte value from asking for gigabytes.
     */
    static final int MAX_LAYERS = 1024;
    static final long MAX_WIDTH = 1L << 20;   // n_embd, n_ff, n_head * head_dim
    static final int MAX_HEADS = 4096;
    static final int MAX_CONTEXT = 1 << 24;   // context_length and sliding_window
    static final long MAX_VOCAB = 1L << 24;

    public Gemma3Config {
        localLayers = localLayers.clone();
        if (localLayers.length != nLayer) throw new IllegalArgumentException("localLayers has " + localLayers.length + " entries, not " + nLayer);
    }

    @Override
    public boolean[] localLayers() {
        return localLayers.clone();
    }

    /** Whether layer {@code il} uses the sliding window (and the local RoPE base). */
    public boolean isLocal(int il) {
        return localLayers[il];
    }

    public int qDim() { return nHead * headDim; }

    public int kvDim() { return nHeadKv * headDim; }

    /** Window of layer {@code il} for attention: n_swa on local layers, 0 (unlimited) on global ones. */
    public int window(int il) {
        return localLayers[il] ? slidingWindow : 0;
    }

    public float ropeBase(int il) {
        return localLayers[il] ? ropeBaseLocal : ropeBaseGlobal;
    }

    public float ropeScale(int il) {
        return localLayers[il] ? 1.0f : ropeScaleGlobal;
    }

    /** Reads and checks the config of {@code f} (architecture must be gemma3). */
    public static Gemma3Config from(GgufFile f) {
        try {
            return read(f);
        } catch (GgufFormatException e) {
            throw new ModelFormatException(where(f) + e.getMessage(), e);
        }
    }

    private static String where(GgufFile f) {
        return f.path() == null ? "" : f.path().getFileName() + ": ";
    }

    private static Gemma3Config read(GgufFile f) throws GgufFormatException {
        String arch = f.getString("general.architecture");
        if (!arch.equals(ARCH)) {
            throw new ModelFormatException(where(f) + "general.architecture is '" + arch + "', this engine runs '" + ARCH + "' only");
        }
        boolean ollama = detectOllama(f);

        int ctx = bounded(f, P + "context_length", f.getInt(P + "context_length"), MAX_CONTEXT);
        int nEmbd = bounded(f, P + "embedding_length", f.getInt(P + "embedding_length"), MAX_WIDTH);
        int nLayer = bounded(f, P + "block_count", f.getInt(P + "block_count"), MAX_LAYERS);
        int nFf = bounded(f, P + "feed_forward_length", uniform(f, P + "feed_forward_length", nLayer, null), MAX_WIDTH);
        int nHead = bounded(f, P + "attention.head_count", uniform(f, P + "attention.head_count", nLayer, null), MAX_HEADS);
        int nHeadKv = bounded(f, P + "attention.head_count_kv", uniform(f, P + "attention.head_count_kv", nLayer, nHead), MAX_HEADS);
        if (nHead % nHeadKv != 0) {
            throw bad(f, P + "attention.head_count_kv", nHeadKv + " does not divide head_count " + nHead);
        }
        int headDim = positive(f, P + "attention.key_length", f.findInt(P + "attention.key_length").orElse(nEmbd / nHead));
        int valueLength = f.findInt(P + "attention.value_length").orElse(headDim);
        if (valueLength != headDim) {
            throw bad(f, P + "attention.value_length", valueLength + " != key_length " + headDim + " (unsupported)");
        }
        int nRot = f.findInt(P + "rope.dimension_count").orElse(headDim);
        if (nRot != headDim) throw bad(f, P + "rope.dimension_count", nRot + " != head_dim " + headDim + " (partial RoPE is unsupported)");
        if (headDim % 2 != 0) throw bad(f, P + "attention.key_length", "odd head_dim " + headDim);
        if ((long) nHead * headDim > MAX_WIDTH) {
            throw bad(f, P + "attention.head_count", nHead + " x key_length " + headDim + " = " + (long) nHead * headDim
                    + " query dims (more than " + MAX_WIDTH + ")");
        }

        // eps: required by stock llama.cpp; Ollama blobs lack it and the shim injects 1e-6 (FACTS §6.2)
        float eps = f.findFloat(P + "attention.layer_norm_rms_epsilon").orElse(1e-6f);
        if (!(eps > 0)) throw bad(f, P + "attention.layer_norm_rms_epsilon", String.valueOf(eps));

        // RoPE bases: standard keys, then Ollama's rope.global/local names; defaults 1e4/1e4 (llama.cpp) or 1e6/1e4 (Ollama)
        float baseGlobal = firstFloat(f, P + "rope.freq_base", P + "rope.global.freq_base").orElse(ollama ? 1e6f : 10000f);
        float baseLocal = firstFloat(f, P + "rope.freq_base_swa", P + "rope.local.freq_base").orElse(10000f);
        if (!(baseGlobal > 0)) throw bad(f, P + "rope.freq_base", String.valueOf(baseGlobal));
        if (!(baseLocal > 0)) throw bad(f, P + "rope.freq_base_swa", String.valueOf(baseLocal));

        // linear RoPE scaling on global layers: freq_scale = 1/factor; type "none" forces 1
        String scalingType = f.findString(P + "rope.scaling.type").orElse(null);
        Optional<Float> factorKey = firstFloat(f, P + "rope.scaling.factor", P + "rope.scale_linear");
        float factor;
        if (scalingType == null && factorKey.isEmpty() && ollama && ctx >= 131072) {
            factor = 8f; // the shim's injected "linear" x8
        } else {
            factor = factorKey.orElse(0f);
        }
        if (factor == 0f) factor = 1f;
        if (!(factor > 0)) throw bad(f, P + "rope.scaling.factor", String.valueOf(factor));
        if (scalingType != null && !scalingType.equals("linear") && !scalingType.equals("none")) {
            throw bad(f, P + "rope.scaling.type", "'" + scalingType + "' (supported: linear, none)");
        }
        float scaleGlobal = "none".equals(scalingType) ? 1f : 1f / factor;

        // sliding window: absent or 0 -> no SWA at all; pattern: u32 (default 6), an array value is ignored
        int nSwa = f.findInt(P + "attention.sliding_window").orElse(0);
        if (nSwa < 0 || nSwa > MAX_CONTEXT) throw bad(f, P + "attention.sliding_window", nSwa + " (allowed 0 .. " + MAX_CONTEXT + ")");
        boolean[] local = new boolean[nLayer];
        if (nSwa > 0) {
            int period = f.findInt(P + "attention.sliding_window_pattern").orElse(6);
            if (period < 0) throw bad(f, P + "attention.sliding_window_pattern", String.valueOf(period));
            for (int il = 0; il < nLayer; il++) local[il] = period == 0 || il % period < period - 1; // set_swa_pattern
        } else {
            baseLocal = baseGlobal; // unused: every layer is global
        }

        // 27B (62 layers): 1/sqrt(n_embd/n_head), integer division; otherwise 1/sqrt(head_dim)
        float attnScale = nLayer == 62 ? 1.0f / (float) Math.sqrt((float) (nEmbd / nHead)) : 1.0f / (float) Math.sqrt((float) headDim);

        float softcap = f.findFloat(P + "final_logit_softcapping").orElse(0f);
        if (softcap < 0 || !Float.isFinite(softcap)) throw bad(f, P + "final_logit_softcapping", String.valueOf(softcap));

        GgufTensorInfo emb = f.findTensor("token_embd.weight").orElseThrow(
                () -> new ModelFormatException(where(f) + "missing tensor 'token_embd.weight'"));
        if (emb.nDims() != 2) throw new ModelFormatException(where(f) + "tensor 'token_embd.weight': expected 2 dims, found " + Arrays.toString(emb.ne()));
        if (emb.dim(0) != nEmbd) {
            throw bad(f, P + "embedding_length", nEmbd + ", contradicts tensor 'token_embd.weight' of ne " + Arrays.toString(emb.ne())
                    + " (row length " + emb.dim(0) + ")");
        }
        if (emb.dim(1) < 1 || emb.dim(1) > MAX_VOCAB) {
            throw new ModelFormatException(where(f) + "tensor 'token_embd.weight': " + emb.dim(1) + " rows (vocabulary size), allowed 1 .. "
                    + MAX_VOCAB);
        }
        int nVocab = (int) emb.dim(1);

        Gemma3Config c = new Gemma3Config(ctx, nEmbd, nLayer, nFf, nHead, nHeadKv, headDim, nVocab, eps, baseGlobal, scaleGlobal,
                baseLocal, nSwa, local, attnScale, softcap, ollama);
        if (f.findTensor("blk.0.attn_q.weight").isPresent()) c.checkTensors(f);
        return c;
    }

    /**
     * Checks this config against the shapes of the block tensors of {@code f}: the layer count against the blocks
     * present, the head counts and key length against the Q/K projections and norms, the FFN width against the gate.
     * A missing tensor is left to {@link Gemma3Weights#load}, which names it.
     *
     * @throws ModelFormatException naming the key, its value and the tensor it contradicts
     */
    public void checkTensors(GgufFile f) {
        int blocks = 0;
        for (GgufTensorInfo t : f.tensors()) {
            int n = blockIndex(t.name());
            if (n >= 0) blocks = Math.max(blocks, n + 1);
        }
        if (blocks != nLayer) {
            throw bad(f, P + "block_count", nLayer + ", but the file has tensors of " + blocks + " blocks (blk.0 .. blk." + (blocks - 1) + ")");
        }
        rows(f, "blk.0.attn_q.weight", 0, nEmbd, P + "embedding_length", String.valueOf(nEmbd));
        rows(f, "blk.0.attn_q.weight", 1, (long) nHead * headDim, P + "attention.head_count",
                nHead + " x key_length " + headDim + " = " + (long) nHead * headDim);
        rows(f, "blk.0.attn_k.weight", 1, (long) nHeadKv * headDim, P + "attention.head_count_kv",
                nHeadKv + " x key_length " + headDim + " = " + (long) nHeadKv * headDim);
        rows(f, "blk.0.attn_q_norm.weight", 0, headDim, P + "attention.key_length", String.valueOf(headDim));
        rows(f, "blk.0.ffn_gate.weight", 1, nFf, P + "feed_forward_length", String.valueOf(nFf));
    }

    private static void rows(GgufFile f, String tensor, int dim, long expected, String key, String value) {
        Optional<GgufTensorInfo> t = f.findTensor(tensor);
        if (t.isEmpty() || t.get().nDims() <= dim) return;
        if (t.get().dim(dim) != expected) {
            throw bad(f, key, value + ", contradicts tensor '" + tensor + "' of ne " + Arrays.toString(t.get().ne())
                    + " (ne[" + dim + "] = " + t.get().dim(dim) + ")");
        }
    }

    /** N of a tensor named {@code blk.N.*}, or -1. */
    private static int blockIndex(String name) {
        if (!name.startsWith("blk.")) return -1;
        int end = name.indexOf('.', 4);
        if (end <= 4 || end > 4 + 6) return -1;
        int n = 0;
        for (int i = 4; i < end; i++) {
            char ch = name.charAt(i);
            if (ch < '0' || ch > '9') return -1;
            n = n * 10 + (ch - '0');
        }
        return n;
    }

    /** FACTS §6.2: llama-ollama-compat.cpp :: detect_ollama_gemma3. */
    static boolean detectOllama(GgufFile f) {
        if (f.has(P + "mm.tokens_per_image") || f.has(P + "rope.global.freq_base") || f.has(P + "rope.local.freq_base")
                || f.has("tokenizer.ggml.add_padding_token") || f.has("tokenizer.ggml.add_unknown_token")
                || !f.has(P + "attention.layer_norm_rms_epsilon")) {
            return true;
        }
        for (GgufTensorInfo t : f.tensors()) {
            if (t.name().startsWith("v.") || t.name().startsWith("mm.")) return true;
        }
        return false;
    }

    private static Optional<Float> firstFloat(GgufFile f, String key, String alt) throws GgufFormatException {
        Optional<Float> v = f.findFloat(key);
        return v.isPresent() ? v : f.findFloat(alt);
    }

    /** A u32 or a per-layer array whose entries are all equal (gemma3 has no per-layer variation). */
    private static int uniform(GgufFile f, String key, int nLayer, Integer dflt) throws GgufFormatException {
        Optional<GgufValue> v = f.find(key);
        if (v.isEmpty()) {
            if (dflt == null) throw new ModelFormatException(where(f) + "missing metadata key '" + key + "'");
            return dflt;
        }
        if (!v.get().isArray()) return positive(f, key, f.getInt(key));
        int[] a = f.getIntArray(key);
        if (a.length != nLayer) throw bad(f, key, "array of " + a.length + " entries for " + nLayer + " layers");
        for (int x : a) if (x != a[0]) throw bad(f, key, "per-layer values differ " + Arrays.toString(a) + " (unsupported)");
        return positive(f, key, a[0]);
    }

    private static int bounded(GgufFile f, String key, int v, long max) {
        if (v <= 0 || v > max) throw bad(f, key, v + " (allowed 1 .. " + max + ")");
        return v;
    }

    private static int positive(GgufFile f, String key, int v) {
        if (v <= 0) throw bad(f, key, String.valueOf(v));
        return v;
    }

    private static ModelFormatException bad(GgufFile f, String key, String what) {
        return new ModelFormatException(where(f) + "metadata key '" + key + "': bad value " + what);
    }

    @Override
    public String toString() {
        int nLocal = 0;
        for (boolean b : localLayers) if (b) nLocal++;
        return "Gemma3Config[ctx=" + contextLength + ", embd=" + nEmbd + ", layers=" + nLayer + " (" + nLocal + " local, window "
                + slidingWindow + "), ff=" + nFf + ", heads=" + nHead + "/" + nHeadKv + "x" + headDim + ", vocab=" + nVocab
                + ", eps=" + eps + ", rope global " + ropeBaseGlobal + " x" + ropeScaleGlobal + ", local " + ropeBaseLocal
                + ", attn scale " + attentionScale + ", softcap " + finalLogitSoftcap + (ollama ? ", ollama" : "") + "]";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Gemma3Config c && c.toString().equals(toString()) && Arrays.equals(c.localLayers, localLayers);
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }
}
