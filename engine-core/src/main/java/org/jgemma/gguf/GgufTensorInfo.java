package org.jgemma.gguf;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import org.jgemma.ggml.GgmlType;

/**
 * One tensor of a GGUF file. {@code ne[0]} is the fastest-varying dimension (a row); a matrix with
 * {@code ne = [K, N]} has N rows of K elements. {@code data} is a read-only view of the mapped file.
 */
public record GgufTensorInfo(String name, GgmlType type, long[] ne, long relativeOffset, long fileOffset,
                             long byteSize, MemorySegment data) {

    public GgufTensorInfo {
        ne = ne.clone();
    }

    @Override
    public long[] ne() {
        return ne.clone();
    }

    public int nDims() {
        return ne.length;
    }

    /** Size of dimension {@code i}; 1 beyond the stored dimensions. */
    public long dim(int i) {
        return i < ne.length ? ne[i] : 1;
    }

    public long elementCount() {
        long n = 1;
        for (long d : ne) n *= d;
        return n;
    }

    /** Elements per row ({@code ne[0]}). */
    public long rowLength() {
        return dim(0);
    }

    /** Number of rows (product of ne[1..]). */
    public long rowCount() {
        return dim(0) == 0 ? 0 : elementCount() / dim(0);
    }

    /** Bytes per row. */
    public long rowBytes() {
        return type.byteSize(dim(0));
    }

    @Override
    public String toString() {
        return name + " " + type + " " + Arrays.toString(ne) + " @" + fileOffset;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufTensorInfo t && t.name.equals(name) && t.type == type && Arrays.equals(t.ne, ne)
                && t.relativeOffset == relativeOffset && t.fileOffset == fileOffset;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(ne);
    }
}
