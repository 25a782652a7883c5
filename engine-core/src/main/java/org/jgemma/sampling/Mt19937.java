package org.jgemma.sampling;

/**
 * The 32-bit Mersenne Twister ({@code std::mt19937}), so that a seed draws the same numbers as llama.cpp's
 * {@code dist} sampler. {@link #nextCanonicalDouble()} is libstdc++'s {@code std::generate_canonical<double, 53>}
 * (two 32-bit draws), which {@code std::uniform_real_distribution<double>(0, 1)} uses. Not thread-safe.
 */
public final class Mt19937 {
    private static final int N = 624, M = 397;
    private static final int MATRIX_A = 0x9908b0df, UPPER = 0x80000000, LOWER = 0x7fffffff;

    private final int[] mt = new int[N];
    private int index;

    public Mt19937(long seed) {
        seed(seed);
    }

    /** Re-seeds with the low 32 bits of {@code seed} (std::mt19937::seed). */
    public void seed(long seed) {
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        index = N;
    }

    /** The next 32-bit output, as an unsigned value in a long. */
    public long nextUnsigned() {
        if (index >= N) twist();
        int y = mt[index++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    /** A double in [0, 1) as {@code std::generate_canonical<double, 53>(mt19937)} computes it in libstdc++. */
    public double nextCanonicalDouble() {
        double r = 4294967296.0; // 2^32, the generator's range
        double sum = nextUnsigned();
        double mult = r;
        sum += nextUnsigned() * mult;
        mult *= r;
        double ret = sum / mult;
        if (ret >= 1.0) ret = Math.nextDown(1.0);
        return ret;
    }

    private void twist() {
        for (int i = 0; i < N; i++) {
            int y = (mt[i] & UPPER) | (mt[(i + 1) % N] & LOWER);
            int v = mt[(i + M) % N] ^ (y >>> 1);
            if ((y & 1) != 0) v ^= MATRIX_A;
            mt[i] = v;
        }
        index = 0;
    }
}
