/* Elementwise residual add with a fused activation: out = act(a + b).
 * out may alias a or b. One pass (SIMD add + preact store + activation),
 * split over the thread pool in blocks. */
#include "ops/ops.h"
#include "pool.h"

#define ADD_BLOCK 16384

typedef struct add_job {
    float *out, *preact;
    const float *a, *b;
    size_t n;
    int act;
} add_job;

static void add_task(void *arg, int t, int thread) {
    (void)thread;
    add_job *j = arg;
    size_t i0 = (size_t)t * ADD_BLOCK, len = j->n - i0 < ADD_BLOCK ? j->n - i0 : ADD_BLOCK;
    ec_act_add_isa(j->out + i0, j->a + i0, j->b + i0, len, j->act, j->preact ? j->preact + i0 : NULL, -1);
}

void ec_add_forward(float *out, const float *a, const float *b, size_t n,
                    int act, float *preact) {
    add_job j = {out, preact, a, b, n, act};
    ec_parallel_for((int)((n + ADD_BLOCK - 1) / ADD_BLOCK), add_task, &j);
}
