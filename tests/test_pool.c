/* The thread pool (lib/pool.c): every task runs exactly once, thread
 * indices stay in range, n = 1 has no workers, nested calls and several
 * user threads calling at once all complete correctly, resizing works. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "effcam.h"
#include "pool.h"

#define MAXT 257

typedef struct counts {
    int hits[MAXT];
    int bad_thread;
    int max_threads;
    int nested;
} counts;

static void count_task(void *arg, int task, int thread) {
    counts *c = arg;
    __atomic_add_fetch(&c->hits[task], 1, __ATOMIC_RELAXED);
    if (thread < 0 || thread >= c->max_threads) __atomic_store_n(&c->bad_thread, 1, __ATOMIC_RELAXED);
}

static void big_task(void *arg, int task, int thread) {
    (void)thread;
    __atomic_add_fetch(&((int *)arg)[task], 1, __ATOMIC_RELAXED);
}

static void run_and_check(int n, int threads) {
    counts c;
    memset(&c, 0, sizeof c);
    c.max_threads = threads;
    ec_parallel_for(n, count_task, &c);
    for (int t = 0; t < MAXT; t++) assert_int_equal(c.hits[t], t < n ? 1 : 0);
    assert_int_equal(c.bad_thread, 0);
}

static void test_many_calls(void **state) {
    (void)state;
    effcam_set_threads(2);
    assert_int_equal(ec_pool_threads(), 2);
    for (int i = 0; i < 20000; i++) run_and_check(i % 41, 2);
    effcam_set_threads(3); /* more threads than this machine may have */
    assert_int_equal(ec_pool_threads(), 3);
    for (int i = 0; i < 5000; i++) run_and_check(1 + i % MAXT, 3);
    /* more tasks than one job holds (65535): split into several jobs */
    static int big[70001];
    memset(big, 0, sizeof big);
    ec_parallel_for(70001, big_task, big);
    for (int t = 0; t < 70001; t++) assert_int_equal(big[t], 1);
}

/* Regression: a worker that read a finished job's word must not claim a
 * task of the next, larger job (seen as a hang under ASan: one task ran
 * twice and the completion count overshot). Back-to-back jobs whose task
 * count grows each time. */
static void test_growing_jobs(void **state) {
    (void)state;
    effcam_set_threads(2);
    for (int i = 0; i < 100000; i++) run_and_check(i % 2 ? 9 : 2, 2);
    effcam_set_threads(3);
    for (int i = 0; i < 50000; i++) run_and_check(1 + i % 4, 3);
}

static int g_thread_seen[8];
static void which_thread(void *arg, int task, int thread) {
    (void)arg;
    (void)task;
    __atomic_store_n(&g_thread_seen[thread & 7], 1, __ATOMIC_RELAXED);
}

static void test_one_thread(void **state) {
    (void)state;
    effcam_set_threads(1);
    assert_int_equal(ec_pool_threads(), 1);
    memset(g_thread_seen, 0, sizeof g_thread_seen);
    for (int i = 0; i < 100; i++) ec_parallel_for(64, which_thread, NULL);
    assert_int_equal(g_thread_seen[0], 1);
    for (int k = 1; k < 8; k++) assert_int_equal(g_thread_seen[k], 0);
    for (int i = 0; i < 1000; i++) run_and_check(i % 50, 1);
    effcam_set_threads(0); /* default: keeps the current size */
    assert_int_equal(ec_pool_threads(), 1);
}

static void nested_task(void *arg, int task, int thread) {
    counts *outer = arg;
    count_task(outer, task, thread);
    counts inner;
    memset(&inner, 0, sizeof inner);
    inner.max_threads = outer->max_threads;
    ec_parallel_for(7, count_task, &inner); /* runs inline: the pool is busy */
    for (int t = 0; t < 7; t++)
        if (inner.hits[t] != 1) __atomic_store_n(&outer->nested, 1, __ATOMIC_RELAXED);
}

static void test_nested(void **state) {
    (void)state;
    effcam_set_threads(2);
    for (int i = 0; i < 500; i++) {
        counts c;
        memset(&c, 0, sizeof c);
        c.max_threads = 2;
        ec_parallel_for(1 + i % 9, nested_task, &c);
        for (int t = 0; t < 1 + i % 9; t++) assert_int_equal(c.hits[t], 1);
        assert_int_equal(c.nested, 0);
        assert_int_equal(c.bad_thread, 0);
    }
}

typedef struct user { int rc; int iters; } user;
static void *user_thread(void *arg) {
    user *u = arg;
    for (int i = 0; i < u->iters; i++) {
        counts c;
        memset(&c, 0, sizeof c);
        c.max_threads = 2;
        int n = 1 + (i * 7) % 60;
        ec_parallel_for(n, count_task, &c);
        for (int t = 0; t < MAXT; t++)
            if (c.hits[t] != (t < n)) u->rc = 1;
        if (c.bad_thread) u->rc = 2;
    }
    return NULL;
}

static void test_concurrent_users(void **state) {
    (void)state;
    effcam_set_threads(2);
    pthread_t th[4];
    user u[4];
    for (int k = 0; k < 4; k++) {
        u[k].rc = 0;
        u[k].iters = 3000;
        assert_int_equal(pthread_create(&th[k], NULL, user_thread, &u[k]), 0);
    }
    for (int k = 0; k < 4; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 4; k++) assert_int_equal(u[k].rc, 0);
}

static void test_split(void **state) {
    (void)state;
    for (int n = 0; n < 100; n++)
        for (int nt = 1; nt < 9; nt++)
            for (int al = 1; al <= 16; al *= 4) {
                int prev = 0;
                for (int t = 0; t < nt; t++) {
                    int lo, hi;
                    ec_split(n, nt, t, al, &lo, &hi);
                    assert_int_equal(lo, prev);
                    assert_true(hi >= lo);
                    assert_true(lo == n || lo % al == 0);
                    prev = hi;
                }
                assert_int_equal(prev, n);
            }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_many_calls),
        cmocka_unit_test(test_growing_jobs),
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_concurrent_users),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
