package org.jgemma.cuda;

import java.util.Collection;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * Device memory a model needs (packed weights + f16 KV cache + scratch) against what the device has free
 * ({@code cuMemGetInfo}), checked before anything is uploaded so a model that does not fit fails at once with the
 * numbers and what to try, not halfway through an upload.
 *
 * @param weights bytes of the packed weight tensors
 * @param kv      bytes of the KV cache (K and V, f16)
 * @param scratch bytes of activations, q8_1 copies and attention partials
 * @param free    free device bytes
 * @param total   total device bytes
 */
public record MemoryEstimate(long weights, long kv, long scratch, long free, long total) {
    /** Left free for the driver, the CUDA graphs and the kernels' modules. */
    public static final long HEADROOM = 512L << 20;

    /** Bytes of weights: the sum of the tensors' packed sizes. */
    public static long weightBytes(Collection<GgufTensorInfo> tensors) {
        long sum = 0;
        for (GgufTensorInfo t : tensors) sum = Math.addExact(sum, t.byteSize());
        return sum;
    }

    /** Bytes of an f16 KV cache: K and V rows of {@code kvDim} halves for {@code slots} slots in each layer. */
    public static long kvBytes(int layers, long slots, long kvDim) {
        return Math.multiplyExact(Math.multiplyExact(2L * 2L * layers, slots), kvDim);
    }

    public long needed() {
        return weights + kv + scratch;
    }

    public boolean fits() {
        return needed() + HEADROOM <= free;
    }

    /** Throws with the numbers and what to try when the model does not fit on {@code device}. */
    public void check(String device) {
        if (!fits()) throw new IllegalStateException(describe(device));
    }

    public String describe(String device) {
        return String.format("the model needs %s on %s (weights %s + KV cache %s + scratch %s + %s headroom) but only %s of"
                        + " %s is free; try a smaller quantization (e.g. Q4_K_M), a shorter context, closing other GPU"
                        + " programs, or --backend cpu",
                gib(needed()), device, gib(weights), gib(kv), gib(scratch), gib(HEADROOM), gib(free), gib(total));
    }

    static String gib(long bytes) {
        return String.format("%.2f GiB", bytes / (double) (1L << 30));
    }
}
