package org.jgemma.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;
import org.jgemma.gguf.GgufValue;
import org.jgemma.gguf.GgufValueType;
import org.jgemma.text.ControlChars;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code jgemma inspect FILE}: what a GGUF file holds, in the layout of gguf-py's gguf_dump.py (the three header
 * fields as pseudo-keys GGUF.version, GGUF.tensor_count, GGUF.kv_count, then every key with type, element count
 * and value), then every tensor with its absolute file offset and byte size. {@code --json} prints everything,
 * arrays in full. The file is memory-mapped, so a model of many GB opens in milliseconds.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Print the metadata and tensor table of a GGUF file (like gguf-py's gguf_dump.py).")
final class InspectCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "A GGUF file, or an Ollama model (name:tag) in the local Ollama store.")
    String model;

    private Path file; // what MODEL resolved to

    @Option(names = "--json", description = "Machine-readable output with arrays in full.")
    boolean json;

    @Option(names = "--array-limit", paramLabel = "N", defaultValue = "8",
            description = "Array elements shown before '...' (default: ${DEFAULT-VALUE}).")
    int arrayLimit;

    @Option(names = "--no-tensors", description = "Metadata only.")
    boolean noTensors;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        file = Cli.resolveModel(model);
        try (GgufFile f = GgufFile.open(file)) {
            if (json) {
                writeJson(f, spec.commandLine().getOut());
            } else {
                writeText(f, spec.commandLine().getOut());
            }
        }
        return 0;
    }

    private void writeText(GgufFile f, PrintWriter out) {
        long tensorBytes = f.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
        out.printf("* File: %s%n", file);
        out.printf("* GGUF version %d, %d bytes, alignment %d, data section at offset %d, %d tensor bytes%n",
                f.version(), f.fileSize(), f.alignment(), f.dataOffset(), tensorBytes);
        out.printf("* Dumping %d key/value pair(s)%n", f.metadata().size() + 3);
        int i = 1;
        kvLine(out, i++, "UINT32", 1, "GGUF.version", Integer.toString(f.version()));
        kvLine(out, i++, "UINT64", 1, "GGUF.tensor_count", Integer.toString(f.tensors().size()));
        kvLine(out, i++, "UINT64", 1, "GGUF.kv_count", Integer.toString(f.metadata().size()));
        for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
            GgufValue v = e.getValue();
            kvLine(out, i++, v.typeName(), v.isArray() ? v.arrayLength() : 1, e.getKey(), v.render(arrayLimit));
        }
        if (noTensors) return;
        out.printf("* Dumping %d tensor(s)%n", f.tensors().size());
        out.printf("%6s  | %-8s | %-24s | %14s | %12s | %s%n", "#", "type", "shape (ne)", "offset", "bytes", "name");
        int t = 1;
        for (GgufTensorInfo ti : f.tensors()) {
            out.printf("%6d: | %-8s | %-24s | %14d | %12d | %s%n", t++, ti.type(), shape(ti.ne()), ti.fileOffset(),
                    ti.byteSize(), ControlChars.escape(ti.name()));
        }
    }

    private static void kvLine(PrintWriter out, int i, String type, int count, String key, String value) {
        // key and value come from the file: control characters (ANSI/OSC escapes) are printed escaped
        out.printf("%6d: %-10s | %8d | %s = %s%n", i, type, count, ControlChars.escape(key), ControlChars.escape(value));
    }

    static String shape(long[] ne) {
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < ne.length; d++) sb.append(d == 0 ? "" : ", ").append(ne[d]);
        return sb.toString();
    }

    private void writeJson(GgufFile f, PrintWriter pw) throws IOException {
        JsonFactory jf = new JsonFactory().disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
        try (JsonGenerator g = jf.createGenerator(pw)) {
            g.writeStartObject();
            g.writeStringField("file", file.toString());
            g.writeNumberField("version", f.version());
            g.writeNumberField("size", f.fileSize());
            g.writeNumberField("alignment", f.alignment());
            g.writeNumberField("data_offset", f.dataOffset());
            g.writeObjectFieldStart("metadata");
            for (Map.Entry<String, GgufValue> e : f.metadata().entrySet()) {
                GgufValue v = e.getValue();
                g.writeObjectFieldStart(e.getKey());
                g.writeStringField("type", v.isArray() ? "ARRAY" : v.type().name());
                if (v.isArray()) {
                    g.writeStringField("array_type", v.elementType().name());
                    g.writeArrayFieldStart("value");
                    for (int i = 0; i < v.arrayLength(); i++) writeScalar(g, v.elementType(), v.element(i));
                    g.writeEndArray();
                } else {
                    g.writeFieldName("value");
                    writeScalar(g, v.type(), v.value());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
            if (!noTensors) {
                g.writeArrayFieldStart("tensors");
                int i = 0;
                for (GgufTensorInfo t : f.tensors()) {
                    g.writeStartObject();
                    g.writeNumberField("index", i++);
                    g.writeStringField("name", t.name());
                    g.writeStringField("type", t.type().name());
                    g.writeFieldName("shape");
                    g.writeArray(t.ne(), 0, t.nDims());
                    g.writeNumberField("offset", t.fileOffset());
                    g.writeNumberField("bytes", t.byteSize());
                    g.writeEndObject();
                }
                g.writeEndArray();
            }
            g.writeEndObject();
        }
        pw.println();
    }

    private static void writeScalar(JsonGenerator g, GgufValueType t, Object v) throws IOException {
        switch (t) {
            case STRING -> g.writeString((String) v);
            case BOOL -> g.writeBoolean((Boolean) v);
            case FLOAT32 -> g.writeNumber((double) (Float) v); // as numpy/gguf-py print a float32: widened to double
            case FLOAT64 -> g.writeNumber((Double) v);
            case UINT64 -> g.writeNumber(new BigInteger(Long.toUnsignedString((Long) v)));
            default -> g.writeNumber(((Number) v).longValue());
        }
    }
}
