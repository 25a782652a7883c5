package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@link Lanes} sums in the order of its scalar twin, bit for bit, before and after C2 compiles it, at every width. */
class LanesTest {
    @ParameterizedTest
    @ValueSource(ints = {128, 256, 512})
    void fixedOrderColdAndWarm(int bits) {
        VectorSpecies<Float> fs = VectorSpecies.of(float.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
        VectorSpecies<Double> ds = VectorSpecies.of(double.class, jdk.incubator.vector.VectorShape.forBitSize(bits));
        // a shape wider than this machine's runs in the Vector API's Java fallback: fewer iterations (no C2 intrinsic)
        int iters = bits <= VectorShapes.BITS ? 200_000 : 5_000;
        Random rnd = new Random(16);
        float[] f = new float[fs.length()];
        double[] d = new double[ds.length()];
        for (int iter = 0; iter < iters; iter++) { // long enough for C2 to compile sum()
            for (int i = 0; i < f.length; i++) f[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            for (int i = 0; i < d.length; i++) d[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(17) - 8);
            float fsum = Lanes.sum(FloatVector.fromArray(fs, f, 0));
            double dsum = Lanes.sum(DoubleVector.fromArray(ds, d, 0));
            if (Float.floatToIntBits(fsum) != Float.floatToIntBits(Lanes.sumReference(f))) {
                assertEquals(Lanes.sumReference(f), fsum, "float sum at iteration " + iter);
            }
            if (Double.doubleToLongBits(dsum) != Double.doubleToLongBits(Lanes.sumReference(d))) {
                assertEquals(Lanes.sumReference(d), dsum, "double sum at iteration " + iter);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void eightLaneOrderIsTheDocumentedTree() {
        float[] l = {1e8f, 1, -1e8f, 2, 3, 4, 5, 6};
        assertEquals(((l[0] + l[4]) + (l[2] + l[6])) + ((l[1] + l[5]) + (l[3] + l[7])), Lanes.sumReference(l));
    }
}
