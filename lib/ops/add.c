/* Elementwise residual add with a fused activation: out = act(a + b).
 * out may alias a or b. One pass (SIMD add + preact store + activation),
 * split over the thread pool in one contiguous range per thread (the same
 * rows each thread wrote in the ops before: see ec_row_tasks in pool.h). */
#include "ops/ops.h"
#include "pool.h"

#define ADD_MIN 16384 /* elements per task, at least */

typedef struct add_job {
    float *out, *preact;
    const float *a, *b;
    size_t n;
    int act, ntasks;
} add_job;

static void add_task(void *arg, int t, int thread) {
    (void)thread;
    add_job *j = arg;
    /* contiguous ranges in units of 16 elements */
    size_t units = (j->n + 15) / 16, u0 = units * (size_t)t / (size_t)j->ntasks,
           u1 = units * (size_t)(t + 1) / (size_t)j->ntasks;
    size_t i0 = u0 * 16, i1 = u1 * 16 < j->n ? u1 * 16 : j->n;
    if (i1 <= i0) return;
    ec_act_add_isa(j->out + i0, j->a + i0, j->b + i0, i1 - i0, j->act, j->preact ? j->preact + i0 : NULL, -1);
}

void ec_add_forward(float *out, const float *a, const float *b, size_t n,
                    int act, float *preact) {
    add_job j = {out, preact, a, b, n, act, ec_row_tasks((int)(n / ADD_MIN))};
    ec_parallel_for(j.ntasks, add_task, &j);
}
