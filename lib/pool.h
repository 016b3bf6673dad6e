/* The library's fixed thread pool (pool.c).
 *
 * One process-wide pool of n - 1 worker threads (the calling thread is the
 * n-th), created once: at the first effcam_load_*() / effcam_ctx_init() or
 * by effcam_set_threads(). Never per call. Idle workers spin briefly
 * (bounded, ~30 us) for the next job and then sleep on a condition
 * variable: they never spin forever, so a descheduled or busy core does not
 * stall the others for long.
 *
 * Default size: EFFCAM_NUM_THREADS from the environment if set (1..64),
 * else the CPUs this process may run on, capped at 4 (batch-1 EfficientNet
 * layers are too small to feed more cores well).
 *
 * ec_parallel_for() runs fn(arg, task, thread) for every task in
 * [0, n_tasks) and returns when all have finished. Tasks are claimed
 * dynamically (a slow or descheduled thread just claims fewer); `thread` is
 * the index of the running thread, 0 .. ec_pool_threads() - 1, 0 being the
 * caller. No allocation, ever, after the pool exists.
 *
 * Contention: if the caller keeps waiting milliseconds for descheduled
 * workers (a machine busier than its cores), the next few hundred
 * parallel sections run inline on the caller, then the pool is retried
 * (see pool.c). A quiet machine never triggers it.
 *
 * Concurrency: one job at a time uses the workers. A call made while the
 * pool is busy (another user thread's predict, or a nested call from inside
 * a task) runs all its tasks inline on the calling thread, with thread
 * index 0. Kernels therefore never need per-thread scratch indexed by
 * `thread`: they split work into disjoint slices of their shared scratch.
 */
#ifndef EFFCAM_POOL_H
#define EFFCAM_POOL_H

typedef void (*ec_task_fn)(void *arg, int task, int thread);

/* Creates the pool with the default size if it does not exist yet. */
void ec_pool_init(void);
/* Resizes (or creates) the pool: n <= 0 keeps the current / default size.
 * Waits for a running job to finish first. n = 1: no worker threads. */
void ec_pool_set_threads(int n);
/* Threads a parallel_for may use (>= 1): the pool size, or the default
 * before the pool exists. */
int ec_pool_threads(void);
void ec_parallel_for(int n_tasks, ec_task_fn fn, void *arg);

/* Tasks for an op split by output rows: one per thread (at most `units`,
 * at least 1). The caller claims task 0 at once and a woken worker the
 * next, so with one contiguous range per task each thread keeps working on
 * the rows it wrote in the previous op: a cache line took ~250 ns to move
 * between the two vCPUs here, and 2-thread b0 went 7.1-7.2 -> 6.4-6.5 ms
 * when the depthwise convs and the large pointwise GEMMs split this way
 * (they took 4 dynamically claimed slices per thread before). A descheduled
 * thread is covered by the pool's back-off (pool.c), not by small slices. */
static inline int ec_row_tasks(int units) {
    int nt = ec_pool_threads();
    if (units < nt) nt = units;
    return nt < 1 ? 1 : nt;
}

/* [*lo, *hi) of n items for task t of nt, in units of `align` items
 * (the last slice takes the rest). */
static inline void ec_split(int n, int nt, int t, int align, int *lo, int *hi) {
    int units = (n + align - 1) / align;
    int a = (int)((long long)units * t / nt) * align, b = (int)((long long)units * (t + 1) / nt) * align;
    *lo = a < n ? a : n;
    *hi = b < n ? b : n;
}

#endif
