package org.jgemma.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums of a vector's lanes in a fixed order. {@code reduceLanes(ADD)} on floats and doubles leaves the order
 * unspecified, and HotSpot uses a different one in the Java fallback (interpreter, C1: lane by lane) than in C2's
 * intrinsic (pairwise), so the same generation gave different logits cold and warm. Here the order is a fixed tree
 * of lanewise adds (exactly rounded, so identical in every mode): lane i plus lane i ^ n/2, then i ^ n/4, ..., then
 * i ^ 1; for 8 lanes ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)). It is as many adds and shuffles as C2's own reduction.
 * The vectors are those of {@link VectorShapes#F} / {@link VectorShapes#D} or {@link VectorShapes#FI}: 2 to 16 lanes.
 */
final class Lanes {
    private Lanes() {}

    // shuffles i -> i ^ x per species (constants: C2 folds them as it did the 256-bit-only fields)
    private static final VectorShuffle<Float> F4_2 = fx(FloatVector.SPECIES_128, 2), F4_1 = fx(FloatVector.SPECIES_128, 1);
    private static final VectorShuffle<Float> F8_4 = fx(FloatVector.SPECIES_256, 4), F8_2 = fx(FloatVector.SPECIES_256, 2),
            F8_1 = fx(FloatVector.SPECIES_256, 1);
    private static final VectorShuffle<Float> F16_8 = fx(FloatVector.SPECIES_512, 8), F16_4 = fx(FloatVector.SPECIES_512, 4),
            F16_2 = fx(FloatVector.SPECIES_512, 2), F16_1 = fx(FloatVector.SPECIES_512, 1);
    private static final VectorShuffle<Double> D2_1 = dx(DoubleVector.SPECIES_128, 1);
    private static final VectorShuffle<Double> D4_2 = dx(DoubleVector.SPECIES_256, 2), D4_1 = dx(DoubleVector.SPECIES_256, 1);
    private static final VectorShuffle<Double> D8_4 = dx(DoubleVector.SPECIES_512, 4), D8_2 = dx(DoubleVector.SPECIES_512, 2),
            D8_1 = dx(DoubleVector.SPECIES_512, 1);

    private static VectorShuffle<Float> fx(VectorSpecies<Float> s, int x) {
        return VectorShuffle.fromOp(s, i -> i ^ x);
    }

    private static VectorShuffle<Double> dx(VectorSpecies<Double> s, int x) {
        return VectorShuffle.fromOp(s, i -> i ^ x);
    }

    /**
     * Σ lanes of a vector of {@link VectorShapes#F}, in the fixed tree order. The lane count is a constant, so C2 keeps
     * only one branch (a switch on {@code v.length()} is not folded where v comes through a loop phi: ~3% of a mat-vec).
     */
    static float sumF(FloatVector v) {
        return sum(v, VectorShapes.F.length());
    }

    /** Σ lanes of a vector of {@link VectorShapes#FI} (the int8 kernels' accumulators). */
    static float sumFI(FloatVector v) {
        return sum(v, VectorShapes.FI.length());
    }

    /** Σ lanes of a 4-, 8- or 16-lane vector, in the fixed tree order. */
    static float sum(FloatVector v) {
        return sum(v, v.length());
    }

    private static float sum(FloatVector v, int lanes) {
        if (lanes == 8) return sum8(v);
        if (lanes == 16) return sum16(v);
        if (lanes == 4) return sum4(v);
        throw new IllegalArgumentException("float vector of " + v.length() + " lanes");
    }

    private static float sum8(FloatVector v) {
        FloatVector t = v.add(v.rearrange(F8_4));
        t = t.add(t.rearrange(F8_2));
        return t.add(t.rearrange(F8_1)).lane(0);
    }

    private static float sum16(FloatVector v) {
        FloatVector t = v.add(v.rearrange(F16_8));
        t = t.add(t.rearrange(F16_4));
        t = t.add(t.rearrange(F16_2));
        return t.add(t.rearrange(F16_1)).lane(0);
    }

    private static float sum4(FloatVector v) {
        FloatVector t = v.add(v.rearrange(F4_2));
        return t.add(t.rearrange(F4_1)).lane(0);
    }

    /** Σ lanes of a vector of {@link VectorShapes#D}, in the fixed tree order (a constant lane count, as {@link #sumF}). */
    static double sumD(DoubleVector v) {
        return sum(v, VectorShapes.D.length());
    }

    /** Σ lanes of a 2-, 4- or 8-lane vector, in the fixed tree order ((l0+l2)+(l1+l3) for 4). */
    static double sum(DoubleVector v) {
        return sum(v, v.length());
    }

    private static double sum(DoubleVector v, int lanes) {
        if (lanes == 4) {
            DoubleVector t = v.add(v.rearrange(D4_2));
            return t.add(t.rearrange(D4_1)).lane(0);
        }
        if (lanes == 8) {
            DoubleVector t = v.add(v.rearrange(D8_4));
            t = t.add(t.rearrange(D8_2));
            return t.add(t.rearrange(D8_1)).lane(0);
        }
        if (lanes == 2) return v.add(v.rearrange(D2_1)).lane(0);
        throw new IllegalArgumentException("double vector of " + v.length() + " lanes");
    }

    /** The scalar twin of {@link #sum(FloatVector)}: the same order on an array of 4, 8 or 16 lanes. */
    static float sumReference(float[] l) {
        float[] t = l.clone();
        for (int x = t.length / 2; x >= 1; x /= 2) {
            float[] u = new float[t.length];
            for (int i = 0; i < t.length; i++) u[i] = t[i] + t[i ^ x];
            t = u;
        }
        return t[0];
    }

    /** The scalar twin of {@link #sum(DoubleVector)}. */
    static double sumReference(double[] l) {
        double[] t = l.clone();
        for (int x = t.length / 2; x >= 1; x /= 2) {
            double[] u = new double[t.length];
            for (int i = 0; i < t.length; i++) u[i] = t[i] + t[i ^ x];
            t = u;
        }
        return t[0];
    }
}
