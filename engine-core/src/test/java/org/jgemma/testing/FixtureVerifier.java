package org.jgemma.testing;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.jgemma.gguf.GgufFile;
import org.jgemma.gguf.GgufTensorInfo;

/** Compares a GGUF file piece by piece with the committed manifest of an original (FormatRefs). */
public final class FixtureVerifier {
    private FixtureVerifier() {}

    /** Hex SHA-256 of a memory segment's bytes. */
    public static String sha256(MemorySegment s) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(s.asByteBuffer());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Hex SHA-256 of float32 values as little-endian bytes. */
    public static String sha256(float[] v) {
        MemorySegment s = MemorySegment.ofArray(new byte[v.length * 4]);
        MemorySegment.copy(v, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, v.length);
        return sha256(s);
    }

    /** Every difference between the file's keys/tensors and the reference (empty if they agree). */
    public static List<String> differences(GgufFile f, FormatRefs.FileRef ref) {
        List<String> out = new ArrayList<>();
        List<String> keys = new ArrayList<>(f.metadata().keySet());
        List<String> refKeys = ref.keys().stream().map(FormatRefs.KeyRef::key).toList();
        if (!keys.equals(refKeys)) out.add("metadata keys " + keys + ", original has " + refKeys);
        List<GgufTensorInfo> ts = f.tensors();
        if (ts.size() != ref.tensors().size()) out.add(ts.size() + " tensors, original has " + ref.tensors().size());
        for (int i = 0; i < Math.min(ts.size(), ref.tensors().size()); i++) {
            GgufTensorInfo t = ts.get(i);
            FormatRefs.TensorRef r = ref.tensors().get(i);
            if (!t.name().equals(r.name())) {
                out.add("tensor #" + i + " is " + t.name() + ", original has " + r.name());
            } else if (!t.type().name().equals(r.type()) || !java.util.Arrays.equals(t.ne(), r.ne())) {
                out.add(t.name() + ": " + t.type() + " " + java.util.Arrays.toString(t.ne()) + ", original " + r.type() + " "
                        + java.util.Arrays.toString(r.ne()));
            } else if (!sha256(t.data()).equals(r.bytesSha())) {
                out.add(t.name() + " (" + t.type() + "): tensor bytes differ from the original's");
            }
        }
        return out;
    }

    /** A description of the first difference of the file at {@code p} from the reference. */
    static String firstDifference(Path p, FormatRefs.FileRef ref) {
        try (GgufFile f = GgufFile.open(p)) {
            List<String> d = differences(f, ref);
            return d.isEmpty() ? "all keys and tensors match the original; the difference is in encoding or padding"
                    : d.size() + " differences, first: " + d.get(0);
        } catch (IOException | RuntimeException e) {
            return "derived file unreadable: " + e;
        }
    }
}
