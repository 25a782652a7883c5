package org.jgemma.opencl;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.jgemma.backend.BackendOptions;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * One OpenCL backend shared by the tests of this JVM (the kernel build is the slow part on PoCL).
 *
 * <p>Without an OpenCL device the tests are skipped, except where one is required: when the environment variable
 * {@code CI} is set (not "false") or the system property {@code jgemma.requireOpenCl} is true, a missing runtime or
 * device FAILS the tests. {@code .ci/run} installs PoCL, so CI must see a device.
 */
final class OpenClTestSupport {
    private OpenClTestSupport() {}

    private static OpenClBackend backend;
    private static String unavailable;

    static boolean required() {
        String ci = System.getenv("CI");
        return (ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false")) || Boolean.getBoolean("jgemma.requireOpenCl");
    }

    /** The shared backend on the default device; skips (or fails where required) when there is none. */
    static synchronized OpenClBackend backend() {
        if (backend == null && unavailable == null) {
            try {
                backend = OpenClBackend.create(BackendOptions.defaults());
            } catch (RuntimeException e) {
                if (!(e instanceof org.jgemma.backend.BackendUnavailableException)) throw e;
                unavailable = e.getMessage();
            }
        }
        if (backend == null) unavailable("no OpenCL backend: " + unavailable);
        return backend;
    }

    static void unavailable(String why) {
        if (required()) Assertions.fail(why + " (an OpenCL device is required: CI or -Djgemma.requireOpenCl is set)");
        Assumptions.abort(why);
    }

    /** One entry of quant-blocks.bin.gz (written by src/test/python/make_quant_fixture.py with gguf-py). */
    record QuantCase(GgmlType type, int rows, int cols, byte[] packed, float[] dequantized) {
        GgufTensorInfo tensor() {
            MemorySegment seg = MemorySegment.ofArray(packed);
            return new GgufTensorInfo("test." + type, type, new long[] {cols, rows}, 0, 0, packed.length, seg);
        }

        @Override
        public String toString() {
            return type + " [" + rows + "][" + cols + "]";
        }
    }

    static List<QuantCase> quantCases() {
        try (InputStream raw = OpenClTestSupport.class.getResourceAsStream("quant-blocks.bin.gz")) {
            DataInputStream in = new DataInputStream(new GZIPInputStream(raw));
            byte[] magic = in.readNBytes(4);
            if (!new String(magic, java.nio.charset.StandardCharsets.US_ASCII).equals("JGQF")) throw new IOException("bad magic");
            int count = le(in);
            List<QuantCase> out = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                GgmlType type = GgmlType.byId(le(in));
                int rows = le(in);
                int cols = le(in);
                byte[] packed = in.readNBytes(le(in));
                byte[] fb = in.readNBytes(4 * rows * cols);
                float[] deq = new float[rows * cols];
                ByteBuffer.wrap(fb).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(deq);
                out.add(new QuantCase(type, rows, cols, packed, deq));
            }
            return out;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("reading quant-blocks.bin.gz", e);
        }
    }

    private static int le(DataInputStream in) throws IOException {
        return Integer.reverseBytes(in.readInt());
    }

    /** A 1-D F32 weight (norm weights) as a tensor. */
    static GgufTensorInfo f32Tensor(String name, float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return new GgufTensorInfo(name, GgmlType.F32, new long[] {v.length}, 0, 0, 4L * v.length, MemorySegment.ofArray(b.array()));
    }

    static float[] gaussian(java.util.Random r, int n, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextGaussian() * sd);
        return v;
    }
}
