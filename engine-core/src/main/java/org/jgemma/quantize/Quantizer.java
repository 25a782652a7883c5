package org.jgemma.quantize;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.jgemma.ggml.Dequantize;
import org.jgemma.ggml.GgmlType;
import org.jgemma.ggml.Quantize;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufWriter;

/**
 * {@code jgemma quantize}: writes the file llama-quantize writes (llama.cpp src/llama-quant.cpp ::
 * llama_model_quantize_impl, no importance matrix): the input's metadata in order, then
 * {@code general.quantization_version = 2} and {@code general.file_type} (set, so moved to the end, as
 * gguf_set_val_u32 does), the split keys removed; tensors in llama_model_loader's order (layer, then name), each
 * converted to the type {@link TensorTypeRules} picks with the reference quantizers (quantize_row_*_ref).
 * <p>Streamed: the header is written first (every output type and size is known before any data is converted), then
 * each tensor is converted in slabs of rows, the rows of a slab spread over the threads; memory stays at about
 * {@link #SLAB_ELEMENTS} floats plus one output slab, whatever the file size (the input is memory-mapped).
 */
public final class Quantizer {
    /** Elements converted per slab (all threads together): bounds the memory at a few tens of MB. */
    static final int SLAB_ELEMENTS = 1 << 22;
    /** gguf.h GGML_QNT_VERSION. */
    static final int QNT_VERSION = 2;

    /** What to make. {@code outputTensorType} / {@code tokenEmbeddingType} may be null (llama's rules decide). */
    public record Options(QuantFormat format, int threads, boolean pure, GgmlType outputTensorType,
                          GgmlType tokenEmbeddingType, boolean allowRequantize) {
        public Options {
            if (format == null) throw new IllegalArgumentException("no quantization type given");
            if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            for (GgmlType t : new GgmlType[] {outputTensorType, tokenEmbeddingType}) {
                if (t != null && !Quantize.canQuantize(t)) {
                    throw new IllegalArgumentException("cannot quantize to tensor type " + t);
                }
            }
        }

        public static Options of(QuantFormat format) {
            return new Options(format, Runtime.getRuntime().availableProcessors(), false, null, null, false);
        }
    }

    /** One tensor of the plan: its input and the type it gets. */
    public record Planned(GgufTensorInfo input, GgmlType type) {
        public long outputBytes() {
            return type.byteSize(input.elementCount());
        }
    }

    /** Progress callbacks (on the calling thread). */
    public interface Listener {
        /** {@code done} of {@code total} input bytes are converted; {@code index} is the tensor being worked on. */
        default void progress(int index, int count, Planned tensor, long done, long total) {}

        /** A warning, as llama-quantize prints one (fallback types, re-quantization). */
        default void warning(String message) {}
    }

    private Quantizer() {}

    /** The result: the plan and the sizes. */
    public record Result(List<Planned> tensors, long inputBytes, long outputBytes, long elements) {
        /** Bits per weight of the output's tensor data (llama-quantize's "quant size ... BPW"). */
        public double bitsPerWeight() {
            return outputBytes * 8.0 / elements;
        }
    }

    /** llama_model_loader's weights_map order (weight_name_comparer): layer number (-1 outside blocks), then name. */
    public static List<GgufTensorInfo> llamaOrder(List<GgufTensorInfo> tensors) {
        List<GgufTensorInfo> l = new ArrayList<>(tensors);
        l.sort(Comparator.comparingInt((GgufTensorInfo t) -> layerOf(t.name())).thenComparing(GgufTensorInfo::name));
        return l;
    }

    /** sscanf(name, "blk.%d.", &layer), -1 when it does not match. */
    static int layerOf(String name) {
        if (!name.startsWith("blk.")) return -1;
        int i = 4, sign = 1;
        if (i < name.length() && (name.charAt(i) == '-' || name.charAt(i) == '+')) sign = name.charAt(i++) == '-' ? -1 : 1;
        long v = 0;
        int start = i;
        while (i < name.length() && Character.isDigit(name.charAt(i)) && v < Integer.MAX_VALUE) v = v * 10 + (name.charAt(i++) - '0');
        return i == start ? -1 : (int) Math.min(Integer.MAX_VALUE, v) * sign;
    }

    /** The output types without converting anything (llama-quantize's preliminary loop). */
    public static List<Planned> plan(GgufFile in, Options o, Consumer<String> warnings) throws IOException {
        String arch = in.findString("general.architecture").orElse("llama");
        int nLayer = in.findInt(arch + ".block_count").orElse(0);
        int nHead = firstInt(in, arch + ".attention.head_count");
        int nHeadKv = in.has(arch + ".attention.head_count_kv") ? firstInt(in, arch + ".attention.head_count_kv") : nHead;
        List<GgufTensorInfo> order = llamaOrder(in.tensors());
        TensorTypeRules rules = new TensorTypeRules(o.format(), o.pure(), o.outputTensorType(), o.tokenEmbeddingType(),
                order, nHead, nHeadKv, nLayer);
        List<Planned> plan = new ArrayList<>(order.size());
        for (GgufTensorInfo t : order) {
            GgmlType type = rules.typeFor(t);
            if (type != t.type()) {
                if (t.rowLength() % type.blockSize != 0) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "': row length " + t.rowLength()
                            + " is not a multiple of " + type + "'s block size " + type.blockSize);
                }
                if (!Quantize.canQuantize(type)) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "': cannot quantize to " + type);
                }
                if (!Dequantize.canDequantize(t.type())) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "' is " + t.type() + ", which cannot be converted");
                }
                boolean quantizedInput = t.type().blockSize > 1;
                if (quantizedInput && !o.allowRequantize()) {
                    throw new IllegalArgumentException("tensor '" + t.name() + "' is already quantized (" + t.type()
                            + "); requantizing loses quality: quantize from an F32, F16 or BF16 file, or pass --allow-requantize");
                }
            }
            plan.add(new Planned(t, type));
        }
        if (rules.fallbackCount() > 0) {
            warnings.accept(rules.fallbackCount() + " of " + order.size() + " tensor(s) required fallback quantization "
                    + "(rows not a multiple of the block size)");
        }
        return plan;
    }

    private static int firstInt(GgufFile in, String key) throws IOException {
        GgufValue v = in.find(key).orElse(null);
        if (v == null) return 0;
        if (v.isArray()) {
            Object a = v.value();
            return a instanceof int[] ia && ia.length > 0 ? ia[0] : 0;
        }
        return (int) in.getLong(key);
    }

    /** Quantizes {@code inPath} into {@code outPath} (written to a temporary file, then moved into place). */
    public static Result quantize(Path inPath, Path outPath, Options o, Listener listener) throws IOException {
        if (inPath.toAbsolutePath().normalize().equals(outPath.toAbsolutePath().normalize())) {
            throw new IllegalArgumentException("the output file must differ from the input file: " + inPath);
        }
        try (GgufFile in = GgufFile.open(inPath)) {
            List<Planned> plan = plan(in, o, listener::warning);
            long requant = plan.stream().filter(p -> p.type != p.input.type() && p.input.type().blockSize > 1).count();
            if (requant > 0) listener.warning("requantizing " + requant + " tensor(s) from quantized types: quality will be lower than from F32/F16/BF16");
            GgufWriter w = new GgufWriter();
            w.putAll(in.metadata());
            w.remove("split.no").remove("split.count").remove("split.tensors.count");
            w.remove("general.quantization_version").remove("general.file_type");
            w.put("general.quantization_version", GgufValue.ofUInt32(QNT_VERSION));
            w.put("general.file_type", GgufValue.ofUInt32(o.format().ftype));
            long inBytes = 0, outBytes = 0, elements = 0;
            for (Planned p : plan) {
                w.declareTensor(p.input.name(), p.type, p.input.ne());
                inBytes += p.input.byteSize();
                outBytes += p.outputBytes();
                elements += p.input.elementCount();
            }
            Path dir = outPath.toAbsolutePath().getParent();
            Path tmp = Files.createTempFile(dir, outPath.getFileName().toString(), ".part");
            ExecutorService pool = Executors.newFixedThreadPool(o.threads(), r -> {
                Thread t = new Thread(r, "jgemma-quantize");
                t.setDaemon(true);
                return t;
            });
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                w.writeHeader(ch);
                int align = w.alignment();
                long done = 0;
                for (int i = 0; i < plan.size(); i++) {
                    Planned p = plan.get(i);
                    listener.progress(i, plan.size(), p, done, inBytes);
                    if (p.type == p.input.type()) {
                        writeFully(ch, p.input.data());
                    } else {
                        convert(p, ch, pool, o.threads(), i, plan.size(), done, inBytes, listener);
                    }
                    long pad = -p.outputBytes() & (align - 1);
                    if (pad > 0) writeFully(ch, MemorySegment.ofArray(new byte[(int) pad]));
                    done += p.input.byteSize();
                }
                listener.progress(plan.size(), plan.size(), null, inBytes, inBytes);
            } catch (IOException | RuntimeException e) {
                Files.deleteIfExists(tmp);
                throw e;
            } finally {
                pool.shutdownNow();
            }
            Files.move(tmp, outPath, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new Result(plan, inBytes, outBytes, elements);
        }
    }

    /** Converts one tensor slab by slab; the rows of a slab are split over the threads. */
    private static void convert(Planned p, FileChannel ch, ExecutorService pool, int threads, int index, int count,
                                long doneBefore, long total, Listener listener) throws IOException {
        GgufTensorInfo t = p.input;
        long rowLenL = t.rowLength();
        if (rowLenL > Integer.MAX_VALUE / 4) throw new IllegalArgumentException("tensor '" + t.name() + "': rows of " + rowLenL + " elements are too long");
        int rowLen = (int) rowLenL;
        long rows = t.rowCount();
        long inRow = t.type().byteSize(rowLen), outRow = p.type.byteSize(rowLen);
        int slabRows = (int) Math.max(1, Math.min(rows, SLAB_ELEMENTS / Math.max(1, rowLen)));
        byte[] out = new byte[Math.toIntExact(slabRows * outRow)];
        MemorySegment outSeg = MemorySegment.ofArray(out);
        MemorySegment src = t.data();
        for (long r0 = 0; r0 < rows; r0 += slabRows) {
            int n = (int) Math.min(slabRows, rows - r0);
            int per = (n + threads - 1) / threads;
            List<Future<?>> fs = new ArrayList<>();
            for (int a = 0; a < n; a += per) {
                int from = a, to = Math.min(n, a + per);
                long base = r0;
                fs.add(pool.submit(() -> {
                    float[] row = new float[rowLen];
                    for (int r = from; r < to; r++) {
                        Dequantize.dequantizeRow(t.type(), src, (base + r) * inRow, row, 0, rowLen);
                        Quantize.quantizeRow(p.type, row, 0, outSeg, r * outRow, rowLen);
                    }
                }));
            }
            for (Future<?> f : fs) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while quantizing " + t.name(), e);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) throw re;
                    throw new IllegalStateException("quantizing " + t.name() + " failed", e.getCause());
                }
            }
            writeFully(ch, outSeg.asSlice(0, n * outRow));
            listener.progress(index, count, p, doneBefore + (r0 + n) * inRow, total);
        }
    }

    private static void writeFully(FileChannel ch, MemorySegment seg) throws IOException {
        final long chunk = 1L << 30;
        for (long off = 0; off < seg.byteSize(); off += chunk) {
            ByteBuffer b = seg.asSlice(off, Math.min(chunk, seg.byteSize() - off)).asByteBuffer();
            while (b.hasRemaining()) ch.write(b);
        }
    }
}
