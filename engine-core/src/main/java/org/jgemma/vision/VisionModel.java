package org.jgemma.vision;

import java.lang.foreign.MemorySegment;
import java.util.stream.IntStream;
import org.jgemma.ggml.Dequantize;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;

/**
 * The Gemma 3 vision tower: SigLIP encoder then the Gemma 3 projector, turning one preprocessed image
 * ({@code float[3][S][S]}, {@link ImagePreprocessor}) into {@link VisionConfig#nTokens()} embeddings of the text width.
 * The order of operations is llama.cpp's (tools/mtmd/clip.cpp :: clip_graph::build_inp / build_vit,
 * tools/mtmd/models/siglip.cpp for PROJECTOR_TYPE_GEMMA3), which equals HF's SiglipVisionModel + Gemma3MultiModalProjector:
 * <ol>
 *   <li>patch embedding: a stride-P conv, here im2col + matmul with ne [P, P, 3, D] = D rows of 3·P·P, plus bias;</li>
 *   <li>+ learned position embeddings [n_patches][D];</li>
 *   <li>per block (pre-norm): x += Wo·attn(LN1(x)) + bo with full (non-causal) attention, scale 1/sqrt(head_dim);
 *       x += W2·gelu_tanh(W1·LN2(x) + b1) + b2 (LayerNorm with weight and bias);</li>
 *   <li>post-layernorm;</li>
 *   <li>projector: 4x4 (merge x merge) average pool over the patch grid, raster order; RMSNorm times the norm weight
 *       (which already holds Gemma's +1: the converters add it); then x·W with W ne [text D, D] (llama.cpp transposes it).</li>
 * </ol>
 * {@link #encode} runs the tower's matmuls and attention through a CPU backend ({@link VisionEncoder}); {@link #encodeReference}
 * is the plain-Java (scalar, host) twin: weights stay in the mapped file in their GGML type and are dequantized a row at a
 * time; matmuls and attention heads run in parallel on the common fork-join pool. The result does not scale the
 * embeddings by sqrt(n_embd): only text-token embeddings get that (llama.cpp gemma3.cpp scales inp_embd for tokens only).
 * Thread-safe.
 */
public final class VisionModel {
    final VisionConfig config;
    final Mat patchW;              // [D][3·P·P]
    final float[] patchB;          // [D]
    final float[] posEmbd;         // [n_patches][D]
    final Block[] blocks;
    final float[] postLnW, postLnB; // [D]
    final float[] normW;           // [D], includes the +1
    final float[] projT;           // [D][text D]: x·W with W as stored (ne = [text D, D]), row k = vision dim k

    record Block(float[] ln1W, float[] ln1B, Mat q, float[] qB, Mat k, float[] kB, Mat v, float[] vB, Mat o, float[] oB,
                         float[] ln2W, float[] ln2B, Mat up, float[] upB, Mat down, float[] downB) {}

    /** A weight matrix in its GGML type, mapped: {@code rows} rows of {@code cols} elements. */
    record Mat(GgufTensorInfo t, int rows, int cols) {
        void row(int r, float[] dst) {
            Dequantize.dequantizeRow(t.type(), t.data(), r * t.type().byteSize(cols), dst, 0, cols); // by cols: a conv weight is 4-D
        }
    }

    private VisionModel(VisionConfig c, GgufFile f) {
        this.config = c;
        VisionConfig.Names n = c.names();
        int d = c.nEmbd();
        this.patchW = mat(f, n.patchW(), d, 3 * c.patchSize() * c.patchSize());
        this.patchB = vec(f, n.patchB());
        this.posEmbd = vec(f, n.posEmbd());
        this.blocks = new Block[c.nLayer()];
        for (int il = 0; il < c.nLayer(); il++) {
            String b = n.blk() + il + ".";
            blocks[il] = new Block(vec(f, b + n.ln1() + ".weight"), vec(f, b + n.ln1() + ".bias"),
                    mat(f, b + n.q() + ".weight", d, d), vec(f, b + n.q() + ".bias"),
                    mat(f, b + n.k() + ".weight", d, d), vec(f, b + n.k() + ".bias"),
                    mat(f, b + n.v() + ".weight", d, d), vec(f, b + n.v() + ".bias"),
                    mat(f, b + n.o() + ".weight", d, d), vec(f, b + n.o() + ".bias"),
                    vec(f, b + n.ln2() + ".weight"), vec(f, b + n.ln2() + ".bias"),
                    mat(f, b + n.up() + ".weight", c.nFf(), d), vec(f, b + n.up() + ".bias"),
                    mat(f, b + n.down() + ".weight", d, c.nFf()), vec(f, b + n.down() + ".bias"));
        }
        this.postLnW = vec(f, n.postLnW());
        this.postLnB = vec(f, n.postLnB());
        this.normW = vec(f, n.normW());
        this.projT = vec(f, n.projW());
    }

    /** The tower of {@code f} (an mmproj GGUF or an Ollama gemma3 blob), its config and tensor shapes checked. */
    public static VisionModel load(GgufFile f) {
        return new VisionModel(VisionConfig.from(f), f);
    }

    public VisionConfig config() { return config; }

    /** Bytes of the tower's tensors (what it adds to a "will it fit" estimate; the file is mapped, not copied). */
    public static long weightBytes(GgufFile f) {
        long b = 0;
        for (var t : f.tensors()) if (t.name().startsWith("v.") || t.name().startsWith("mm.")) b += t.byteSize();
        return b;
    }

    /** Preprocesses and encodes: {@code [n_tokens][projDim]}. */
    public float[][] encode(RgbImage image, ImagePreprocessor.Mode mode) {
        return encode(ImagePreprocessor.preprocess(image, config.imageSize(), config.mean(), config.std(), mode));
    }

    /**
     * Encodes a preprocessed image {@code pixels = float[3][S][S]}: {@code [n_tokens][projDim]}, raster order. The tower's
     * matmuls and attention run on a CPU backend when one is on the class path ({@link VisionEncoder}: the Vector API
     * kernels), else as {@link #encodeReference}. Thread-safe (one image at a time through the backend).
     */
    public float[][] encode(float[] pixels) {
        VisionEncoder e = encoder();
        if (e == null) return encodeReference(pixels);
        synchronized (e) {
            return e.encode(pixels);
        }
    }

    /**
     * Encodes on {@code backend}, which the caller drives from this thread only: what {@link #encode} does on its CPU
     * backend. The tower's weights are uploaded for this call and stay with the backend until it closes; buffers are freed.
     */
    public float[][] encode(float[] pixels, org.jgemma.backend.Backend backend) {
        try (VisionEncoder e = new VisionEncoder(this, backend, false)) {
            return e.encode(pixels);
        }
    }

    private final Object encoderLock = new Object();
    private VisionEncoder encoder;      // on its own CPU backend, made on first use; null: none on the class path
    private boolean encoderTried, closed;

    private VisionEncoder encoder() {
        synchronized (encoderLock) {
            if (closed) throw new IllegalStateException("the vision tower is closed");
            if (!encoderTried) {
                encoderTried = true;
                for (org.jgemma.backend.BackendProvider p : org.jgemma.backend.Backends.providers()) {
                    if (p.name().equals("cpu") && p.probe().available()) {
                        org.jgemma.backend.Backend cpu = p.create(org.jgemma.backend.BackendOptions.defaults());
                        try {
                            encoder = new VisionEncoder(this, cpu, true);
                        } catch (UnsupportedOperationException e) { // a weight type the backend lacks: the plain path reads it
                            System.getLogger(VisionModel.class.getName()).log(System.Logger.Level.WARNING,
                                    "vision tower on the host (slow): " + e.getMessage());
                        }
                        break;
                    }
                }
            }
            return encoder;
        }
    }

    /** Releases the CPU backend {@link #encode} made (its worker threads and buffers); later encodes fail. */
    public void close() {
        synchronized (encoderLock) {
            closed = true;
            if (encoder != null) {
                synchronized (encoder) {
                    encoder.close();
                }
            }
            encoder = null;
        }
    }

    /** The plain-Java (scalar, host) encode: the slow twin of {@link VisionEncoder}. */
    public float[][] encodeReference(float[] pixels) {
        VisionConfig c = config;
        int np = c.nPatches(), d = c.nEmbd();
        float[] cols = im2col(pixels);                                          // [n_patches][3·P·P]
        float[] x = new float[np * d];                                          // [n_patches][D] residual stream
        matmul(patchW, patchB, cols, np, x);
        for (int i = 0; i < x.length; i++) x[i] += posEmbd[i];
        float[] h = new float[np * d], q = new float[np * d], k = new float[np * d], v = new float[np * d], a = new float[np * d];
        float[] ff = new float[np * c.nFf()];
        for (Block b : blocks) {
            layerNorm(x, b.ln1W(), b.ln1B(), np, d, c.eps(), h);
            matmul(b.q(), b.qB(), h, np, q);
            matmul(b.k(), b.kB(), h, np, k);
            matmul(b.v(), b.vB(), h, np, v);
            attention(q, k, v, np, c.nHead(), c.headDim(), a);
            matmul(b.o(), b.oB(), a, np, h);
            for (int i = 0; i < x.length; i++) x[i] += h[i];
            layerNorm(x, b.ln2W(), b.ln2B(), np, d, c.eps(), h);
            matmul(b.up(), b.upB(), h, np, ff);
            for (int i = 0; i < ff.length; i++) ff[i] = geluTanh(ff[i]);
            matmul(b.down(), b.downB(), ff, np, h);
            for (int i = 0; i < x.length; i++) x[i] += h[i];
        }
        return project(x);
    }

    /** im2col: patch (py, px) -> [c][ky][kx], the order of the conv weight's ne [P, P, 3, D]: {@code [n_patches][3·P·P]}. */
    float[] im2col(float[] pixels) {
        VisionConfig c = config;
        int s = c.imageSize(), p = c.patchSize(), side = c.patchesPerSide(), np = c.nPatches();
        if (pixels.length != 3 * s * s) throw new IllegalArgumentException("pixels of " + pixels.length + " floats, need 3*" + s + "*" + s);
        int kp = 3 * p * p;
        float[] cols = new float[np * kp];
        for (int py = 0; py < side; py++) {
            for (int px = 0; px < side; px++) {
                int o = (py * side + px) * kp;
                for (int ch = 0; ch < 3; ch++) {
                    for (int ky = 0; ky < p; ky++) {
                        System.arraycopy(pixels, (ch * s + py * p + ky) * s + px * p, cols, o + (ch * p + ky) * p, p);
                    }
                }
            }
        }
        return cols;
    }

    /**
     * The encoder's last layer norm and the projector, on the host, from the residual stream {@code x [n_patches][D]}
     * (overwritten): average pool merge x merge over the patch grid (ggml_pool_2d AVG), raster order of the pooled grid;
     * RMSNorm times the norm weight; x·W. Returns {@code [n_tokens][projDim]}.
     */
    float[][] project(float[] x) {
        VisionConfig c = config;
        int side = c.patchesPerSide(), np = c.nPatches(), d = c.nEmbd();
        layerNorm(x, postLnW, postLnB, np, d, c.eps(), x);
        int m = c.merge(), ts = c.tokensPerSide(), nt = c.nTokens(), pd = c.projDim();
        float[] pooled = new float[nt * d];                                     // [n_tokens][D]
        for (int ty = 0; ty < ts; ty++) {
            for (int tx = 0; tx < ts; tx++) {
                int o = (ty * ts + tx) * d;
                for (int j = 0; j < d; j++) {
                    float sum = 0;
                    for (int ky = 0; ky < m; ky++) for (int kx = 0; kx < m; kx++) sum += x[((ty * m + ky) * side + tx * m + kx) * d + j];
                    pooled[o + j] = sum / (m * m);
                }
            }
        }
        float[][] out = new float[nt][pd];
        IntStream.range(0, nt).parallel().forEach(t -> {
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double) pooled[t * d + j] * pooled[t * d + j];
            float scale = (float) (1.0 / Math.sqrt(ss / d + c.eps()));          // ggml_rms_norm
            float[] o = out[t];
            for (int kk = 0; kk < d; kk++) {
                float xv = pooled[t * d + kk] * scale * normW[kk];
                for (int j = 0; j < pd; j++) o[j] += xv * projT[kk * pd + j];  // an axpy over the row: C2 vectorizes it
            }
        });
        return out;
    }

    /** {@code out[t][r] = Σ_k W[r][k]·x[t][k] + bias[r]}: x [n][W.cols], out [n][W.rows]. Rows in parallel. */
    static void matmul(Mat w, float[] bias, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols(), block = 16;
        IntStream.range(0, (rows + block - 1) / block).parallel().forEach(rb -> {
            float[] wr = new float[cols];
            for (int r = rb * block; r < Math.min(rows, (rb + 1) * block); r++) {
                w.row(r, wr);
                for (int t = 0; t < n; t++) {
                    float s = 0;
                    int xo = t * cols;
                    for (int kk = 0; kk < cols; kk++) s += wr[kk] * x[xo + kk];
                    out[t * rows + r] = s + bias[r];
                }
            }
        });
    }

    /** LayerNorm of each row with weight and bias (ggml_norm then mul, add): out may equal x. */
    static void layerNorm(float[] x, float[] w, float[] b, int n, int d, float eps, float[] out) {
        for (int t = 0; t < n; t++) layerNormRow(x, w, b, t * d, d, eps, out);
    }

    /** LayerNorm of the row at {@code o} (d elements): out may equal x. */
    static void layerNormRow(float[] x, float[] w, float[] b, int o, int d, float eps, float[] out) {
        double sum = 0;
        for (int j = 0; j < d; j++) sum += x[o + j];
        float mean = (float) (sum / d);
        double var = 0;
        for (int j = 0; j < d; j++) {
            float c = x[o + j] - mean;
            var += (double) c * c;
        }
        float scale = (float) (1.0 / Math.sqrt(var / d + eps));
        for (int j = 0; j < d; j++) out[o + j] = (x[o + j] - mean) * scale * w[j] + b[j];
    }

    /** Full (non-causal) multi-head attention over n tokens: q, k, v, out are [n][nHead][hd]. Heads in parallel. */
    static void attention(float[] q, float[] k, float[] v, int n, int nHead, int hd, float[] out) {
        int d = nHead * hd;
        float scale = (float) (1.0 / Math.sqrt(hd));
        IntStream.range(0, nHead).parallel().forEach(head -> {
            float[] sc = new float[n];
            for (int i = 0; i < n; i++) {
                int qo = i * d + head * hd;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    int ko = j * d + head * hd;
                    float s = 0;
                    for (int e = 0; e < hd; e++) s += q[qo + e] * k[ko + e];
                    sc[j] = s * scale;
                    max = Math.max(max, sc[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    sc[j] = (float) Math.exp(sc[j] - max);
                    sum += sc[j];
                }
                float inv = (float) (1.0 / sum);
                for (int e = 0; e < hd; e++) out[qo + e] = 0;
                for (int j = 0; j < n; j++) {
                    float pj = sc[j] * inv;
                    int vo = j * d + head * hd;
                    for (int e = 0; e < hd; e++) out[qo + e] += pj * v[vo + e];
                }
            }
        });
    }

    /** GELU, tanh approximation (ggml_gelu; HF gelu_pytorch_tanh). */
    static float geluTanh(float x) {
        double xd = x;
        return (float) (0.5 * xd * (1.0 + Math.tanh(0.7978845608028654 * (xd + 0.044715 * xd * xd * xd))));
    }

    private static Mat mat(GgufFile f, String name, int rows, int cols) {
        GgufTensorInfo t = f.findTensor(name).orElseThrow();
        return new Mat(t, rows, cols);
    }

    private static float[] vec(GgufFile f, String name) {
        GgufTensorInfo t = f.findTensor(name).orElseThrow();
        MemorySegment data = t.data();
        return Dequantize.dequantize(t.type(), data, t.elementCount());
    }
}
