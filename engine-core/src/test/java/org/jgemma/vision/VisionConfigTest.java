package org.jgemma.vision;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Consumer;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;
import org.jgemma.model.ModelFormatException;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two layouts of a vision tower (llama.cpp mmproj; an Ollama gemma3 blob with v.* / mm.* tensors under Ollama's
 * names and gemma3.vision.* keys, ollama convert/convert_gemma3.go) give the same embeddings, and hostile files get
 * clear errors before anything is sized from them.
 */
class VisionConfigTest {
    static final Map<String, String> TO_OLLAMA = Map.ofEntries(
            Map.entry("v.patch_embd.", "v.patch_embedding."), Map.entry("v.position_embd.", "v.position_embedding."),
            Map.entry("v.post_ln.", "v.post_layernorm."), Map.entry("mm.soft_emb_norm.", "mm.mm_soft_emb_norm."),
            Map.entry("mm.input_projection.", "mm.mm_input_projection."), Map.entry(".ln1.", ".layer_norm1."),
            Map.entry(".ln2.", ".layer_norm2."), Map.entry(".attn_out.", ".attn_output."), Map.entry(".ffn_up.", ".mlp.fc1."),
            Map.entry(".ffn_down.", ".mlp.fc2."));

    static String ollamaName(String n) {
        for (var e : TO_OLLAMA.entrySet()) n = n.replace(e.getKey(), e.getValue());
        return n;
    }

    /** The fixture mmproj rewritten: {@code edit} changes the writer (keys / tensors) before it is written. */
    static Path rewrite(Path dir, String name, boolean ollama, Consumer<GgufWriter> edit) throws Exception {
        Path out = dir.resolve(name);
        try (GgufFile mm = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            GgufWriter w = new GgufWriter();
            if (ollama) {
                w.put("general.architecture", GgufValue.ofString("gemma3"));
                w.put("gemma3.embedding_length", GgufValue.ofUInt32(32));
                w.put("gemma3.vision.block_count", GgufValue.ofUInt32(3));
                w.put("gemma3.vision.embedding_length", GgufValue.ofUInt32(128));
                w.put("gemma3.vision.feed_forward_length", GgufValue.ofUInt32(256));
                w.put("gemma3.vision.image_size", GgufValue.ofUInt32(224));
                w.put("gemma3.vision.patch_size", GgufValue.ofUInt32(14));
                w.put("gemma3.vision.num_channels", GgufValue.ofUInt32(3));
                w.put("gemma3.vision.attention.head_count", GgufValue.ofUInt32(4));
                w.put("gemma3.vision.attention.layer_norm_epsilon", GgufValue.ofFloat32(1e-6f));
                w.put("gemma3.mm.tokens_per_image", GgufValue.ofUInt32(16));
            } else {
                w.putAll(mm.metadata());
            }
            for (var t : mm.tensors()) w.addTensor(ollama ? ollamaName(t.name()) : t.name(), t.type(), t.ne(), t.data());
            edit.accept(w);
            w.write(out);
        }
        return out;
    }

    @Test
    void ollamaLayoutGivesTheSameEmbeddings(@TempDir Path dir) throws Exception {
        Path blob = rewrite(dir, "blob.gguf", true, w -> {});
        float[] pixels = VisionRefs.pixels("image2_224x224.llamacpp");
        float[] a, b;
        try (GgufFile f = GgufFile.open(blob)) {
            VisionModel v = VisionModel.load(f);
            assertEquals(VisionConfig.Layout.OLLAMA, v.config().layout());
            assertEquals(4, v.config().merge());
            a = VisionRefs.flat(v.encode(pixels));
        }
        try (GgufFile f = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"))) {
            b = VisionRefs.flat(VisionModel.load(f).encode(pixels));
        }
        assertArrayEquals(b, a);
    }

    static String error(Path dir, String name, Consumer<GgufWriter> edit) throws Exception {
        Path p = rewrite(dir, name, false, edit);
        try (GgufFile f = GgufFile.open(p)) {
            return assertThrows(ModelFormatException.class, () -> VisionModel.load(f)).getMessage();
        }
    }

    @Test
    void hostileFilesGetClearErrors(@TempDir Path dir) throws Exception {
        String m = error(dir, "a.gguf", w -> w.put("clip.vision.embedding_length", GgufValue.ofUInt32(2_000_000_000)));
        assertTrue(m.contains("clip.vision.embedding_length") && m.contains("outside"), m);
        m = error(dir, "b.gguf", w -> w.put("clip.vision.block_count", GgufValue.ofUInt32(4)));
        assertTrue(m.contains("missing vision tensor 'v.blk.3."), m);
        m = error(dir, "c.gguf", w -> w.put("clip.vision.image_size", GgufValue.ofUInt32(225)));
        assertTrue(m.contains("not a multiple of the patch size"), m);
        m = error(dir, "d.gguf", w -> w.put("clip.vision.projector.scale_factor", GgufValue.ofUInt32(3)));
        assertTrue(m.contains("pool kernel 3"), m);
        m = error(dir, "e.gguf", w -> w.put("clip.projector_type", GgufValue.ofString("mlp")));
        assertTrue(m.contains("'mlp'"), m);
        m = error(dir, "f.gguf", w -> w.put("clip.vision.feed_forward_length", GgufValue.ofUInt32(512)));
        assertTrue(m.contains("expected ne [128, 512]"), m);
        m = error(dir, "g.gguf", w -> w.put("clip.vision.image_mean", GgufValue.ofFloat32Array(new float[] {0.5f})));
        assertTrue(m.contains("image_mean"), m);
    }
}
