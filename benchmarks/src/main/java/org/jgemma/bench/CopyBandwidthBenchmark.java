package org.jgemma.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The machine's memory bandwidth as seen from Java: copies 256 MiB between two off-heap segments, split across
 * {@code threads} threads (0 = all cores). GB/s here is bytes read (the copy also writes as many).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
public class CopyBandwidthBenchmark {
    static final long BYTES = 256L << 20;

    @Param({"0"})
    public int threads;

    private MemorySegment src, dst;
    private int n;

    @Setup
    public void setup() {
        src = Arena.ofAuto().allocate(BYTES, 4096);
        dst = Arena.ofAuto().allocate(BYTES, 4096);
        src.fill((byte) 1);
        dst.fill((byte) 2);
        n = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }

    @Benchmark
    public void copy() {
        long chunk = BYTES / n;
        IntStream.range(0, n).parallel().forEach(i -> MemorySegment.copy(src, i * chunk, dst, i * chunk, chunk));
    }
}
