package org.jgemma.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums of a vector's lanes in a fixed order. {@code reduceLanes(ADD)} on floats and doubles leaves the order
 * unspecified, and HotSpot uses a different one in the Java fallback (interpreter, C1: lane by lane) than in C2's
 * intrinsic (pairwise), so the same generation gave different logits cold and warm. Here the order is a fixed tree,
 * ((l0+l4)+(l2+l6))+((l1+l5)+(l3+l7)), computed with lanewise adds (exactly rounded, so identical in every mode);
 * it is as many adds and shuffles as C2's own reduction.
 */
final class Lanes {
    private Lanes() {}

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final VectorShuffle<Float> F_XOR4 = VectorShuffle.fromOp(F, i -> i ^ 4);
    private static final VectorShuffle<Float> F_XOR2 = VectorShuffle.fromOp(F, i -> i ^ 2);
    private static final VectorShuffle<Float> F_XOR1 = VectorShuffle.fromOp(F, i -> i ^ 1);
    private static final VectorShuffle<Double> D_XOR2 = VectorShuffle.fromOp(D, i -> i ^ 2);
    private static final VectorShuffle<Double> D_XOR1 = VectorShuffle.fromOp(D, i -> i ^ 1);

    /** Σ lanes of an 8-lane vector, in the fixed tree order. */
    static float sum(FloatVector v) {
        FloatVector t = v.add(v.rearrange(F_XOR4));
        t = t.add(t.rearrange(F_XOR2));
        return t.add(t.rearrange(F_XOR1)).lane(0);
    }

    /** Σ lanes of a 4-lane vector, in the fixed tree order (l0+l2)+(l1+l3). */
    static double sum(DoubleVector v) {
        DoubleVector t = v.add(v.rearrange(D_XOR2));
        return t.add(t.rearrange(D_XOR1)).lane(0);
    }

    /** The scalar twin of {@link #sum(FloatVector)}: the same order on an array of 8 lanes. */
    static float sumReference(float[] l) {
        return ((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7]));
    }

    /** The scalar twin of {@link #sum(DoubleVector)}. */
    static double sumReference(double[] l) {
        return (l[0] + l[2]) + (l[1] + l[3]);
    }
}
