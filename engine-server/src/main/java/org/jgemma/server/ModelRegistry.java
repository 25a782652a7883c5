package org.jgemma.server;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The loaded models: loaded on first use, kept for their keep-alive after their last request (Ollama's 5 minutes by
 * default, or the request's {@code keep_alive}), unloaded when it runs out. More than one stays loaded only within
 * {@code --max-loaded} and the memory budget (weights + KV caches, estimated): to make room, idle models are
 * unloaded, least recently used first, and the log says which and why; when the busy ones leave no room, the load is
 * refused with 503 saying so.
 */
final class ModelRegistry implements AutoCloseable {
    private final ServerConfig cfg;
    private final long budget;
    private final Object loadLock = new Object(); // one load at a time
    private final Map<String, Entry> loaded = new LinkedHashMap<>(); // guarded by this
    private final ScheduledExecutorService reaper;

    /** A loaded model with the requests using it and when it expires. */
    static final class Entry {
        final ModelRunner runner;
        int refs;
        Instant expiresAt = Instant.MAX; // while in use, or forever (negative keep-alive)
        long lastUsed = System.nanoTime();

        Entry(ModelRunner runner) {
            this.runner = runner;
        }
    }

    /** A model in use by one request; {@code loadNanos} is the time this request spent loading it (0 if loaded). */
    record Lease(ModelRunner runner, long loadNanos) {}

    ModelRegistry(ServerConfig cfg) {
        this.cfg = cfg;
        this.budget = cfg.maxMemoryBytes() > 0 ? cfg.maxMemoryBytes() : defaultBudget();
        this.reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "jgemma-keep-alive");
            t.setDaemon(true);
            return t;
        });
        reaper.scheduleWithFixedDelay(this::expire, 250, 250, TimeUnit.MILLISECONDS);
    }

    /** 80% of the machine's memory. */
    private static long defaultBudget() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return (long) (os.getTotalMemorySize() * 0.8);
        }
        return Long.MAX_VALUE;
    }

    long budget() { return budget; }

    /** The model, loaded if it is not; the caller must {@link #release} the lease. */
    Lease acquire(ModelInfo info) throws IOException {
        String key = ModelCatalog.key(info.name());
        synchronized (this) {
            Entry e = loaded.get(key);
            if (e != null) return use(e);
        }
        synchronized (loadLock) {
            synchronized (this) {
                Entry e = loaded.get(key);
                if (e != null) return use(e);
            }
            int ctx = cfg.contextSize() > 0 ? cfg.contextSize()
                    : (int) Math.min(info.details().contextLength() > 0 ? info.details().contextLength() : 4096, 4096);
            long need = ModelRunner.estimateBytes(info, ctx, cfg.parallel());
            makeRoom(info, need);
            long t0 = System.nanoTime();
            ModelRunner runner;
            try {
                runner = ModelRunner.load(info, cfg);
            } catch (IllegalArgumentException e) {
                throw new ApiException(400, "cannot load model '" + info.name() + "': " + e.getMessage());
            } catch (RuntimeException e) {
                throw new ApiException(500, "cannot load model '" + info.name() + "': " + e.getMessage());
            }
            long loadNanos = System.nanoTime() - t0;
            log("loaded %s (%s, %s, %d MiB with KV caches) on %s in %.2f s", info.name(), info.details().quantization(),
                    info.details().parameterSize(), runner.estimatedBytes() >> 20, runner.model().backendName(), loadNanos / 1e9);
            synchronized (this) {
                Entry e = new Entry(runner);
                loaded.put(key, e);
                e.refs = 1;
                return new Lease(runner, loadNanos);
            }
        }
    }

    private Lease use(Entry e) {
        e.refs++;
        e.expiresAt = Instant.MAX;
        e.lastUsed = System.nanoTime();
        return new Lease(e.runner, 0);
    }

    /** Evicts idle models (least recently used first) until {@code need} more bytes and one more model fit. */
    private void makeRoom(ModelInfo info, long need) {
        List<Entry> evict = new ArrayList<>();
        synchronized (this) {
            long used = 0;
            for (Entry e : loaded.values()) used += e.runner.estimatedBytes();
            List<Entry> idle = new ArrayList<>(loaded.values().stream().filter(e -> e.refs == 0).toList());
            idle.sort(Comparator.comparingLong(e -> e.lastUsed));
            int count = loaded.size();
            while ((count + 1 > cfg.maxLoaded() || used + need > budget) && !idle.isEmpty()) {
                Entry e = idle.removeFirst();
                evict.add(e);
                used -= e.runner.estimatedBytes();
                count--;
            }
            if (count + 1 > cfg.maxLoaded() || used + need > budget) {
                List<String> busy = loaded.values().stream().filter(e -> e.refs > 0 && !evict.contains(e))
                        .map(e -> e.runner.info().name()).toList();
                String why = used + need > budget && busy.isEmpty()
                        ? "it needs about " + (need >> 20) + " MiB, more than the whole " + (budget >> 20) + " MiB budget (--max-memory)"
                        : used + need > budget
                        ? "it needs about " + (need >> 20) + " MiB and the models in use (" + String.join(", ", busy) + ") hold "
                                + (used >> 20) + " MiB of the " + (budget >> 20) + " MiB budget (--max-memory)"
                        : "the models in use (" + String.join(", ", busy) + ") fill --max-loaded " + cfg.maxLoaded();
                log("refused to load %s: %s", info.name(), why);
                throw new ApiException(503, "cannot load model '" + info.name() + "' now: " + why, "insufficient_memory");
            }
            for (Entry e : evict) loaded.values().remove(e);
        }
        for (Entry e : evict) {
            log("unloaded %s to make room for %s (needs about %d MiB; budget %d MiB, --max-loaded %d)",
                    e.runner.info().name(), info.name(), need >> 20, budget >> 20, cfg.maxLoaded());
            e.runner.close();
        }
    }

    /**
     * Ends a request's use: the model expires {@code keepAlive} after its last request (null: the server's default;
     * negative: never; zero: unloaded now if nothing else uses it).
     */
    void release(Lease lease, Duration keepAlive) {
        Duration ka = keepAlive != null ? keepAlive : cfg.keepAlive();
        ModelRunner toClose = null;
        synchronized (this) {
            String key = ModelCatalog.key(lease.runner().info().name());
            Entry e = loaded.get(key);
            if (e == null || e.runner != lease.runner()) return;
            e.refs--;
            e.lastUsed = System.nanoTime();
            if (e.refs == 0) {
                if (ka.isNegative()) {
                    e.expiresAt = Instant.MAX;
                } else if (ka.isZero()) {
                    loaded.remove(key);
                    toClose = e.runner;
                } else {
                    e.expiresAt = Instant.now().plus(ka);
                }
            }
        }
        if (toClose != null) {
            log("unloaded %s (keep_alive 0)", toClose.info().name());
            toClose.close();
        }
    }

    /** Unloads {@code info}'s model now if nothing uses it (a request with an empty prompt and keep_alive 0). */
    void unload(ModelInfo info) {
        ModelRunner toClose = null;
        synchronized (this) {
            String key = ModelCatalog.key(info.name());
            Entry e = loaded.get(key);
            if (e != null && e.refs == 0) {
                loaded.remove(key);
                toClose = e.runner;
            } else if (e != null) {
                e.expiresAt = Instant.now(); // as soon as its requests end
            }
        }
        if (toClose != null) {
            log("unloaded %s (keep_alive 0)", info.name());
            toClose.close();
        }
    }

    private void expire() {
        List<Entry> out = new ArrayList<>();
        synchronized (this) {
            Instant now = Instant.now();
            loaded.values().removeIf(e -> {
                boolean gone = e.refs == 0 && e.expiresAt != Instant.MAX && !e.expiresAt.isAfter(now);
                if (gone) out.add(e);
                return gone;
            });
        }
        for (Entry e : out) {
            log("unloaded %s (keep-alive expired)", e.runner.info().name());
            e.runner.close();
        }
    }

    /** A snapshot of the loaded models: runner and expiry. */
    synchronized List<Map.Entry<ModelRunner, Instant>> snapshot() {
        List<Map.Entry<ModelRunner, Instant>> out = new ArrayList<>();
        for (Entry e : loaded.values()) out.add(Map.entry(e.runner, e.refs > 0 ? Instant.MAX : e.expiresAt));
        return out;
    }

    static void log(String format, Object... args) {
        System.err.println("jgemma serve: " + String.format(java.util.Locale.ROOT, format, args));
    }

    @Override
    public void close() {
        reaper.shutdownNow();
        List<Entry> all;
        synchronized (this) {
            all = new ArrayList<>(loaded.values());
            loaded.clear();
        }
        for (Entry e : all) e.runner.close();
    }
}
