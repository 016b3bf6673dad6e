/* Squeeze-and-excitation, NHWC batch 1.
 *   s = mean_hw(x) [c];  z = act(W1 s + b1) [cmid];  g = gate(W2 z + b2) [c]
 *   out = x * g (per channel)
 * W1 [cmid][c], W2 [c][cmid], each fp16 or fp32 (d->wdt1, d->wdt2). The
 * forward's GEMVs read fp16 rows directly (ec_gemv_f16, gemm_f16.c) and
 * fp32 rows in place; the backward's W^T products run gemm_f16.c's [k][n]
 * form on the fp16 rows, or (no such CPU) widen one row at a time into `row`.
 *
 * Forward scratch layout (floats), B = SE_BANDS:
 *   s[c] | part[B c] | zpre[cmid] | z[cmid] | gpre[c] | g[c]
 * saved layout (floats): s[c] | zpre[cmid] | gpre[c] | g[c]
 * Backward scratch layout (floats):
 *   acc[c] | part[B c] (then ds) | dz[cmid] | row[R]
 * R = the longest fp16 row: max(c if W1 is fp16, cmid if W2 is fp16), 0 when
 * both are fp32.
 *
 * out may alias in, din may alias dout (all reads of the aliased buffer that
 * need the old values happen before it is written).
 */
#include <string.h>

#include "ecw_format.h"
#include "ops/ops.h"
#include "pool.h"

#define SE_CHUNK 64 /* rows summed before folding into a band's total */
#define SE_BANDS 4  /* fixed bands of rows for the channel sums (results independent of threads) */

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

/* fp16 rows read by gemm_f16.c in the backward (else widened into row) */
static int rows_direct(int wdt) { return wdt != EC_WDT_F32 && ec_gemm_f16_isa_max() != EC_ISA_SCALAR; }

/* R above: room to widen one fp16 row (backward), where gemm_f16.c does
 * not read them directly. */
static size_t row_floats(const ec_se_dims *d) {
    return maxz(d->wdt1 == EC_WDT_F32 || rows_direct(d->wdt1) ? 0 : (size_t)d->c,
                d->wdt2 == EC_WDT_F32 || rows_direct(d->wdt2) ? 0 : (size_t)d->cmid);
}

size_t ec_se_scratch_floats(const ec_se_dims *d) {
    size_t c = (size_t)d->c, m = (size_t)d->cmid;
    return (3 + SE_BANDS) * c + 2 * m;
}

size_t ec_se_saved_floats(const ec_se_dims *d) {
    return 3 * (size_t)d->c + (size_t)d->cmid;
}

size_t ec_se_backward_scratch_floats(const ec_se_dims *d) {
    size_t c = (size_t)d->c, m = (size_t)d->cmid;
    return (1 + SE_BANDS) * c + m + row_floats(d);
}

/* Row i (n elements) of a weight matrix as fp32: in place, or widened into
 * row. */
static const float *wrow(float *row, const void *w, int wdt, size_t i, size_t n) {
    if (wdt == EC_WDT_F32) return (const float *)w + i * n;
    ec_f16_widen(row, (const uint16_t *)w + i * n, n);
    return row;
}

/* Vectorisable dot product: 8 independent partial sums (fp32 rows). */
static float dot(const float *restrict a, const float *restrict b, int n) {
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += a[i + l] * b[i + l];
    float t = 0.0f;
    for (; i < n; i++) t += a[i] * b[i];
    return t + ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

/* y [n] = W [n][k] x + b: fp16 rows via ec_gemv_f16, fp32 rows in place. */
static void gemv(float *y, const float *x, const void *w, int wdt, const float *b, int n, int k) {
    if (wdt != EC_WDT_F32) {
        ec_gemv_f16(y, x, (const uint16_t *)w, b, n, k, -1);
        return;
    }
    for (int i = 0; i < n; i++) y[i] = dot((const float *)w + (size_t)i * k, x, k) + (b ? b[i] : 0.0f);
}

static void axpy(float *restrict y, float a, const float *restrict x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

/* y [n] = x [k] W [k][n] (W^T x for the backward): fp16 rows on gemm_f16.c
 * (its [k][n] form, one row, packed on the stack) where the CPU has it,
 * else rows widened one at a time into `row` (or read in place). */
static void gemv_t(float *y, const float *x, const void *w, int wdt, int k, int n, float *row) {
    if (rows_direct(wdt)) {
        ec_gemm_f16_kn_isa(y, x, (const uint16_t *)w, 1, k, n, -1);
        return;
    }
    memset(y, 0, (size_t)n * sizeof(float));
    for (int i = 0; i < k; i++) axpy(y, x[i], wrow(row, w, wdt, (size_t)i, (size_t)n), n);
}

/* tot[ch] = sum_p a[p, ch] (* b[p, ch] if b) over SE_BANDS fixed bands of
 * rows: band q's sum goes to part[q * c ..], then the bands are added in
 * order, so the result is the same at any thread count. Within a band, rows
 * are summed SE_CHUNK at a time (accuracy) in blocks of SE_CB channels held
 * in registers. Threads take contiguous runs of bands (pool.h,
 * ec_row_tasks): each reads the rows it wrote in the op before. */
#define SE_CB 64
typedef struct se_job {
    float *tot, *part, *out;
    const float *a, *b, *g, *ds;
    int hw, c, ntasks;
    const float *pre; /* scale only: then out *= act'(pre) per row */
    int act;
} se_job;

/* rows [p0, p1), channels [c0, c0 + nc) -> tot[0 .. nc) */
#define SE_SUM_BLOCK(NC)                                                                      \
    do {                                                                                      \
        float acc[SE_CB];                                                                     \
        for (int l = 0; l < (NC); l++) acc[l] = 0.0f;                                         \
        for (int q0 = p0; q0 < p1; q0 += SE_CHUNK) {                                          \
            const int q1 = q0 + SE_CHUNK < p1 ? q0 + SE_CHUNK : p1;                           \
            float part[SE_CB];                                                                \
            for (int l = 0; l < (NC); l++) part[l] = 0.0f;                                    \
            for (int p = q0; p < q1; p++) {                                                   \
                const float *restrict ar = j->a + (size_t)p * c + c0;                         \
                if (j->b) {                                                                   \
                    const float *restrict br = j->b + (size_t)p * c + c0;                     \
                    for (int l = 0; l < (NC); l++) part[l] += ar[l] * br[l];                  \
                } else {                                                                      \
                    for (int l = 0; l < (NC); l++) part[l] += ar[l];                          \
                }                                                                             \
            }                                                                                 \
            for (int l = 0; l < (NC); l++) acc[l] += part[l];                                 \
        }                                                                                     \
        for (int l = 0; l < (NC); l++) tot[c0 + l] = acc[l];                                  \
    } while (0)

#define SE_SUM_BODY                                                                           \
    const se_job *j = arg;                                                                    \
    const int c = j->c;                                                                       \
    int b0, b1;                                                                               \
    ec_split(SE_BANDS, j->ntasks, t, 1, &b0, &b1);                                            \
    for (int q = b0; q < b1; q++) {                                                           \
        int p0, p1;                                                                           \
        ec_split(j->hw, SE_BANDS, q, 1, &p0, &p1);                                            \
        float *tot = j->part + (size_t)q * c;                                                 \
        int c0 = 0;                                                                           \
        for (; c0 + SE_CB <= c; c0 += SE_CB) SE_SUM_BLOCK(SE_CB);                             \
        if (c0 < c) {                                                                         \
            const int nc = c - c0;                                                            \
            SE_SUM_BLOCK(nc);                                                                 \
        }                                                                                     \
    }

/* out[p, :] = a[p, :] * g (+ ds), rows split in one band per task */
#define SE_SCALE_BODY                                                                         \
    const se_job *j = arg;                                                                    \
    int p0, p1;                                                                               \
    ec_split(j->hw, j->ntasks, t, 1, &p0, &p1);                                               \
    const int c = j->c;                                                                       \
    const float *restrict g = j->g;                                                           \
    for (int p = p0; p < p1; p++) {                                                           \
        const float *x = j->a + (size_t)p * c; /* out may alias it */                         \
        float *o = j->out + (size_t)p * c;                                                    \
        if (j->ds) {                                                                          \
            const float *restrict ds = j->ds;                                                 \
            for (int ch = 0; ch < c; ch++) o[ch] = x[ch] * g[ch] + ds[ch];                    \
        } else {                                                                              \
            for (int ch = 0; ch < c; ch++) o[ch] = x[ch] * g[ch];                             \
        }                                                                                     \
        if (j->pre) ec_act_backward_isa(o, o, j->pre + (size_t)p * c, (size_t)c, j->act, -1);  \
    }

/* sum_task_SFX and scale_task_SFX, compiled with ATTR */
#define SE_TASKS(SFX, ATTR)                                                                   \
    ATTR static void sum_task_##SFX(void *arg, int t, int thread) {                           \
        (void)thread;                                                                         \
        SE_SUM_BODY                                                                           \
    }                                                                                         \
    ATTR static void scale_task_##SFX(void *arg, int t, int thread) {                         \
        (void)thread;                                                                         \
        SE_SCALE_BODY                                                                         \
    }
SE_TASKS(generic, )
#if defined(__x86_64__) && defined(__GNUC__)
SE_TASKS(avx2, __attribute__((target("avx2,fma"))))
SE_TASKS(avx512, __attribute__((target("avx512f"))))
#endif

/* The task compiled for the best ISA the CPU has. */
#if defined(__x86_64__) && defined(__GNUC__)
static ec_task_fn pick(ec_task_fn generic, ec_task_fn avx2, ec_task_fn avx512) {
    const int isa = ec_isa_max();
    return isa == EC_ISA_AVX512 ? avx512 : isa == EC_ISA_AVX2 ? avx2 : generic;
}
#define SE_TASK(name) pick(name##_generic, name##_avx2, name##_avx512)
#else
#define SE_TASK(name) name##_generic
#endif

static void sum_rows_par(float *tot, float *part, const float *a, const float *b, int hw, int c) {
    se_job j = {tot, part, NULL, a, b, NULL, NULL, hw, c, ec_row_tasks(SE_BANDS), NULL, 0};
    ec_parallel_for(j.ntasks, SE_TASK(sum_task), &j);
    for (int ch = 0; ch < c; ch++) { /* bands in order */
        float t = part[ch];
        for (int q = 1; q < SE_BANDS; q++) t += part[(size_t)q * c + ch];
        tot[ch] = t;
    }
}

static void scale_par(float *out, const float *a, const float *g, const float *ds, int hw, int c,
                      const float *pre, int act) {
    se_job j = {NULL, NULL, out, a, NULL, g, ds, hw, c, ec_row_tasks(hw), act != ECW_ACT_NONE ? pre : NULL, act};
    if (hw < 1) return;
    ec_parallel_for(j.ntasks, SE_TASK(scale_task), &j);
}

const float *ec_se_gate_in_scratch(const float *scratch, const ec_se_dims *d) {
    return scratch + (2 + SE_BANDS) * (size_t)d->c + 2 * (size_t)d->cmid;
}

void ec_se_forward(float *out, const float *in, const void *w1,
                   const float *b1, const void *w2, const float *b2,
                   const ec_se_dims *d, float *scratch, float *saved) {
    ec_se_gate(in, w1, b1, w2, b2, d, scratch, saved);
    scale_par(out, in, ec_se_gate_in_scratch(scratch, d), NULL, d->h * d->w, d->c, NULL, ECW_ACT_NONE);
}

void ec_se_gate(const float *in, const void *w1, const float *b1, const void *w2, const float *b2,
                const ec_se_dims *d, float *scratch, float *saved) {
    const int c = d->c, m = d->cmid, hw = d->h * d->w;
    float *s = scratch;
    float *part = s + c; /* SE_BANDS * c */
    float *zpre = part + SE_BANDS * (size_t)c;
    float *z = zpre + m;
    float *gpre = z + m;
    float *g = gpre + c;

    sum_rows_par(s, part, in, NULL, hw, c);
    const float inv = hw > 0 ? 1.0f / (float)hw : 0.0f;
    for (int ch = 0; ch < c; ch++) s[ch] *= inv;

    gemv(zpre, s, w1, d->wdt1, b1, m, c);
    memcpy(z, zpre, (size_t)m * sizeof(float));
    ec_act_forward(z, (size_t)m, d->act);

    gemv(gpre, z, w2, d->wdt2, b2, c, m);
    memcpy(g, gpre, (size_t)c * sizeof(float));
    ec_act_forward(g, (size_t)c, d->gate);

    if (saved) {
        memcpy(saved, s, (size_t)c * sizeof(float));
        memcpy(saved + c, zpre, (size_t)m * sizeof(float));
        memcpy(saved + c + m, gpre, (size_t)c * sizeof(float));
        memcpy(saved + 2 * (size_t)c + m, g, (size_t)c * sizeof(float));
    }
}

void ec_se_backward(float *din, const float *dout, const float *in,
                    const void *w1, const void *w2,
                    const float *saved, const ec_se_dims *d, float *scratch) {
    ec_se_backward_act(din, dout, in, w1, w2, saved, d, scratch, NULL, ECW_ACT_NONE);
}

void ec_se_backward_act(float *din, const float *dout, const float *in,
                        const void *w1, const void *w2, const float *saved,
                        const ec_se_dims *d, float *scratch, const float *pre, int act) {
    const int c = d->c, m = d->cmid, hw = d->h * d->w;
    const float *zpre = saved + c;
    const float *gpre = saved + c + m;
    const float *g = saved + 2 * (size_t)c + m;
    float *acc = scratch;   /* dg, then dgpre (in place) */
    float *part = acc + c;  /* band sums (SE_BANDS * c), then ds */
    float *dz = part + SE_BANDS * (size_t)c; /* dz, then dzpre (in place) */
    float *row = dz + m;

    /* dL/dg[ch] = sum_p dout[p, ch] * x[p, ch] */
    sum_rows_par(acc, part, dout, in, hw, c);
    ec_act_backward(acc, acc, gpre, (size_t)c, d->gate);

    /* dz = W2^T dgpre; W2 row i (length cmid) scaled by dgpre[i] */
    gemv_t(dz, acc, w2, d->wdt2, c, m, row);
    ec_act_backward(dz, dz, zpre, (size_t)m, d->act);

    /* ds = W1^T dzpre / hw */
    float *ds = part;
    gemv_t(ds, dz, w1, d->wdt1, m, c, row);
    const float inv = hw > 0 ? 1.0f / (float)hw : 0.0f;
    for (int ch = 0; ch < c; ch++) ds[ch] *= inv;

    scale_par(din, dout, g, ds, hw, c, pre, act);
}
