package org.jgemma.vision;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.jgemma.backend.Allocation;
import org.jgemma.backend.Backend;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.Op;
import org.jgemma.backend.Weight;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * {@link VisionModel}'s SigLIP encoder run through a {@link Backend}: the patch embedding (im2col then a matmul on the conv
 * weight seen as D rows of 3·P·P), the Q/K/V/O and MLP matmuls ({@link Backend#matmul} on the mmproj's weight types as
 * stored: F16, F32, Q8_0, ...; on the CPU backend a batched GEMM over all patches) and the attention
 * ({@link Backend#selfAttention}) run on the backend; the O(n·D) steps (biases, LayerNorm, GELU, residual adds), the
 * pooling and the projector run on the host, between them, in the same float arithmetic as
 * {@link VisionModel#encodeReference}. At 896 px (4096 patches, D 1152, MLP 4304) the matmuls and attention are ~5.5 TFLOP
 * and the host steps ~1 GFLOP. Activations: [n_patches][D] row-major, as everywhere.
 *
 * <p>Not thread-safe (one image at a time: a backend is driven by one thread). {@link #close} frees the buffers and, when it
 * owns it, closes the backend; uploaded weights stay with the backend until it closes.
 */
final class VisionEncoder implements AutoCloseable {
    private final VisionModel m;
    private final Backend b;
    private final boolean ownsBackend;
    private final Weight patchW;                 // [D][3·P·P]
    private final Weight[][] w;                  // per block: q, k, v, o [D][D], up [F][D], down [D][F]
    private final List<Allocation> held = new ArrayList<>();
    private Buffer cols, x, q, k, v, a, ff;      // [np][3·P·P], [np][D] x5, [np][F]
    private boolean closed;

    VisionEncoder(VisionModel m, Backend b, boolean ownsBackend) {
        this.m = m;
        this.b = b;
        this.ownsBackend = ownsBackend;
        try {
            VisionConfig c = m.config;
            int p = c.patchSize();
            patchW = upload(m.patchW, 3 * p * p);
            w = new Weight[m.blocks.length][];
            for (int il = 0; il < w.length; il++) {
                VisionModel.Block bl = m.blocks[il];
                w[il] = new Weight[] {upload(bl.q(), c.nEmbd()), upload(bl.k(), c.nEmbd()), upload(bl.v(), c.nEmbd()),
                        upload(bl.o(), c.nEmbd()), upload(bl.up(), c.nEmbd()), upload(bl.down(), c.nFf())};
            }
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** The weight as a 2-D tensor of {@code mat.rows()} rows of {@code cols} (the conv weight ne [P, P, 3, D] is D rows of 3·P·P). */
    private Weight upload(VisionModel.Mat mat, int cols) {
        GgufTensorInfo t = mat.t();
        if (mat.cols() != cols) throw new IllegalStateException(t.name() + ": " + mat.cols() + " columns, expected " + cols);
        if (!b.supportsOp(Op.MATMUL, t.type()) || cols % t.type().blockSize != 0) {
            throw new UnsupportedOperationException("backend '" + b.name() + "' has no matmul for " + t.name() + " (" + t.type()
                    + ", rows of " + cols + ")");
        }
        GgufTensorInfo flat = new GgufTensorInfo(t.name(), t.type(), new long[] {cols, mat.rows()}, t.relativeOffset(), t.fileOffset(),
                t.byteSize(), t.data());
        return b.upload(flat); // resident until the backend closes (the SPI frees buffers, not weights; the CPU maps them)
    }

    private Buffer alloc(long n, String name) {
        Buffer buf = b.allocate(n, name);
        held.add(buf);
        return buf;
    }

    /** Encodes a preprocessed image {@code pixels = float[3][S][S]}: {@code [n_tokens][projDim]}, as {@link VisionModel#encodeReference}. */
    float[][] encode(float[] pixels) {
        if (closed) throw new IllegalStateException("vision encoder is closed");
        VisionConfig c = m.config;
        int np = c.nPatches(), d = c.nEmbd(), f = c.nFf(), nd = np * d, p = c.patchSize();
        float[] im = m.im2col(pixels);
        if (cols == null) {
            cols = alloc((long) np * 3 * p * p, "vision.cols");
            x = alloc(nd, "vision.x");
            q = alloc(nd, "vision.q");
            k = alloc(nd, "vision.k");
            v = alloc(nd, "vision.v");
            a = alloc(nd, "vision.attn");
            ff = alloc((long) np * f, "vision.ffn");
        }
        b.write(cols, 0, im, 0, im.length);
        b.matmul(patchW, cols, np, x);
        float[] xs = new float[nd], h = new float[nd], t = new float[nd], fh = new float[np * f];
        b.read(x, 0, xs, 0, nd);
        parallelRows(np, (r0, r1) -> {
            for (int i = r0 * d; i < r1 * d; i++) xs[i] = xs[i] + m.patchB[i % d] + m.posEmbd[i];
        });
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        for (int il = 0; il < w.length; il++) {
            VisionModel.Block bl = m.blocks[il];
            Weight[] wl = w[il];
            layerNorm(xs, bl.ln1W(), bl.ln1B(), np, d, c.eps(), h);
            b.write(x, 0, h, 0, nd);
            b.matmul3(wl[0], wl[1], wl[2], x, np, q, k, v);
            addBias(q, bl.qB(), np, d, h);
            addBias(k, bl.kB(), np, d, h);
            addBias(v, bl.vB(), np, d, h);
            b.selfAttention(q, k, v, np, c.nHead(), c.headDim(), scale, a);
            b.matmul(wl[3], a, np, x);
            b.read(x, 0, t, 0, nd);
            residual(xs, t, bl.oB(), np, d);
            layerNorm(xs, bl.ln2W(), bl.ln2B(), np, d, c.eps(), h);
            b.write(x, 0, h, 0, nd);
            b.matmul(wl[4], x, np, ff);
            b.read(ff, 0, fh, 0, np * f);
            float[] upB = bl.upB();
            parallelRows(np, (r0, r1) -> {
                for (int i = r0 * f; i < r1 * f; i++) fh[i] = VisionModel.geluTanh(fh[i] + upB[i % f]);
            });
            b.write(ff, 0, fh, 0, np * f);
            b.matmul(wl[5], ff, np, x);
            b.read(x, 0, t, 0, nd);
            residual(xs, t, bl.downB(), np, d);
        }
        return m.project(xs);
    }

    /** buf [n][d] += bias, through the host scratch {@code tmp} (the SPI has no broadcast add). */
    private void addBias(Buffer buf, float[] bias, int n, int d, float[] tmp) {
        b.read(buf, 0, tmp, 0, n * d);
        parallelRows(n, (r0, r1) -> {
            for (int i = r0 * d; i < r1 * d; i++) tmp[i] += bias[i % d];
        });
        b.write(buf, 0, tmp, 0, n * d);
    }

    /** x += (y + bias), per element in this order (as the reference: the matmul's output plus bias, then the residual add). */
    private static void residual(float[] x, float[] y, float[] bias, int n, int d) {
        parallelRows(n, (r0, r1) -> {
            for (int i = r0 * d; i < r1 * d; i++) x[i] += y[i] + bias[i % d];
        });
    }

    /** {@link VisionModel#layerNorm}, rows in parallel (the same arithmetic per row). */
    private static void layerNorm(float[] x, float[] w, float[] bias, int n, int d, float eps, float[] out) {
        parallelRows(n, (r0, r1) -> {
            for (int r = r0; r < r1; r++) VisionModel.layerNormRow(x, w, bias, r * d, d, eps, out);
        });
    }

    private interface RowRange {
        void run(int r0, int r1);
    }

    /** Splits n rows into chunks of 64 on the common fork-join pool. */
    private static void parallelRows(int n, RowRange body) {
        int chunk = 64, chunks = (n + chunk - 1) / chunk;
        if (chunks == 1) {
            body.run(0, n);
            return;
        }
        IntStream.range(0, chunks).parallel().forEach(i -> body.run(i * chunk, Math.min(n, (i + 1) * chunk)));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            if (ownsBackend) {
                b.close();
            } else {
                for (Allocation al : held) b.free(al);
            }
        } finally {
            held.clear();
        }
    }
}
