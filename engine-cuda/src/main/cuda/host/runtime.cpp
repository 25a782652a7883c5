// The host runtime of the CUDA shim (cuda_host.h): kernel registry, fibers for the threads of a block, the barrier
// and warp-exchange scheduler, a pool of OS threads for the blocks of a grid, and the C API the Java host driver
// (org.jgemma.cuda.HostDriver) calls through java.lang.foreign.
#include "cuda_host.h"
#include "hc_register.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define HC_ASAN 1
extern "C" void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
extern "C" void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#else
#define HC_ASAN 0
#endif

namespace hc {

// ---- registry -------------------------------------------------------------------------------------------------

std::vector<KernelEntry> &registry() {
    static std::vector<KernelEntry> r;
    return r;
}

Registrar::Registrar(const char *name, Invoker invoke, int n, const size_t *sizes, const size_t *aligns) {
    KernelEntry e{name, invoke, n, {}, {}, 0};
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        off = (off + aligns[i] - 1) / aligns[i] * aligns[i];
        e.sizes.push_back(sizes[i]);
        e.offsets.push_back(off);
        off += sizes[i];
    }
    e.bytes = off;
    registry().push_back(std::move(e));
}

// ---- context switch -------------------------------------------------------------------------------------------
// hc_switch(save, to): saves the callee-saved registers on the current stack, stores the stack pointer in *save, and
// resumes the context whose stack pointer is `to` (System V x86-64; the kernels leave mxcsr and the x87 control word
// alone, so they are not switched).
#if defined(__x86_64__)
extern "C" void hc_switch(void **save, void *to);
extern "C" void hc_trampoline();
asm(R"(
    .text
    .globl hc_switch
    .hidden hc_switch
    .type hc_switch,@function
hc_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size hc_switch, .-hc_switch

    .globl hc_trampoline
    .hidden hc_trampoline
    .type hc_trampoline,@function
hc_trampoline:
    call hc_fiber_main
    ud2
    .size hc_trampoline, .-hc_trampoline
)");
#else
#error "the CUDA host shim switches fibers with x86-64 assembly; add the switch for this architecture"
#endif

// ---- fibers, blocks, workers ------------------------------------------------------------------------------------

enum State { READY, WAIT_WARP, WAIT_BLOCK, DONE };

struct Fiber {
    void *sp = nullptr;
    char *stack = nullptr;  // lowest usable address (a guard page lies below); the slot's Header lies above
    ThreadCtx ctx{};
    int linear = 0, lane = 0, warp = 0;
    State state = DONE;
    unsigned wait_mask = 0;
    unsigned warp_ops = 0;  // warp operations this thread has done (exchange slots alternate on it)
    void *asan_fake = nullptr;
};

struct Warp {
    unsigned present = 0, live = 0, arrived = 0;
    uint64_t slots[2][32];
};

struct Launch {
    const KernelEntry *kernel;
    const unsigned char *params;
    dim3 grid, block;
    long long nblocks;
    std::atomic<long long> next{0};
    std::atomic<bool> failed{false};
    std::mutex error_lock;
    std::string error;
};

static const size_t GUARD = 4096;
static const size_t STACK = SLOT - GUARD - 64;  // usable stack per fiber, between the guard page and the Header

struct Worker {
    void *sched_sp = nullptr;
    const void *sched_bottom = nullptr;
    size_t sched_size = 0;
    void *sched_fake = nullptr;
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    char *stacks = nullptr;
    size_t nstacks = 0;
    Fiber *current = nullptr;
    Launch *launch = nullptr;
    int live = 0, at_barrier = 0, exited = 0;
    bool aborted = false;
    uint3 bid{};

    char *mapped = nullptr;
    size_t mapped_bytes = 0;

    // n slots of SLOT bytes, SLOT-aligned: [guard page | stack | Header]
    void ensure_stacks(size_t n) {
        if (n <= nstacks) return;
        if (mapped) munmap(mapped, mapped_bytes);
        mapped_bytes = (n + 1) * SLOT;
        void *p = mmap(nullptr, mapped_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            fprintf(stderr, "jgemma cuda host: cannot map %zu fiber stacks\n", n);
            abort();
        }
        mapped = (char *) p;
        stacks = (char *) (((uintptr_t) p + SLOT - 1) & ~(SLOT - 1));
        for (size_t i = 0; i < n; i++) mprotect(stacks + i * SLOT, GUARD, PROT_NONE);
        nstacks = n;
    }
};

static thread_local Worker *worker_of_thread = nullptr;

static inline Worker *this_worker() { return (Worker *) header()->worker; }
static inline Fiber *this_fiber() { return (Fiber *) header()->fiber; }

static std::string block_name(const Worker &w) {
    char b[160];
    snprintf(b, sizeof b, "%s block (%u,%u,%u)", w.launch->kernel->name, w.bid.x, w.bid.y, w.bid.z);
    return b;
}

static std::string thread_name(const Worker &w, const Fiber &f) {
    char b[96];
    snprintf(b, sizeof b, " thread (%u,%u,%u)", f.ctx.tid.x, f.ctx.tid.y, f.ctx.tid.z);
    return block_name(w) + b;
}

static void record_error(Launch *l, const std::string &message) {
    std::lock_guard<std::mutex> g(l->error_lock);
    if (!l->failed.exchange(true)) l->error = message;
}

// From a fiber back to the scheduler of its block.
static void yield_to_scheduler(Fiber *f) {
    Worker *w = this_worker();
#if HC_ASAN
    __sanitizer_start_switch_fiber(f->state == DONE ? nullptr : &f->asan_fake, w->sched_bottom, w->sched_size);
#endif
    hc_switch(&f->sp, w->sched_sp);
#if HC_ASAN
    __sanitizer_finish_switch_fiber(f->asan_fake, &w->sched_bottom, &w->sched_size);
#endif
}

[[noreturn]] void fail(const char *what) {
    Worker *w = this_worker();
    Fiber *f = this_fiber();
    record_error(w->launch, std::string(what) + " in " + thread_name(*w, *f));
    w->aborted = true;
    f->state = DONE;
    yield_to_scheduler(f);
    __builtin_unreachable();
}

void syncthreads() {
    Worker *w = this_worker();
    Fiber *f = this_fiber();
    if (w->exited > 0) {
        char b[160];
        snprintf(b, sizeof b, "__syncthreads reached after %d threads of the block exited (divergent barrier)", w->exited);
        fail(b);
    }
    if (++w->at_barrier == (int) w->fibers.size()) {
        w->at_barrier = 0;
        for (Fiber &o : w->fibers)
            if (o.state == WAIT_BLOCK) o.state = READY;
        return;
    }
    f->state = WAIT_BLOCK;
    yield_to_scheduler(f);
}

const uint64_t *warp_exchange(unsigned mask, uint64_t v) {
    Worker *w = this_worker();
    Fiber *f = this_fiber();
    Warp &wp = w->warps[f->warp];
    const unsigned bit = 1u << f->lane;
    if (!(mask & bit)) fail("warp operation with a mask that excludes the calling lane");
    if (mask & ~wp.present) fail("warp operation whose mask names lanes the block does not have (partial warp)");
    if (mask & ~wp.live) fail("warp operation whose mask names lanes that have exited");
    const unsigned op = f->warp_ops++;
    uint64_t *slots = wp.slots[op & 1];
    slots[f->lane] = v;
    wp.arrived |= bit;
    f->wait_mask = mask;
    if ((wp.arrived & mask) == mask) {
        for (int l = 0; l < 32; l++) {
            if (!((mask >> l) & 1) || l == f->lane) continue;
            Fiber &o = w->fibers[f->warp * 32 + l];
            if (o.wait_mask != mask || o.warp_ops != f->warp_ops) {
                fail("lanes of a warp met at different warp operations (divergent shuffle/vote/__syncwarp)");
            }
            o.state = READY;
        }
        wp.arrived &= ~mask;
        return slots;
    }
    f->state = WAIT_WARP;
    yield_to_scheduler(f);
    return slots;
}

uint64_t warp_value(const uint64_t *slots, unsigned mask, int src) {
    if (src < 0 || src > 31 || !((mask >> src) & 1)) fail("warp shuffle reads a lane outside the mask");
    return slots[src];
}

}  // namespace hc

extern "C" __attribute__((used)) void hc_fiber_main() {
    using namespace hc;
    Worker *w = this_worker();
    Fiber *f = this_fiber();
#if HC_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &w->sched_bottom, &w->sched_size);
#endif
    w->launch->kernel->invoke(w->launch->params, w->launch->kernel->offsets.data());
    f->state = DONE;
    w->live--;
    w->exited++;
    w->warps[f->warp].live &= ~(1u << f->lane);
    yield_to_scheduler(f);
    __builtin_unreachable();
}

namespace hc {

static void start_fiber(Worker &w, Fiber &f) {
    char *top = f.stack + STACK;  // 16-aligned; the Header lies at top .. top + 64
#if HC_ASAN
    __asan_unpoison_memory_region(f.stack, STACK + 64);
#endif
    Header *h = (Header *) top;
    h->ctx = &f.ctx;
    h->fiber = &f;
    h->worker = &w;
    // what hc_switch pops: r15 r14 r13 r12 rbx rbp, then `ret` into hc_trampoline with rsp = top - 16 (16-aligned, so
    // its `call` enters hc_fiber_main with rsp ≡ 8 mod 16 as the ABI wants)
    uint64_t *sp = (uint64_t *) top - 9;
    for (int i = 0; i < 6; i++) sp[i] = 0;
    sp[6] = (uint64_t) (uintptr_t) &hc_trampoline;
    sp[7] = sp[8] = 0;
    f.sp = sp;
    f.state = READY;
}

// Runs one block to the end (or to its first error) on the calling OS thread.
static void run_block(Worker &w, long long index) {
    Launch *l = w.launch;
    const dim3 g = l->grid, b = l->block;
    w.bid = uint3{(unsigned) (index % g.x), (unsigned) (index / g.x % g.y), (unsigned) (index / ((long long) g.x * g.y))};
    const int n = (int) (b.x * b.y * b.z);
    const int nwarps = (n + 31) / 32;
    w.fibers.resize(n);
    w.warps.assign(nwarps, Warp{});
    w.ensure_stacks(n);
    for (int i = 0; i < n; i++) {
        Fiber &f = w.fibers[i];
        f.stack = w.stacks + (size_t) i * SLOT + GUARD;
        f.ctx.tid = uint3{(unsigned) (i % b.x), (unsigned) (i / b.x % b.y), (unsigned) (i / (b.x * b.y))};
        f.ctx.bid = w.bid;
        f.ctx.bdim = b;
        f.ctx.gdim = g;
        f.linear = i;
        f.lane = i % 32;
        f.warp = i / 32;
        f.wait_mask = 0;
        f.warp_ops = 0;
        w.warps[f.warp].present |= 1u << f.lane;
        start_fiber(w, f);
    }
    for (Warp &wp : w.warps) wp.live = wp.present;
    w.live = n;
    w.at_barrier = 0;
    w.exited = 0;
    w.aborted = false;
    const bool descending = (index & 1) != 0;
    while (w.live > 0 && !w.aborted && !l->failed.load(std::memory_order_relaxed)) {
        bool ran = false;
        for (int k = 0; k < n && !w.aborted; k++) {
            Fiber &f = w.fibers[descending ? n - 1 - k : k];
            if (f.state != READY) continue;
            ran = true;
            w.current = &f;
#if HC_ASAN
            __sanitizer_start_switch_fiber(&w.sched_fake, f.stack, STACK);
#endif
            hc_switch(&w.sched_sp, f.sp);
#if HC_ASAN
            __sanitizer_finish_switch_fiber(w.sched_fake, nullptr, nullptr);
#endif
        }
        if (!ran && w.live > 0 && !w.aborted) {
            int wb = 0, ww = 0;
            for (Fiber &f : w.fibers) wb += f.state == WAIT_BLOCK, ww += f.state == WAIT_WARP;
            char m[200];
            snprintf(m, sizeof m, "deadlock: %d threads wait at __syncthreads, %d at a warp operation, %d exited", wb, ww, w.exited);
            record_error(l, m + std::string(" in ") + block_name(w));
            w.aborted = true;
        }
    }
}

// ---- the pool of OS threads -------------------------------------------------------------------------------------

struct Pool {
    std::mutex m;
    std::condition_variable wake, done;
    Launch *job = nullptr;  // the grid being run, null between grids
    unsigned long long generation = 0;
    int active = 0;   // helpers inside the current grid
    int threads = 0;  // helpers started (besides the caller)
};

static Pool *pool = new Pool();  // never destroyed: its threads are detached and outlive static destructors
static std::atomic<int> wanted_threads{0};
// Grids smaller than this run on the calling thread alone: waking a helper costs more than a few blocks.
static const long long MIN_PARALLEL_BLOCKS = 8;

static void work(Launch *l) {
    if (!worker_of_thread) worker_of_thread = new Worker();
    Worker &w = *worker_of_thread;
    w.launch = l;
    for (;;) {
        long long i = l->next.fetch_add(1);
        if (i >= l->nblocks || l->failed.load()) break;
        run_block(w, i);
    }
}

// A helper joins a grid only while the caller has not finished it (job != null), so the caller never waits for a
// helper the OS has not scheduled yet: it runs the blocks itself and waits only for helpers that took some.
static void pool_thread() {
    unsigned long long seen = 0;
    for (;;) {
        Launch *l;
        {
            std::unique_lock<std::mutex> g(pool->m);
            pool->wake.wait(g, [&] { return pool->generation != seen; });
            seen = pool->generation;
            l = pool->job;
            if (!l) continue;
            pool->active++;
        }
        work(l);
        std::lock_guard<std::mutex> g(pool->m);
        if (--pool->active == 0) pool->done.notify_all();
    }
}

static void run_launch(Launch *l) {
    int want = wanted_threads.load();
    if (want <= 0) want = (int) std::thread::hardware_concurrency();
    int helpers = (int) std::min<long long>(want - 1, l->nblocks - 1);
    if (helpers <= 0 || l->nblocks < MIN_PARALLEL_BLOCKS) {
        work(l);
        return;
    }
    {
        std::lock_guard<std::mutex> g(pool->m);
        while (pool->threads < helpers) {
            std::thread(pool_thread).detach();
            pool->threads++;
        }
        pool->job = l;
        pool->generation++;
    }
    pool->wake.notify_all();
    work(l);
    std::unique_lock<std::mutex> g(pool->m);
    pool->job = nullptr;
    pool->done.wait(g, [] { return pool->active == 0; });
}

}  // namespace hc

// ---- C API for java.lang.foreign ------------------------------------------------------------------------------

extern "C" {

int hc_kernel_count() { return (int) hc::registry().size(); }

const char *hc_kernel_name(int k) { return hc::registry()[k].name; }

// Parameter sizes of kernel k into sizes[0 .. max); returns the number of parameters.
int hc_kernel_params(int k, long long *sizes, int max) {
    const hc::KernelEntry &e = hc::registry()[k];
    for (int i = 0; i < e.n && i < max; i++) sizes[i] = (long long) e.sizes[i];
    return e.n;
}

// 1 when built with AddressSanitizer.
int hc_sanitized() { return HC_ASAN; }

void hc_set_threads(int n) { hc::wanted_threads.store(n); }

// Device memory: host memory aligned as cuMemAlloc's (256 bytes), of exactly `bytes` (so ASan sees the end).
void *hc_alloc(long long bytes) {
    void *p = nullptr;
    if (bytes < 0 || posix_memalign(&p, 256, (size_t) (bytes == 0 ? 1 : bytes)) != 0) return nullptr;
    return p;
}

void hc_free(void *p) { free(p); }

// Runs kernel k over the grid; params packed as the CUDA parameter buffer (each at its alignment). Returns 0, or
// 1 with the error (kernel, block, thread, what) in err.
int hc_launch(int k, const void *params, long long params_bytes, int gx, int gy, int gz, int bx, int by, int bz,
              char *err, int err_len) {
    const hc::KernelEntry &e = hc::registry()[k];
    if ((size_t) params_bytes != e.bytes) {
        snprintf(err, err_len, "%s: parameter buffer of %lld bytes, the kernel takes %zu", e.name, params_bytes, e.bytes);
        return 1;
    }
    if (gx <= 0 || gy <= 0 || gz <= 0 || bx <= 0 || by <= 0 || bz <= 0 || (long long) bx * by * bz > 1024 || gy > 65535 || gz > 65535) {
        snprintf(err, err_len, "%s: invalid launch configuration grid %dx%dx%d block %dx%dx%d", e.name, gx, gy, gz, bx, by, bz);
        return 1;
    }
    static std::mutex one_at_a_time;  // the pool runs one grid at a time (like a single stream)
    std::lock_guard<std::mutex> g(one_at_a_time);
    hc::Launch l;
    l.kernel = &e;
    l.params = (const unsigned char *) params;
    l.grid = dim3{(unsigned) gx, (unsigned) gy, (unsigned) gz};
    l.block = dim3{(unsigned) bx, (unsigned) by, (unsigned) bz};
    l.nblocks = (long long) gx * gy * gz;
    hc::run_launch(&l);
    if (l.failed.load()) {
        snprintf(err, err_len, "%s", l.error.c_str());
        return 1;
    }
    return 0;
}
}
