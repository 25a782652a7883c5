package org.jgemma.cuda;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * What the CUDA backend needs from a driver, and nothing more: memory, copies, launching a kernel by name with its
 * packed parameters, stream capture into a graph and replay, synchronisation, memory info. Two implementations:
 * {@link GpuDriver} (JCuda, a real GPU) and {@link HostDriver} (the same .cu kernels compiled for the CPU, called
 * through java.lang.foreign: CI runs the whole backend on it). Every call is on the one stream of the backend, in
 * order; the backend makes the driver's context current ({@link #makeCurrent}) before each call.
 */
interface CudaDriver extends AutoCloseable {
    /** A recorded sequence of launches (a CUDA graph once instantiated). */
    interface Graph {
        /** Kernels in the order recorded. */
        List<String> kernels();
    }

    /** Which driver: "jcuda" or "host". */
    String kind();

    /** The device in words, e.g. "NVIDIA H100 80GB HBM3, 79.19 GiB, compute capability 9.0". */
    String deviceName();

    /** Streaming multiprocessors (the host driver reports a fixed virtual count): sizes grids that fill the device. */
    int multiprocessors();

    /** Makes this driver's context current on the calling thread (checking, not caching, what is current). */
    void makeCurrent();

    DevPtr alloc(long bytes, String what);

    void free(DevPtr p, String what);

    void copyToDevice(DevPtr dst, MemorySegment src, long bytes, String what);

    void copyToHost(MemorySegment dst, DevPtr src, long bytes, String what);

    /** {@code words} 32-bit words of {@code value} at {@code p}. */
    void memsetD32(DevPtr p, int value, long words, String what);

    /** Launches kernel {@code name} with its parameter buffer {@code params} (packed and checked by KernelArgs). */
    void launch(String name, int gx, int gy, int gz, int bx, int by, int bz, KernelArgs.Packed params);

    /** Starts recording the stream: launches are recorded, not run, until {@link #endCapture}. */
    void beginCapture(String what);

    /** Ends the recording and instantiates it. */
    Graph endCapture(String what);

    /** Abandons a capture after an error (no graph). */
    void abortCapture();

    void launchGraph(Graph g, String what);

    void destroyGraph(Graph g);

    void synchronize(String what);

    /** {free, total} bytes of device memory. */
    long[] memInfo();

    /** Releases the context and what the driver itself holds (modules, stream, staging). */
    @Override
    void close();
}
