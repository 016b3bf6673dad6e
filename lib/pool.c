#define _GNU_SOURCE
/* Fixed thread pool; see pool.h for the contract.
 *
 * A job is published as one 64-bit word:
 *   generation (32 bits) | task count (16 bits) | next task (16 bits).
 * Workers claim a task with a compare-and-swap on the whole word, so a
 * claim succeeds only for a task index below the count of the job that is
 * still current: a worker that looked at an older job can never run a
 * task of a newer one (the count had to live in the word for that: read
 * separately, a late worker could pair the old word with the new count).
 * While a job's tasks are unclaimed the caller does not touch fn / arg, so
 * those read before a successful claim belong to it. Larger task counts
 * run as several jobs. The caller takes part in its own
 * job, then waits (bounded spin, then a condition variable) until every
 * task has completed: it never waits for a worker that claimed nothing. */
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define EC_MAX_THREADS 64
#define SPIN_ITERS 4000 /* ~30 us of pause instructions before sleeping */

static pthread_mutex_t g_cfg = PTHREAD_MUTEX_INITIALIZER; /* create / resize */
static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER; /* sleep / wake */
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_done = PTHREAD_COND_INITIALIZER;

static pthread_t g_workers[EC_MAX_THREADS];
static _Atomic int g_nthreads;  /* 0: not created */
static _Atomic int g_quit;
static _Atomic int g_sleepers;
static _Atomic uint64_t g_word; /* generation << 32 | count << 16 | next */
static _Atomic(ec_task_fn) g_fn;
static _Atomic(void *) g_arg;
static _Atomic int g_base;      /* task index of the job's first task */
static _Atomic int g_completed;
#define JOB_MAX 65535

/* Contention back-off. On an oversubscribed machine a worker that claimed
 * a task can be descheduled for a whole time slice, and every parallel
 * section then waits for it. With dynamic claiming, a running worker keeps
 * the caller waiting at most one task, shorter than the caller's own share
 * of the job; a job counts as stalled when the caller waited longer than
 * its own share plus STALL_NS. When STALL_HITS of the last 16 jobs
 * stalled, the next BACKOFF_JOBS parallel sections run inline on the
 * calling thread (no barrier to wait on), then the pool is tried again. */
#define STALL_NS 100000L
#define STALL_HITS 3
#define BACKOFF_JOBS 512
static int g_stall_hist;        /* last 16 jobs, 1 = stalled; under g_run */
static int g_backoff;           /* parallel sections left to run inline; under g_run */

static long long mono_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int default_threads(void) {
    const char *e = getenv("EFFCAM_NUM_THREADS");
    if (e && *e) {
        int n = atoi(e);
        if (n >= 1) return n > EC_MAX_THREADS ? EC_MAX_THREADS : n;
    }
    int n = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) n = CPU_COUNT(&set);
#endif
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    return n > 4 ? 4 : n;
}

/* Claims and runs tasks of generation gen until none is left. */
static void run_tasks(uint32_t gen, int thread) {
    uint64_t w = atomic_load_explicit(&g_word, memory_order_acquire);
    for (;;) {
        if ((uint32_t)(w >> 32) != gen) return;
        const int n = (int)((w >> 16) & 0xFFFFu), t = (int)(w & 0xFFFFu);
        if (t >= n) return;
        ec_task_fn fn = atomic_load_explicit(&g_fn, memory_order_relaxed);
        void *arg = atomic_load_explicit(&g_arg, memory_order_relaxed);
        int base = atomic_load_explicit(&g_base, memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&g_word, &w, w + 1, memory_order_acq_rel, memory_order_acquire))
            continue; /* w reloaded */
        /* claimed task t of the current job: fn, arg, base belong to it */
        fn(arg, base + t, thread);
        if (atomic_fetch_add_explicit(&g_completed, 1, memory_order_acq_rel) + 1 == n) {
            pthread_mutex_lock(&g_lock);
            pthread_cond_broadcast(&g_done);
            pthread_mutex_unlock(&g_lock);
        }
        w = atomic_load_explicit(&g_word, memory_order_acquire);
    }
}

static void *worker_main(void *p) {
    const int thread = (int)(intptr_t)p;
    uint32_t seen = (uint32_t)(atomic_load(&g_word) >> 32);
    for (;;) {
        uint32_t gen = seen;
        for (int i = 0; i < SPIN_ITERS; i++) {
            gen = (uint32_t)(atomic_load_explicit(&g_word, memory_order_acquire) >> 32);
            if (gen != seen || atomic_load_explicit(&g_quit, memory_order_relaxed)) break;
            CPU_RELAX();
        }
        if (gen == seen) {
            pthread_mutex_lock(&g_lock);
            atomic_fetch_add(&g_sleepers, 1);
            while ((gen = (uint32_t)(atomic_load(&g_word) >> 32)) == seen && !atomic_load(&g_quit))
                pthread_cond_wait(&g_wake, &g_lock);
            atomic_fetch_sub(&g_sleepers, 1);
            pthread_mutex_unlock(&g_lock);
        }
        if (atomic_load(&g_quit)) return NULL;
        seen = gen;
        run_tasks(gen, thread);
    }
}

static void stop_workers(void) {
    int n = atomic_load(&g_nthreads);
    pthread_mutex_lock(&g_lock);
    atomic_store(&g_quit, 1);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_lock);
    for (int i = 1; i < n; i++) pthread_join(g_workers[i], NULL);
    atomic_store(&g_quit, 0);
    atomic_store(&g_nthreads, 0);
}

/* With g_cfg and g_run held. */
static void start_workers(int n) {
    int ok = 1;
    for (int i = 1; i < n; i++) {
        if (pthread_create(&g_workers[i], NULL, worker_main, (void *)(intptr_t)i) != 0) {
            n = i; /* fewer threads than asked: still correct */
            ok = 0;
            break;
        }
    }
    (void)ok;
    atomic_store(&g_nthreads, n);
}

void ec_pool_set_threads(int n) {
    pthread_mutex_lock(&g_cfg);
    int cur = atomic_load(&g_nthreads);
    if (n <= 0) n = cur ? cur : default_threads();
    if (n > EC_MAX_THREADS) n = EC_MAX_THREADS;
    if (n != cur) {
        pthread_mutex_lock(&g_run);
        if (cur) stop_workers();
        start_workers(n);
        pthread_mutex_unlock(&g_run);
    }
    pthread_mutex_unlock(&g_cfg);
}

void ec_pool_init(void) {
    if (atomic_load_explicit(&g_nthreads, memory_order_acquire) == 0) ec_pool_set_threads(0);
}

int ec_pool_threads(void) {
    int n = atomic_load_explicit(&g_nthreads, memory_order_acquire);
    return n ? n : default_threads();
}

/* One job of n (1..JOB_MAX) tasks base .. base + n - 1, with g_run held. */
static void run_job(int base, int n, ec_task_fn fn, void *arg) {
    atomic_store_explicit(&g_fn, fn, memory_order_relaxed);
    atomic_store_explicit(&g_arg, arg, memory_order_relaxed);
    atomic_store_explicit(&g_base, base, memory_order_relaxed);
    atomic_store_explicit(&g_completed, 0, memory_order_relaxed);
    uint32_t gen = (uint32_t)(atomic_load(&g_word) >> 32) + 1;
    atomic_store(&g_word, ((uint64_t)gen << 32) | ((uint64_t)n << 16)); /* seq_cst: publishes the job */
    if (atomic_load(&g_sleepers) > 0) {
        pthread_mutex_lock(&g_lock);
        pthread_cond_broadcast(&g_wake);
        pthread_mutex_unlock(&g_lock);
    }
    const long long t_start = mono_ns();
    run_tasks(gen, 0);
    const long long own = mono_ns() - t_start;
    for (int i = 0; i < SPIN_ITERS && atomic_load_explicit(&g_completed, memory_order_acquire) != n; i++) CPU_RELAX();
    int stalled = 0;
    if (atomic_load_explicit(&g_completed, memory_order_acquire) != n) {
        long long t0 = mono_ns();
        pthread_mutex_lock(&g_lock);
        while (atomic_load(&g_completed) != n) pthread_cond_wait(&g_done, &g_lock);
        pthread_mutex_unlock(&g_lock);
        stalled = mono_ns() - t0 > own + STALL_NS;
    }
    g_stall_hist = ((g_stall_hist << 1) | stalled) & 0xFFFF;
    if (__builtin_popcount((unsigned)g_stall_hist) >= STALL_HITS) {
        g_backoff = BACKOFF_JOBS;
        g_stall_hist = 0;
    }
}

void ec_parallel_for(int n_tasks, ec_task_fn fn, void *arg) {
    if (n_tasks <= 0) return;
    if (n_tasks == 1 || atomic_load_explicit(&g_nthreads, memory_order_acquire) <= 1 ||
        pthread_mutex_trylock(&g_run) != 0) {
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    if (atomic_load(&g_nthreads) <= 1 || g_backoff > 0) { /* resized to 1 meanwhile, or backing off */
        if (g_backoff > 0) g_backoff--;
        pthread_mutex_unlock(&g_run);
        for (int t = 0; t < n_tasks; t++) fn(arg, t, 0);
        return;
    }
    for (int base = 0; base < n_tasks; base += JOB_MAX)
        run_job(base, n_tasks - base < JOB_MAX ? n_tasks - base : JOB_MAX, fn, arg);
    pthread_mutex_unlock(&g_run);
}
