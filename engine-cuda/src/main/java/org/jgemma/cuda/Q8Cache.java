package org.jgemma.cuda;

import java.util.HashMap;
import java.util.Map;
import org.jgemma.cuda.DeviceMemory.Floats;

/**
 * The q8_1 form of activation buffers, left by the kernels that produce the buffer (rms_norm_q8_f32,
 * rms_norm_add_norm_q8_f32, flash_attn_combine_q8_f32), so the mat-vec that reads the buffer next skips its own
 * quantize_q8_1 launch: one quantization per input vector instead of one per weight matrix (ggml-cuda quantizes src1
 * once per mul_mat as well, and its fusion passes keep it beside the norm).
 *
 * <p>Host-side bookkeeping in launch order: {@link #produced} after a launch that wrote a buffer's q8_1 form,
 * {@link #wrote} before any other launch or copy that writes the buffer (CudaBackend calls it for every op's outputs),
 * {@link #clear} at the start and end of every {@link CudaBackend#runStep}, so a recorded step sees the same state when
 * it is captured as when it ran eagerly, and nothing is assumed across a replay. The storage of a buffer (its size in
 * int8 plus a float2 per 32) is allocated on first use and freed with the buffer; it is the backend's scratch, not the
 * caller's memory.
 */
final class Q8Cache {
    /** int8 quants [rows][k] and q8_1 factors (d, d·Σq) [rows][k/32]. */
    record Q8(DevPtr qs, DevPtr ds) {}

    private static final class Entry {
        final Q8 q8;
        int rows, k;  // rows of k elements valid; 0 rows: none

        Entry(Q8 q8) {
            this.q8 = q8;
        }
    }

    private final CudaBackend backend;
    private final Map<DevPtr, Entry> entries = new HashMap<>();

    Q8Cache(CudaBackend backend) {
        this.backend = backend;
    }

    /** Where the q8_1 form of {@code f} goes (allocated on first use, for all of f). f's size must be a multiple of 32. */
    Q8 storage(Floats f) {
        Entry e = entries.get(f.ptr());
        if (e == null) {
            long n = Math.max(32, f.size());
            DevPtr qs = backend.allocScratch(n, "q8_1 quants of " + f.name());
            DevPtr ds = backend.allocScratch(8 * ((n + 31) / 32), "q8_1 factors of " + f.name());
            e = new Entry(new Q8(qs, ds));
            entries.put(f.ptr(), e);
        }
        return e.q8;
    }

    /** A launch just wrote the q8_1 form of f's first {@code rows} rows of {@code k} elements (into {@link #storage}). */
    void produced(Floats f, int rows, int k) {
        Entry e = entries.get(f.ptr());
        if (e == null) throw new IllegalStateException("q8_1 of " + f.name() + " produced without storage");
        e.rows = rows;
        e.k = k;
    }

    /** The q8_1 form of f's first n rows of k elements, if the last launch that wrote f left it; else null. */
    Q8 valid(Floats f, int n, int k) {
        Entry e = entries.get(f.ptr());
        return e != null && e.k == k && e.rows >= n ? e.q8 : null;
    }

    /** f is about to be written by something that does not update its q8_1 form. */
    void wrote(Floats f) {
        Entry e = entries.get(f.ptr());
        if (e != null) e.rows = 0;
    }

    /** Forgets every q8_1 form (a step starts or ends; a graph replay leaves no bookkeeping). */
    void clear() {
        for (Entry e : entries.values()) e.rows = 0;
    }

    /** f is being freed: its storage goes too. */
    void release(Floats f) {
        Entry e = entries.remove(f.ptr());
        if (e != null) {
            backend.freeScratch(e.q8.qs());
            backend.freeScratch(e.q8.ds());
        }
    }
}
