package org.jgemma.bench;

import java.util.concurrent.TimeUnit;
import org.jgemma.backend.Backend;
import org.jgemma.backend.BackendOptions;
import org.jgemma.backend.Backends;
import org.jgemma.backend.Buffer;
import org.jgemma.backend.Weight;
import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Quantized mat-vec (one token, the decode hot path) on gemma3's real shapes, per format and backend, through the
 * Backend SPI. Device work is synchronised inside the measured call, so GPU timings are real. Shapes are
 * {@code ROWSxCOLS} of the weight (output x input): 1B attn/ffn 1152x6912 and 6912x1152 (up and down), 4B 2560x10240,
 * 12B 3840x15360, the output projection 262144x1152.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class MatVecBenchmark {
    @Param({"cpu"})
    public String backend;

    @Param({"Q4_K", "Q8_0"})
    public String format;

    @Param({"6912x1152"})
    public String shape;

    @Param({"0"})
    public int threads;

    private Backend be;
    private Weight w;
    private Buffer x, y;

    @Setup(Level.Trial)
    public void setup() {
        String[] s = shape.split("x");
        long rows = Long.parseLong(s[0]);
        int cols = Integer.parseInt(s[1]);
        be = Backends.create(backend, new BackendOptions(threads, null));
        w = be.upload(TestWeights.random("w", GgmlType.valueOf(format), Math.toIntExact(rows), cols, 7));
        x = be.allocate(cols, "x");
        y = be.allocate(rows, "y");
        be.write(x, 0, TestWeights.gaussian(cols, 1.0, 11), 0, cols);
    }

    @Benchmark
    public void matvec() {
        be.matmul(w, x, 1, y);
        be.synchronize();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        be.close();
    }

    /** Packed weight bytes one call reads. */
    static long bytesPerOp(String format, String shape) {
        String[] s = shape.split("x");
        return GgmlType.valueOf(format).byteSize(Long.parseLong(s[1])) * Long.parseLong(s[0]);
    }
}
