package org.jgemma.vision;

import java.util.Arrays;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufFormatException;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.model.ModelFormatException;

/**
 * The configuration of a Gemma 3 vision tower (SigLIP encoder + Gemma 3 projector), read from one of two layouts:
 * <ul>
 *   <li>{@link Layout#MMPROJ}: llama.cpp's separate mmproj GGUF ({@code general.architecture = clip},
 *       {@code clip.projector_type = gemma3}, {@code clip.vision.*} keys; tools/mtmd/clip.cpp :: clip_model_loader);</li>
 *   <li>{@link Layout#OLLAMA}: an Ollama gemma3 blob that embeds the tower in the text file ({@code gemma3.vision.*} and
 *       {@code gemma3.mm.tokens_per_image} keys; ollama convert/convert_gemma3.go :: KV, Replacements).</li>
 * </ul>
 * Every size is bounded and checked against the tensors ({@link #checkTensors}) before anything is allocated from it.
 *
 * @param nEmbd      SigLIP hidden width (1152 in the released models)
 * @param nFf        SigLIP MLP width
 * @param nLayer     encoder blocks
 * @param nHead      attention heads (nEmbd / nHead = head dim)
 * @param imageSize  square input side in pixels (896 released)
 * @param patchSize  conv patch side (14)
 * @param merge      average-pool kernel of the projector (patches per side / merge = tokens per side; 4 released)
 * @param eps        LayerNorm and projector RMSNorm epsilon
 * @param projDim    the projector's output width (= the text model's n_embd)
 * @param mean       per-channel normalization mean (RGB)
 * @param std        per-channel normalization std (RGB)
 */
public record VisionConfig(Layout layout, int nEmbd, int nFf, int nLayer, int nHead, int imageSize, int patchSize, int merge,
                           float eps, int projDim, float[] mean, float[] std) {

    /** Where the tower's tensors and keys come from. */
    public enum Layout { MMPROJ, OLLAMA }

    static final int MAX_WIDTH = 1 << 16, MAX_LAYERS = 1024, MAX_IMAGE = 8192;

    public int patchesPerSide() { return imageSize / patchSize; }
    public int nPatches() { return patchesPerSide() * patchesPerSide(); }
    public int tokensPerSide() { return patchesPerSide() / merge; }
    /** Image soft tokens per image (256 in the released models). */
    public int nTokens() { return tokensPerSide() * tokensPerSide(); }
    public int headDim() { return nEmbd / nHead; }

    /** Whether {@code f} holds a Gemma 3 vision tower (either layout). */
    public static boolean present(GgufFile f) {
        return f.has("clip.vision.embedding_length") || f.has("gemma3.vision.embedding_length");
    }

    /** Reads the config of the tower in {@code f} (either layout) and checks it against the tensors. */
    public static VisionConfig from(GgufFile f) {
        try {
            return read(f);
        } catch (GgufFormatException e) {
            throw new ModelFormatException(where(f) + e.getMessage(), e);
        }
    }

    private static VisionConfig read(GgufFile f) throws GgufFormatException {
        String arch = f.findString("general.architecture").orElse("");
        if (arch.equals("clip")) {
            String proj = f.findString("clip.projector_type").orElse("");
            if (!proj.equals("gemma3")) {
                throw new ModelFormatException(where(f) + "clip.projector_type is '" + proj + "', this engine runs 'gemma3' only");
            }
            if (!f.findBool("clip.has_vision_encoder").orElse(true)) {
                throw new ModelFormatException(where(f) + "clip.has_vision_encoder is false: no vision tower in this mmproj");
            }
            String p = "clip.vision.";
            int nEmbd = bounded(f, p + "embedding_length", MAX_WIDTH);
            int nFf = bounded(f, p + "feed_forward_length", MAX_WIDTH * 8);
            int nLayer = bounded(f, p + "block_count", MAX_LAYERS);
            int nHead = bounded(f, p + "attention.head_count", nEmbd);
            int image = bounded(f, p + "image_size", MAX_IMAGE);
            int patch = bounded(f, p + "patch_size", image);
            int projDim = bounded(f, p + "projection_dim", MAX_WIDTH);
            float eps = f.findFloat(p + "attention.layer_norm_epsilon").orElse(1e-6f);
            // clip.cpp: n_merge defaults to 4 for PROJECTOR_TYPE_GEMMA3, overridden by clip.vision.projector.scale_factor
            int merge = f.has(p + "projector.scale_factor") ? bounded(f, p + "projector.scale_factor", image) : 4;
            float[] mean = triple(f, p + "image_mean"), std = triple(f, p + "image_std");
            return check(f, new VisionConfig(Layout.MMPROJ, nEmbd, nFf, nLayer, nHead, image, patch, merge, eps, projDim, mean, std));
        }
        if (arch.equals("gemma3") && f.has("gemma3.vision.embedding_length")) {
            String p = "gemma3.vision.";
            int nEmbd = bounded(f, p + "embedding_length", MAX_WIDTH);
            int nFf = bounded(f, p + "feed_forward_length", MAX_WIDTH * 8);
            int nLayer = bounded(f, p + "block_count", MAX_LAYERS);
            int nHead = bounded(f, p + "attention.head_count", nEmbd);
            int image = bounded(f, p + "image_size", MAX_IMAGE);
            int patch = bounded(f, p + "patch_size", image);
            int channels = f.findInt(p + "num_channels").orElse(3);
            if (channels != 3) throw new ModelFormatException(where(f) + "metadata key '" + p + "num_channels': " + channels + ", expected 3");
            float eps = f.findFloat(p + "attention.layer_norm_epsilon").orElse(1e-6f);
            int tokens = f.findInt("gemma3.mm.tokens_per_image").orElse(256);
            int side = (int) Math.round(Math.sqrt(tokens));
            if (tokens < 1 || side * side != tokens || patch < 1 || (image / patch) % side != 0) {
                throw new ModelFormatException(where(f) + "gemma3.mm.tokens_per_image " + tokens + " is not a square that divides the "
                        + (patch < 1 ? "?" : image / patch) + "x" + (patch < 1 ? "?" : image / patch) + " patch grid");
            }
            int projDim = bounded(f, "gemma3.embedding_length", MAX_WIDTH);
            // Ollama's gemma3 image processor normalizes with mean = std = 0.5 (the released preprocessor_config.json)
            float[] half = {0.5f, 0.5f, 0.5f};
            return check(f, new VisionConfig(Layout.OLLAMA, nEmbd, nFf, nLayer, nHead, image, patch, (image / patch) / side, eps,
                    projDim, half, half.clone()));
        }
        throw new ModelFormatException(where(f) + "no Gemma 3 vision tower: general.architecture '" + arch
                + "' without clip.vision.* or gemma3.vision.* keys (the 1B model and text-only files have none; pass --mmproj)");
    }

    private static VisionConfig check(GgufFile f, VisionConfig c) {
        String w = where(f);
        if (c.nEmbd % c.nHead != 0) throw new ModelFormatException(w + "vision width " + c.nEmbd + " is not a multiple of " + c.nHead + " heads");
        if (c.imageSize % c.patchSize != 0) {
            throw new ModelFormatException(w + "vision image size " + c.imageSize + " is not a multiple of the patch size " + c.patchSize);
        }
        if (c.merge < 1 || c.patchesPerSide() % c.merge != 0) {
            throw new ModelFormatException(w + "projector pool kernel " + c.merge + " does not divide the " + c.patchesPerSide() + " patches per side");
        }
        if (!(c.eps > 0 && c.eps < 1)) throw new ModelFormatException(w + "vision layer_norm_epsilon " + c.eps + " outside (0, 1)");
        for (int i = 0; i < 3; i++) {
            if (!(c.std[i] > 0) || !Float.isFinite(c.std[i]) || !Float.isFinite(c.mean[i])) {
                throw new ModelFormatException(w + "image mean/std " + Arrays.toString(c.mean) + " / " + Arrays.toString(c.std));
            }
        }
        c.checkTensors(f);
        return c;
    }

    /** Tensor names of this layout (llama.cpp's clip-impl.h TN_* names, or Ollama's gguf tags). */
    public Names names() {
        return layout == Layout.MMPROJ ? Names.MMPROJ : Names.OLLAMA;
    }

    /** The tensor names of a layout. */
    public record Names(String patchW, String patchB, String posEmbd, String blk, String ln1, String ln2, String q, String k,
                        String v, String o, String up, String down, String postLnW, String postLnB, String normW, String projW) {
        static final Names MMPROJ = new Names("v.patch_embd.weight", "v.patch_embd.bias", "v.position_embd.weight", "v.blk.",
                "ln1", "ln2", "attn_q", "attn_k", "attn_v", "attn_out", "ffn_up", "ffn_down", "v.post_ln.weight",
                "v.post_ln.bias", "mm.soft_emb_norm.weight", "mm.input_projection.weight");
        static final Names OLLAMA = new Names("v.patch_embedding.weight", "v.patch_embedding.bias", "v.position_embedding.weight",
                "v.blk.", "layer_norm1", "layer_norm2", "attn_q", "attn_k", "attn_v", "attn_output", "mlp.fc1", "mlp.fc2",
                "v.post_layernorm.weight", "v.post_layernorm.bias", "mm.mm_soft_emb_norm.weight", "mm.mm_input_projection.weight");
    }

    /** Checks the shape of every tensor the tower reads (clear errors before any allocation sized from the config). */
    public void checkTensors(GgufFile f) {
        Names n = names();
        int ps = patchSize;
        shape(f, n.patchW(), ps, ps, 3, nEmbd);
        shape(f, n.patchB(), nEmbd);
        shape(f, n.posEmbd(), nEmbd, nPatches());
        for (int il = 0; il < nLayer; il++) {
            String b = n.blk() + il + ".";
            for (String ln : new String[] {n.ln1(), n.ln2()}) {
                shape(f, b + ln + ".weight", nEmbd);
                shape(f, b + ln + ".bias", nEmbd);
            }
            for (String m : new String[] {n.q(), n.k(), n.v(), n.o()}) {
                shape(f, b + m + ".weight", nEmbd, nEmbd);
                shape(f, b + m + ".bias", nEmbd);
            }
            shape(f, b + n.up() + ".weight", nEmbd, nFf);
            shape(f, b + n.up() + ".bias", nFf);
            shape(f, b + n.down() + ".weight", nFf, nEmbd);
            shape(f, b + n.down() + ".bias", nEmbd);
        }
        shape(f, n.postLnW(), nEmbd);
        shape(f, n.postLnB(), nEmbd);
        shape(f, n.normW(), nEmbd);
        shape(f, n.projW(), projDim, nEmbd); // ne = [text width, vision width]: llama.cpp transposes it in the graph
    }

    private static void shape(GgufFile f, String name, long... ne) {
        GgufTensorInfo t = f.findTensor(name).orElseThrow(() -> new ModelFormatException(where(f) + "missing vision tensor '" + name + "'"));
        if (!Arrays.equals(t.ne(), ne)) {
            throw new ModelFormatException(where(f) + "vision tensor '" + name + "': expected ne " + Arrays.toString(ne) + ", found "
                    + Arrays.toString(t.ne()));
        }
        if (!org.jgemma.ggml.Dequantize.canDequantize(t.type())) {
            throw new ModelFormatException(where(f) + "vision tensor '" + name + "' has type " + t.type() + ", which this engine cannot read");
        }
    }

    private static int bounded(GgufFile f, String key, int max) throws GgufFormatException {
        long v = f.getLong(key);
        if (v < 1 || v > max) throw new ModelFormatException(where(f) + "metadata key '" + key + "': " + v + " outside [1, " + max + "]");
        return (int) v;
    }

    private static float[] triple(GgufFile f, String key) throws GgufFormatException {
        float[] v = f.getFloatArray(key);
        if (v.length != 3) throw new ModelFormatException(where(f) + "metadata key '" + key + "': " + v.length + " values, expected 3");
        return v.clone();
    }

    static String where(GgufFile f) {
        return f.path() == null ? "" : f.path().getFileName() + ": ";
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
