package org.jgemma.cpu;

import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes of the CPU kernels, chosen once at start-up from the machine's preferred shape (as llama3.java's
 * {@code preferredShape}): AVX2 256 bits, AVX-512 512, NEON 128. The property {@code -Djgemma.vectorBits=128|256|512}
 * narrows it (never widens past the preferred shape), to test and compare the narrow paths on a wide machine.
 * <ul>
 *   <li>{@link #F}, {@link #D}: element-wise float kernels, float dots and tiles, activation quantization, norms:
 *       generic over the lane count, at the full width.</li>
 *   <li>{@link #S}, {@link #B}, {@link #I}, {@link #FI}: the int8 dot kernels (QuantDot, QuantDotK, QuantDotK23) are
 *       written for 16 short lanes, one scale group of 16 values per vector (wider would straddle two groups' scales):
 *       they run at 256 bits where the machine has at least 256 ({@link #INT8_WIDE}; AVX-512 runs AVX2's
 *       instructions), else the scalar twin QuantDotReference (code written for 256 bits on a 128-bit machine would
 *       run in the Vector API's Java fallback, far slower).</li>
 *   <li>{@link #TILES_256}, {@link #I8}, {@link #F8}: the kernels written for 8-lane tiles (DequantRows,
 *       MatmulBatched's micro-kernel) likewise; below 256 bits their callers take the scalar reference
 *       (Dequantize) or Matmul's generic float tile.</li>
 * </ul>
 */
final class VectorShapes {
    private VectorShapes() {}

    /** Bits of the vectors used: the preferred shape, or the narrower one asked for by jgemma.vectorBits. */
    static final int BITS;
    static final VectorSpecies<Float> F;
    static final VectorSpecies<Double> D;
    /** Whether the 256-bit kernels (int8 dots, 8-lane tiles) run: vectors of at least 256 bits. */
    static final boolean INT8_WIDE, TILES_256;
    /** The int8 kernels' species: 16 weight bytes per load, 16 short lanes, 8 int and float lanes. */
    static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class, VectorShape.S_128_BIT);
    static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.S_256_BIT);
    static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.S_256_BIT);
    static final VectorSpecies<Float> FI = VectorSpecies.of(float.class, VectorShape.S_256_BIT);
    /** 8 int / 8 float lanes: the species of the fixed 8-lane tiles. */
    static final VectorSpecies<Integer> I8 = I;
    static final VectorSpecies<Float> F8 = FI;

    static {
        int preferred = VectorShape.preferredShape().vectorBitSize();
        int asked = Integer.getInteger("jgemma.vectorBits", preferred);
        BITS = Integer.highestOneBit(Math.max(128, Math.min(preferred, asked)));
        VectorShape shape = VectorShape.forBitSize(BITS);
        F = VectorSpecies.of(float.class, shape);
        D = VectorSpecies.of(double.class, shape);
        INT8_WIDE = TILES_256 = BITS >= 256;
    }

    /** One line for diagnostics: the shapes in use. */
    static String describe() {
        return "vectors " + BITS + " bit (preferred " + VectorShape.preferredShape().vectorBitSize() + "): float x" + F.length()
                + (INT8_WIDE ? ", int8 kernels 256 bit" : ", int8 kernels scalar");
    }
}
