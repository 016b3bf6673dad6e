/* Squeeze-and-excitation, NHWC batch 1.
 *   s = mean_hw(x) [c];  z = act(W1 s + b1) [cmid];  g = gate(W2 z + b2) [c]
 *   out = x * g (per channel)
 * W1 [cmid][c], W2 [c][cmid], each fp16 or fp32 (d->wdt1, d->wdt2). The
 * forward's GEMVs read fp16 rows directly (ec_gemv_f16, gemm_f16.c) and
 * fp32 rows in place; the backward widens one fp16 row at a time into `row`.
 *
 * Forward scratch layout (floats):
 *   s[c] | part[c] | zpre[cmid] | z[cmid] | gpre[c] | g[c]
 * saved layout (floats): s[c] | zpre[cmid] | gpre[c] | g[c]
 * Backward scratch layout (floats):
 *   acc[c] | part[c] (reused as ds) | dz[cmid] | row[R]
 * R = the longest fp16 row: max(c if W1 is fp16, cmid if W2 is fp16), 0 when
 * both are fp32.
 *
 * out may alias in, din may alias dout (all reads of the aliased buffer that
 * need the old values happen before it is written).
 */
#include <string.h>

#include "ops/ops.h"
#include "pool.h"

#define SE_CHUNK 64 /* rows summed into `part` before folding into the total */

static size_t maxz(size_t a, size_t b) { return a > b ? a : b; }

/* R above: room to widen one fp16 row (backward). */
static size_t row_floats(const ec_se_dims *d) {
    return maxz(d->wdt1 == EC_WDT_F32 ? 0 : (size_t)d->c, d->wdt2 == EC_WDT_F32 ? 0 : (size_t)d->cmid);
}

size_t ec_se_scratch_floats(const ec_se_dims *d) {
    size_t c = (size_t)d->c, m = (size_t)d->cmid;
    return 4 * c + 2 * m;
}

size_t ec_se_saved_floats(const ec_se_dims *d) {
    return 3 * (size_t)d->c + (size_t)d->cmid;
}

size_t ec_se_backward_scratch_floats(const ec_se_dims *d) {
    size_t c = (size_t)d->c, m = (size_t)d->cmid;
    return 2 * c + m + row_floats(d);
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

/* tot[ch] = sum_p a[p, ch] (* b[p, ch] if b), chunked for accuracy (rows
 * summed into part, SE_CHUNK at a time, then folded into tot). */
/* Parallel form of sum_rows: channel ranges are independent (each task
 * uses its own slice of part). */
typedef struct se_job {
    float *tot, *part, *out;
    const float *a, *b, *g, *ds;
    int hw, c, ntasks;
} se_job;

static void sum_task(void *arg, int t, int thread) {
    (void)thread;
    se_job *j = arg;
    int c0, c1;
    ec_split(j->c, j->ntasks, t, 16, &c0, &c1);
    const int nc = c1 - c0;
    if (nc <= 0) return;
    float *tot = j->tot + c0, *part = j->part + c0;
    memset(tot, 0, (size_t)nc * sizeof(float));
    for (int p0 = 0; p0 < j->hw; p0 += SE_CHUNK) {
        int p1 = p0 + SE_CHUNK < j->hw ? p0 + SE_CHUNK : j->hw;
        memset(part, 0, (size_t)nc * sizeof(float));
        for (int p = p0; p < p1; p++) {
            const float *restrict ar = j->a + (size_t)p * j->c + c0;
            if (j->b) {
                const float *restrict br = j->b + (size_t)p * j->c + c0;
                for (int ch = 0; ch < nc; ch++) part[ch] += ar[ch] * br[ch];
            } else {
                for (int ch = 0; ch < nc; ch++) part[ch] += ar[ch];
            }
        }
        for (int ch = 0; ch < nc; ch++) tot[ch] += part[ch];
    }
}

static void sum_rows_par(float *tot, float *part, const float *a, const float *b, int hw, int c) {
    int nt = ec_pool_threads(), units = (c + 15) / 16;
    se_job j = {tot, part, NULL, a, b, NULL, NULL, hw, c, nt < units ? nt : units};
    if (j.ntasks < 1) j.ntasks = 1;
    ec_parallel_for(j.ntasks, sum_task, &j);
}

/* out[p, :] = a[p, :] * g (+ ds) over position ranges */
static void scale_task(void *arg, int t, int thread) {
    (void)thread;
    se_job *j = arg;
    int p0, p1;
    ec_split(j->hw, j->ntasks, t, 1, &p0, &p1);
    const int c = j->c;
    for (int p = p0; p < p1; p++) {
        const float *x = j->a + (size_t)p * c; /* out may alias it */
        float *o = j->out + (size_t)p * c;
        const float *restrict g = j->g;
        if (j->ds) {
            const float *restrict ds = j->ds;
            for (int ch = 0; ch < c; ch++) o[ch] = x[ch] * g[ch] + ds[ch];
        } else {
            for (int ch = 0; ch < c; ch++) o[ch] = x[ch] * g[ch];
        }
    }
}

static void scale_par(float *out, const float *a, const float *g, const float *ds, int hw, int c) {
    int nt = ec_pool_threads();
    se_job j = {NULL, NULL, out, a, NULL, g, ds, hw, c, 0};
    size_t elems = (size_t)hw * (size_t)c;
    int want = (int)(elems / 16384) + 1;
    j.ntasks = nt <= 1 ? 1 : (want < nt ? nt : (want > 8 * nt ? 8 * nt : want));
    if (j.ntasks > hw) j.ntasks = hw;
    if (j.ntasks < 1) return;
    ec_parallel_for(j.ntasks, scale_task, &j);
}

const float *ec_se_gate_in_scratch(const float *scratch, const ec_se_dims *d) {
    return scratch + 3 * (size_t)d->c + 2 * (size_t)d->cmid;
}

void ec_se_forward(float *out, const float *in, const void *w1,
                   const float *b1, const void *w2, const float *b2,
                   const ec_se_dims *d, float *scratch, float *saved) {
    ec_se_gate(in, w1, b1, w2, b2, d, scratch, saved);
    scale_par(out, in, ec_se_gate_in_scratch(scratch, d), NULL, d->h * d->w, d->c);
}

void ec_se_gate(const float *in, const void *w1, const float *b1, const void *w2, const float *b2,
                const ec_se_dims *d, float *scratch, float *saved) {
    const int c = d->c, m = d->cmid, hw = d->h * d->w;
    float *s = scratch;
    float *part = s + c;
    float *zpre = part + c;
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
    const int c = d->c, m = d->cmid, hw = d->h * d->w;
    const float *zpre = saved + c;
    const float *gpre = saved + c + m;
    const float *g = saved + 2 * (size_t)c + m;
    float *acc = scratch;   /* dg, then dgpre (in place) */
    float *part = acc + c;  /* row-sum partials, then ds */
    float *dz = part + c;   /* dz, then dzpre (in place) */
    float *row = dz + m;

    /* dL/dg[ch] = sum_p dout[p, ch] * x[p, ch] */
    sum_rows_par(acc, part, dout, in, hw, c);
    ec_act_backward(acc, acc, gpre, (size_t)c, d->gate);

    /* dz = W2^T dgpre; W2 row i (length cmid) scaled by dgpre[i] */
    memset(dz, 0, (size_t)m * sizeof(float));
    for (int i = 0; i < c; i++) axpy(dz, acc[i], wrow(row, w2, d->wdt2, (size_t)i, (size_t)m), m);
    ec_act_backward(dz, dz, zpre, (size_t)m, d->act);

    /* ds = W1^T dzpre / hw */
    float *ds = part;
    memset(ds, 0, (size_t)c * sizeof(float));
    for (int j = 0; j < m; j++) axpy(ds, dz[j], wrow(row, w1, d->wdt1, (size_t)j, (size_t)c), c);
    const float inv = hw > 0 ? 1.0f / (float)hw : 0.0f;
    for (int ch = 0; ch < c; ch++) ds[ch] *= inv;

    scale_par(din, dout, g, ds, hw, c);
}
