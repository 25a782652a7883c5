package org.jgemma.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import java.util.Random;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.IntBuffer;
import org.jgemma.backend.KvBuffer;
import org.jgemma.backend.Weight;
import org.jgemma.opencl.OpenClTestSupport.QuantCase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Each OpenCL kernel against an independent reference: the packed-block kernels against gguf-py's dequantization
 * (quant-blocks.bin.gz), the others against the scalar twins in {@link ScalarOps}. Error budgets: f32 kernels with a
 * different summation order, |err| ≤ 1e-5 · Σ|terms| (+1e-6); the F16 KV cache is rounded identically in the reference.
 */
class OpenClKernelTest {

    static List<QuantCase> quantCases() {
        return OpenClTestSupport.quantCases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("quantCases")
    void matmulMatchesGgufPyDequantization(QuantCase c) {
        OpenClBackend b = OpenClTestSupport.backend();
        Weight w = b.upload(c.tensor());
        assertEquals(c.cols(), w.cols());
        assertEquals(c.rows(), w.rows());
        Random r = new Random(7 + c.type().id);
        for (int n : new int[] {1, 6}) { // decode, and a prompt batch crossing the NT=4 token groups
            float[] x = OpenClTestSupport.gaussian(r, n * c.cols(), 1.0);
            Buffer xb = b.allocate(x.length, "x");
            Buffer ob = b.allocate((long) n * c.rows(), "out");
            b.write(xb, 0, x, 0, x.length);
            b.matmul(w, xb, n, ob);
            float[] got = new float[n * c.rows()];
            b.read(ob, 0, got, 0, got.length);
            for (int t = 0; t < n; t++) {
                for (int row = 0; row < c.rows(); row++) {
                    double want = 0;
                    double mag = 0;
                    for (int k = 0; k < c.cols(); k++) {
                        double term = (double) c.dequantized()[row * c.cols() + k] * x[t * c.cols() + k];
                        want += term;
                        mag += Math.abs(term);
                    }
                    assertEquals(want, got[t * c.rows() + row], 1e-5 * mag + 1e-6, c + " n=" + n + " t=" + t + " row=" + row);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("quantCases")
    void embedDequantizesRowsAndScales(QuantCase c) {
        OpenClBackend b = OpenClTestSupport.backend();
        Weight w = b.upload(c.tensor());
        int[] ids = {2, 0, 3, 2, c.rows()}; // the last id is out of range: a NaN row
        IntBuffer ib = b.allocateInts(ids.length, "ids");
        b.writeInts(ib, ids, ids.length);
        Buffer out = b.allocate((long) ids.length * c.cols(), "emb");
        float scale = 1.5f;
        b.embed(w, ib, ids.length, scale, out);
        float[] got = new float[ids.length * c.cols()];
        b.read(out, 0, got, 0, got.length);
        for (int t = 0; t < ids.length - 1; t++) {
            for (int k = 0; k < c.cols(); k++) {
                float want = c.dequantized()[ids[t] * c.cols() + k] * scale;
                assertEquals(want, got[t * c.cols() + k], 2e-6f * Math.abs(want) + 1e-7f, c + " t=" + t + " k=" + k);
            }
        }
        for (int k = 0; k < c.cols(); k++) assertTrue(Float.isNaN(got[(ids.length - 1) * c.cols() + k]), "bad id gives NaN");
    }

    @Test
    void rmsNormMatchesGgmlArithmeticInPlace() {
        OpenClBackend b = OpenClTestSupport.backend();
        Random r = new Random(11);
        int rows = 3;
        int dim = 1152;
        float[] x = OpenClTestSupport.gaussian(r, rows * dim, 2.0);
        float[] w = OpenClTestSupport.gaussian(r, dim, 1.0);
        Weight wt = b.upload(OpenClTestSupport.f32Tensor("norm", w));
        Buffer xb = b.allocate(x.length, "x");
        b.write(xb, 0, x, 0, x.length);
        b.rmsNorm(xb, wt, rows, dim, 1e-6f, xb);
        float[] got = new float[x.length];
        b.read(xb, 0, got, 0, got.length);
        float[] want = ScalarOps.rmsNormReference(x, w, rows, dim, 1e-6f);
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-6f * Math.abs(want[i]) + 1e-7f, "i=" + i);
    }

    @Test
    void ropeNeoxMatchesGgmlAngles() {
        OpenClBackend b = OpenClTestSupport.backend();
        Random r = new Random(13);
        int n = 3;
        int heads = 4;
        int hd = 256;
        int[] pos = {0, 17, 4000};
        float[] x = OpenClTestSupport.gaussian(r, n * heads * hd, 1.0);
        for (float[] bs : new float[][] {{10000f, 1f}, {1_000_000f, 0.125f}}) {
            Buffer xb = b.allocate(x.length, "q");
            b.write(xb, 0, x, 0, x.length);
            IntBuffer pb = b.allocateInts(n, "pos");
            b.writeInts(pb, pos, n);
            b.rope(xb, n, heads, hd, pb, bs[0], bs[1]);
            float[] got = new float[x.length];
            b.read(xb, 0, got, 0, got.length);
            float[] want = x.clone();
            ScalarOps.ropeReference(want, n, heads, hd, pos, bs[0], bs[1]);
            // angles up to 4000 rad: sin/cos of the same float angle agree to ~1e-6 (OpenCL's cos/sin are ≤ 4 ulp)
            for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-5f, "base " + bs[0] + " i=" + i);
        }
    }

    @Test
    void attentionWithGqaSlidingWindowAndRingBuffer() {
        OpenClBackend b = OpenClTestSupport.backend();
        Random r = new Random(17);
        int nHead = 4;
        int nKv = 2;
        int hd = 256;
        int kvDim = nKv * hd;
        int total = 150; // > 2 tiles of 64 keys
        float[][] keys = new float[total][];
        float[][] values = new float[total][];
        for (int p = 0; p < total; p++) {
            keys[p] = OpenClTestSupport.gaussian(r, kvDim, 1.0);
            values[p] = OpenClTestSupport.gaussian(r, kvDim, 1.0);
        }
        // window 0 with a full cache; window 100 with a full cache; window 40 over a 48-slot ring buffer
        int[][] configs = {{0, 256}, {100, 256}, {40, 48}};
        for (int[] cfg : configs) {
            int window = cfg[0];
            int slots = cfg[1];
            KvBuffer cache = b.allocateKv(slots, kvDim, "kv");
            Buffer kb = b.allocate(kvDim, "k");
            Buffer vb = b.allocate(kvDim, "v");
            IntBuffer pb = b.allocateInts(4, "pos");
            // append one position at a time (decode), as the model does
            for (int p = 0; p < total - 3; p++) {
                b.write(kb, 0, keys[p], 0, kvDim);
                b.write(vb, 0, values[p], 0, kvDim);
                b.writeInts(pb, new int[] {p}, 1);
                b.kvAppend(kb, vb, 1, pb, cache);
            }
            // then a batch of the last 3 positions (prompt), attended together
            int n = 3;
            int[] pos = {total - 3, total - 2, total - 1};
            Buffer kbn = b.allocate((long) n * kvDim, "kn");
            Buffer vbn = b.allocate((long) n * kvDim, "vn");
            for (int t = 0; t < n; t++) {
                b.write(kbn, (long) t * kvDim, keys[pos[t]], 0, kvDim);
                b.write(vbn, (long) t * kvDim, values[pos[t]], 0, kvDim);
            }
            b.writeInts(pb, pos, n);
            b.kvAppend(kbn, vbn, n, pb, cache);
            float[] q = OpenClTestSupport.gaussian(r, n * nHead * hd, 1.0);
            Buffer qb = b.allocate(q.length, "q");
            b.write(qb, 0, q, 0, q.length);
            Buffer ob = b.allocate(q.length, "o");
            b.attention(qb, cache, n, pb, nHead, nKv, hd, window, 1f / 16, ob);
            float[] got = new float[q.length];
            b.read(ob, 0, got, 0, got.length);
            float[] want = ScalarOps.attentionReference(q, keys, values, n, pos, nHead, nKv, hd, window, slots, 1f / 16);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 2e-5f, "window " + window + " slots " + slots + " i=" + i);
            }
        }
    }

    @Test
    void elementwiseOps() {
        OpenClBackend b = OpenClTestSupport.backend();
        Random r = new Random(19);
        int n = 1000; // not a multiple of the work-group size
        float[] g = OpenClTestSupport.gaussian(r, n, 3.0);
        float[] u = OpenClTestSupport.gaussian(r, n, 1.0);
        Buffer gb = b.allocate(n, "gate");
        Buffer ub = b.allocate(n, "up");
        b.write(gb, 0, g, 0, n);
        b.write(ub, 0, u, 0, n);
        b.geglu(gb, ub, n, gb);
        float[] got = new float[n];
        b.read(gb, 0, got, 0, n);
        for (int i = 0; i < n; i++) assertEquals(ScalarOps.gegluReference(g[i], u[i]), got[i], 1e-5f * (1 + Math.abs(got[i])), "geglu " + i);

        b.write(gb, 0, g, 0, n);
        b.add(gb, ub, n);
        b.read(gb, 0, got, 0, n);
        for (int i = 0; i < n; i++) assertEquals(g[i] + u[i], got[i], 0f, "add " + i);

        float[] big = OpenClTestSupport.gaussian(r, n, 40.0);
        b.write(gb, 0, big, 0, n);
        b.softcap(gb, n, 30f);
        b.read(gb, 0, got, 0, n);
        for (int i = 0; i < n; i++) assertEquals(30 * Math.tanh(big[i] / 30.0), got[i], 2e-5, "softcap " + i);

        Buffer dst = b.allocate(2 * n, "dst");
        b.copy(ub, 10, dst, 500, 300);
        float[] all = new float[2 * n];
        b.read(dst, 0, all, 0, 2 * n);
        for (int i = 0; i < 2 * n; i++) assertEquals(i >= 500 && i < 800 ? u[i - 490] : 0f, all[i], 0f, "copy " + i);
        assertThrows(IllegalArgumentException.class, () -> b.copy(dst, 0, dst, 10, 20));
        assertThrows(IndexOutOfBoundsException.class, () -> b.read(dst, 2 * n - 5, all, 0, 10));
    }

    @Test
    void argmaxTakesTheLowestIndexOnTies() {
        OpenClBackend b = OpenClTestSupport.backend();
        Random r = new Random(23);
        int rows = 4;
        int dim = 262_144 / 64 + 7;
        float[] x = OpenClTestSupport.gaussian(r, rows * dim, 1.0);
        x[1 * dim + 300] = 9f;
        x[1 * dim + 5] = 9f; // tie: 5 wins
        x[2 * dim + dim - 1] = 50f;
        for (int j = 0; j < dim; j++) x[3 * dim + j] = -1f; // all equal: 0 wins
        Buffer xb = b.allocate(x.length, "logits");
        b.write(xb, 0, x, 0, x.length);
        IntBuffer out = b.allocateInts(rows, "ids");
        b.argmax(xb, rows, dim, out);
        int[] got = new int[rows];
        b.readInts(out, got, rows);
        int[] want = new int[rows];
        for (int t = 0; t < rows; t++) want[t] = ScalarOps.argmaxReference(x, t * dim, dim);
        assertArrayEquals(want, got);
        assertArrayEquals(new int[] {want[0], 5, dim - 1, 0}, got);
    }

    @Test
    void rejectsForeignAndMisshapedBuffers() {
        OpenClBackend b = OpenClTestSupport.backend();
        Buffer small = b.allocate(10, "small");
        Weight w = b.upload(OpenClTestSupport.f32Tensor("norm", new float[16]));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.rmsNorm(small, w, 1, 16, 1e-6f, small));
        assertTrue(e.getMessage().contains("small"), e.getMessage());
        if (!e.getMessage().contains("16")) fail(e.getMessage());
    }
}
