package org.jgemma.cpu;

/** Element-wise ops split across the workers when they are large enough to pay for the hand-off. */
final class ParallelOps implements WorkerPool.Task {
    private static final int MIN_PARALLEL = 1 << 14;
    private final WorkerPool pool;
    private float[] x, g, y;
    private int n;

    ParallelOps(WorkerPool pool) {
        this.pool = pool;
    }

    void geglu(float[] x, float[] g, float[] y, int n) {
        if (n < MIN_PARALLEL || pool.size() == 1) {
            CpuOps.geglu(x, g, y, 0, n);
            return;
        }
        this.x = x;
        this.g = g;
        this.y = y;
        this.n = n;
        pool.run(this);
        this.x = this.g = this.y = null;
    }

    @Override
    public void run(int w, int nw) {
        int per = (n + nw - 1) / nw;
        int from = Math.min(n, w * per), to = Math.min(n, from + per);
        CpuOps.geglu(x, g, y, from, to);
    }
}
