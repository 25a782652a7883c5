package org.jgemma.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

/** {@link Lanes} sums in the order of its scalar twin, bit for bit, before and after C2 compiles it. */
class LanesTest {
    @Test
    void fixedOrderColdAndWarm() {
        Random rnd = new Random(16);
        float[] f = new float[8];
        double[] d = new double[4];
        for (int iter = 0; iter < 200_000; iter++) { // long enough for C2 to compile sum()
            for (int i = 0; i < 8; i++) f[i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(9) - 4));
            for (int i = 0; i < 4; i++) d[i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(17) - 8);
            float fs = Lanes.sum(FloatVector.fromArray(FloatVector.SPECIES_256, f, 0));
            double ds = Lanes.sum(DoubleVector.fromArray(DoubleVector.SPECIES_256, d, 0));
            if (Float.floatToIntBits(fs) != Float.floatToIntBits(Lanes.sumReference(f))) {
                assertEquals(Lanes.sumReference(f), fs, "float sum at iteration " + iter);
            }
            if (Double.doubleToLongBits(ds) != Double.doubleToLongBits(Lanes.sumReference(d))) {
                assertEquals(Lanes.sumReference(d), ds, "double sum at iteration " + iter);
            }
        }
    }
}
