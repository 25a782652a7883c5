package org.jgemma.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Writes GGUF fields one by one, without any checks, to build malformed files for the hostile-file tests.
 * {@link #pos()} gives the offset of the next field, so tests can assert where the parser says the problem is.
 */
final class RawGguf {
    private ByteBuffer b = ByteBuffer.allocate(1 << 12).order(ByteOrder.LITTLE_ENDIAN);

    private RawGguf ensure(int n) {
        if (b.remaining() < n) {
            ByteBuffer nb = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + n)).order(ByteOrder.LITTLE_ENDIAN);
            b.flip();
            nb.put(b);
            b = nb;
        }
        return this;
    }

    /** "GGUF", version, tensor count, kv count. */
    static RawGguf header(int version, long nTensors, long nKv) {
        return new RawGguf().bytes("GGUF".getBytes(StandardCharsets.US_ASCII)).u32(version).i64(nTensors).i64(nKv);
    }

    long pos() { return b.position(); }
    RawGguf u8(int v) { ensure(1).b.put((byte) v); return this; }
    RawGguf u32(int v) { ensure(4).b.putInt(v); return this; }
    RawGguf i64(long v) { ensure(8).b.putLong(v); return this; }
    RawGguf bytes(byte[] a) { ensure(a.length).b.put(a); return this; }
    RawGguf zeros(int n) { return bytes(new byte[n]); }

    RawGguf str(String s) {
        byte[] a = s.getBytes(StandardCharsets.UTF_8);
        return i64(a.length).bytes(a);
    }

    /** A key with a UINT32 value. */
    RawGguf kvU32(String key, int v) { return str(key).u32(GgufValueType.UINT32.ordinal()).u32(v); }

    RawGguf kvString(String key, String v) { return str(key).u32(GgufValueType.STRING.ordinal()).str(v); }

    /** A tensor info: name, n_dims, ne, ggml type id, offset. */
    RawGguf tensor(String name, long[] ne, int type, long offset) {
        str(name).u32(ne.length);
        for (long d : ne) i64(d);
        return u32(type).i64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    RawGguf pad(int alignment) {
        return zeros((int) ((alignment - b.position() % alignment) % alignment));
    }

    byte[] toArray() {
        return Arrays.copyOf(b.array(), b.position());
    }
}
