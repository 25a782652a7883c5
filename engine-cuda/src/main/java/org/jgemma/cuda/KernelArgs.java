package org.jgemma.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Kernel arguments checked against the kernel's {@code .param} list in the committed PTX and packed as CUDA's parameter
 * buffer (each parameter at its own alignment, little-endian). Every launch of both drivers goes through
 * {@link #pack}: a wrong count, a pointer where the kernel takes an int, an int where it takes a float or a
 * {@code long long} fails at once with the kernel, the position and both types, instead of the kernel reading garbage.
 */
final class KernelArgs {
    private KernelArgs() {}

    /** One {@code .param} of a PTX entry: its PTX type ({@code u64}, {@code u32}, {@code f32}, ...) and size in bytes. */
    record Param(String type, int size) {}

    /** A kernel's parameters in order, with their offsets in the parameter buffer. */
    record Signature(String kernel, List<Param> params) {
        int offset(int i) {
            int off = 0;
            for (int j = 0; j <= i; j++) {
                int s = params.get(j).size();
                off = (off + s - 1) / s * s;
                if (j < i) off += s;
            }
            return off;
        }

        int bytes() {
            return params.isEmpty() ? 0 : offset(params.size() - 1) + params.getLast().size();
        }

        long[] sizes() {
            return params.stream().mapToLong(Param::size).toArray();
        }
    }

    /** A packed parameter buffer of {@code kernel}; {@code offsets[i]} and {@code sizes[i]} locate parameter i. */
    record Packed(String kernel, byte[] bytes, int[] offsets, int[] sizes, boolean[] pointers) {
        /** Parameter i as its own array (JCuda's kernelParams form: one pointer per parameter). */
        byte[] param(int i) {
            byte[] b = new byte[sizes[i]];
            System.arraycopy(bytes, offsets[i], b, 0, sizes[i]);
            return b;
        }
    }

    static Packed pack(Signature sig, Object... args) {
        List<Param> ps = sig.params();
        if (args.length != ps.size()) {
            throw new IllegalArgumentException("kernel " + sig.kernel() + " takes " + ps.size() + " parameters (PTX .param list), "
                    + args.length + " given");
        }
        ByteBuffer b = ByteBuffer.allocate(sig.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        int[] offsets = new int[ps.size()], sizes = new int[ps.size()];
        boolean[] pointers = new boolean[ps.size()];
        for (int i = 0; i < ps.size(); i++) {
            Param p = ps.get(i);
            int off = sig.offset(i);
            offsets[i] = off;
            sizes[i] = p.size();
            Object a = args[i];
            switch (p.type()) {
                case "u64", "s64", "b64" -> {
                    if (a instanceof DevPtr d) {
                        b.putLong(off, d.address());
                        pointers[i] = true;
                    }
                    else if (a instanceof Long v) b.putLong(off, v);
                    else throw mismatch(sig, i, p, a, "a device pointer or long");
                }
                case "u32", "s32", "b32" -> {
                    if (a instanceof Integer v) b.putInt(off, v);
                    else throw mismatch(sig, i, p, a, "an int");
                }
                case "f32" -> {
                    if (a instanceof Float v) b.putFloat(off, v);
                    else throw mismatch(sig, i, p, a, "a float");
                }
                default -> throw new IllegalArgumentException("kernel " + sig.kernel() + ": parameter " + i + " has PTX type ."
                        + p.type() + ", which the host side does not pack");
            }
        }
        return new Packed(sig.kernel(), b.array(), offsets, sizes, pointers);
    }

    private static IllegalArgumentException mismatch(Signature sig, int i, Param p, Object a, String wanted) {
        return new IllegalArgumentException("kernel " + sig.kernel() + ": argument " + i + " is "
                + (a == null ? "null" : a.getClass().getSimpleName() + " " + a) + ", the PTX .param " + i + " is ." + p.type()
                + " (" + wanted + ")");
    }
}
