package org.jgemma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendUnavailableException;
import org.jgemma.backend.reference.ReferenceBackend;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.testing.Fixtures;
import org.junit.jupiter.api.Test;

/** A model asks the backend whether it fits (Backend#checkFits) before it uploads anything, with the right sizes. */
class Gemma3MemoryCheckTest {

    /** A reference backend whose checkFits records its arguments and then throws. */
    static Backend refusing(AtomicReference<long[]> asked, AtomicInteger uploads) {
        ReferenceBackend real = new ReferenceBackend();
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (p, m, args) -> {
            if (m.getName().equals("checkFits")) {
                asked.set(new long[] {(Long) args[0], (Long) args[1], (Long) args[2]});
                throw new BackendUnavailableException("does not fit");
            }
            if (m.getName().equals("upload")) uploads.incrementAndGet();
            try {
                return m.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    @Test
    void checksBeforeUploadingWithTheModelsSizes() throws Exception {
        AtomicReference<long[]> asked = new AtomicReference<>();
        AtomicInteger uploads = new AtomicInteger();
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny", "q4_k_m")); Backend b = refusing(asked, uploads)) {
            var e = assertThrows(BackendUnavailableException.class, () -> Gemma3Model.load(f, b, 32));
            assertEquals("does not fit", e.getMessage());
            assertEquals(0, uploads.get(), "nothing uploaded before the check");
            long weights = f.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
            assertEquals(weights, asked.get()[0], "packed weight bytes");
            // tiny: 6 layers, kv_dim 64; context 32 < window 8 + batch, so every layer holds min(32, 8 + batch) or 32 slots
            Gemma3Config c = Gemma3Config.from(f);
            long kv = 0;
            for (int il = 0; il < c.nLayer(); il++) {
                int slots = c.isLocal(il) ? Math.min(32, c.slidingWindow() + Gemma3Model.Options.of(32).batch()) : 32;
                kv += 2L * slots * c.kvDim();
            }
            assertEquals(kv, asked.get()[1], "K and V elements of one session");
        }
    }

    @Test
    void theVisionTowerCountsInTheCheck() throws Exception {
        AtomicReference<long[]> text = new AtomicReference<>(), both = new AtomicReference<>();
        AtomicInteger uploads = new AtomicInteger();
        try (GgufFile f = GgufFile.open(Fixtures.file("vision/gemma3v-text-rows.gguf"));
             GgufFile mm = GgufFile.open(Fixtures.file("vision/gemma3v-tiny-mmproj-f32.gguf"));
             Backend a = refusing(text, uploads); Backend b = refusing(both, uploads)) {
            org.jgemma.vision.VisionMemory vision = org.jgemma.vision.VisionMemory.of(mm);
            assertThrows(BackendUnavailableException.class, () -> Gemma3Model.load(f, a, Gemma3Model.Options.of(64)));
            assertThrows(BackendUnavailableException.class, () -> Gemma3Model.load(f, b, Gemma3Model.Options.of(64), vision));
            assertEquals(0, uploads.get());
            assertEquals(text.get()[0] + vision.weightBytes(), both.get()[0], "weights: the text model's + the mmproj's tensors");
            assertEquals(text.get()[1], both.get()[1], "KV cache unchanged");
            assertEquals(text.get()[2] + vision.scratchBytes(), both.get()[2], "scratch: + one image through the tower");
            var e = Gemma3Model.estimate(f, Gemma3Model.Options.of(64)).plus(vision);
            assertEquals(List.of(both.get()[0], both.get()[1], both.get()[2]), List.of(e.weightBytes(), e.kvElements(), e.scratchBytes()));
        }
    }

    @Test
    void defaultBackendsAcceptEverything() throws Exception {
        try (GgufFile f = GgufFile.open(Fixtures.model("tiny", "q8_0")); Backend b = new ReferenceBackend()) {
            assertSame(b, Gemma3Model.load(f, b, 16).backend());
        }
    }
}
