package org.jgemma.bench;

import java.util.concurrent.TimeUnit;
import org.jgemma.ggml.Dequantize;
import org.jgemma.backend.TestWeights;
import org.jgemma.ggml.GgmlType;
import org.jgemma.gguf.GgufTensorInfo;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * Reference dequantization throughput per GGML format: one 4096 x 256 tensor (1 Mi elements) per call.
 * {@link BenchMain} turns the time per call into GB/s of packed weight bytes read.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class DequantBenchmark {
    static final int COLS = 4096, ROWS = 256;

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    public String format;

    private GgufTensorInfo tensor;
    private float[] out;

    @Setup(Level.Trial)
    public void setup() {
        tensor = TestWeights.random("w", GgmlType.valueOf(format), ROWS, COLS, 42);
        out = new float[COLS * ROWS];
    }

    @Benchmark
    public float[] dequantize() {
        Dequantize.dequantizeRow(tensor.type(), tensor.data(), 0, out, 0, COLS * ROWS);
        return out;
    }

    /** Packed bytes one call reads. */
    static long bytesPerOp(String format) {
        return GgmlType.valueOf(format).byteSize((long) COLS * ROWS);
    }
}
