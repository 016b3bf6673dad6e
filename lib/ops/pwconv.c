/* Pointwise (1x1, stride 1) convolution and dense layers:
 *   y[m, :] = W x[m, :] + b,  W fp16 [cout][cin]
 * The weights are widened once per call into scratch (fp32 [cout][cin]).
 * Work is split over the thread pool, each task calling single-threaded
 * sgemm (or sgemv for m == 1) on its slice and then running the bias +
 * activation epilogue on that slice while it is still in cache:
 *   - many rows (m >= cout): row slices of the output (weights widened
 *     first, in parallel);
 *   - few rows (late layers, dense): column slices; each task widens its
 *     own weight rows, so the weights are streamed once in total.
 * No per-thread scratch: slices of the shared widened weights.
 *
 * The forward for fp16 weights on x86-64 with AVX2+FMA+F16C (every shape,
 * ec_pwconv_uses_gemm_f16()) runs gemm_f16.c: the fp16 weights are read
 * directly, packed on the stack, no scratch; so does the backward for m > 1
 * (ec_gemm_f16_kn_isa: W [cout][cin] is the [k][n] operand as stored).
 * Elsewhere:
 *
 * With AVX-512 (ec_gemm_ok()) and m > 1, the weights are packed
 * (ec_gemm_pack_*: panels of 16 output columns, same task split) and the
 * slices run our own GEMM kernel (gemm.c: ~2x OpenBLAS 0.3.21 on these
 * shapes here); OpenBLAS otherwise. Scratch: the packed size in both
 * cases (>= cout * cin).
 *
 * fp32 weights (wdt == EC_WDT_F32) are read in place by sgemm / sgemv: no
 * scratch, no packing (the precision option; fp16 is the fast default). */
#include <string.h>

#include <cblas.h>

#include "ops/ops.h"
#include "pool.h"

/* Which shapes go to gemm_f16.c (fp16 weights read directly, no scratch):
 * all, where the CPU has the instructions (measured per b0 / v2_s shape on
 * AVX-512 and AVX2: faster than widen + sgemm everywhere except tiny dense
 * heads, e.g. 1280 -> 7, where both take ~2 us). */
int ec_pwconv_uses_gemm_f16(const ec_pw_dims *d) {
    return d->wdt != EC_WDT_F32 && d->m >= 1 && d->cin > 0 && d->cout > 0 && ec_gemm_f16_isa_max() != EC_ISA_SCALAR;
}

size_t ec_pwconv_scratch_floats(const ec_pw_dims *d) {
    if (ec_pwconv_uses_gemm_f16(d)) return 0;
    return ec_pwconv_sgemm_scratch_floats(d);
}

size_t ec_pwconv_sgemm_scratch_floats(const ec_pw_dims *d) {
    return d->wdt == EC_WDT_F32 ? 0 : ec_gemm_packed_floats(d->cin, d->cout); /* >= cout * cin */
}

/* gemm_f16.c (m > 1): packed on the stack */
static int pwb_uses_gemm_f16(const ec_pw_dims *d) { return d->m > 1 && ec_pwconv_uses_gemm_f16(d); }

size_t ec_pwconv_backward_scratch_floats(const ec_pw_dims *d) {
    return pwb_uses_gemm_f16(d) ? 0 : ec_pwconv_backward_sgemm_scratch_floats(d);
}

size_t ec_pwconv_backward_sgemm_scratch_floats(const ec_pw_dims *d) {
    if (d->wdt == EC_WDT_F32 || d->m == 1) return 0; /* in place; dense: the fp16 rows read directly */
    return ec_gemm_packed_floats(d->cout, d->cin); /* >= cout * cin */
}

#define PW_TASK_BYTES (96u * 1024u) /* output bytes per row-slice task */

typedef struct pw_job {
    float *out, *wf, *preact; /* wf: widened / packed fp16 weights (scratch) */
    const float *in, *b;
    const void *w;            /* as stored: uint16_t (fp16) or float (fp32) */
    int m, cin, cout, act, ntasks, by_cols, own, f32;
} pw_job;

/* Rows [lo, lo + n) of the weights as fp32: in place for fp32 weights,
 * else widened into the same rows of wf. */
static const float *weight_rows(float *wf, const void *w, int f32, int cin, int lo, int n) {
    const size_t off = (size_t)lo * (size_t)cin;
    if (f32) return (const float *)w + off;
    ec_f16_widen(wf + off, (const uint16_t *)w + off, (size_t)n * (size_t)cin);
    return wf + off;
}

static void widen_task(void *arg, int t, int thread) {
    (void)thread;
    pw_job *j = arg;
    int lo, hi;
    if (j->own) {
        ec_split(j->cout, j->ntasks, t, 16, &lo, &hi);
        ec_gemm_pack_wT(j->wf, j->w, j->cout, j->cin, lo, hi);
        return;
    }
    ec_split(j->cout, j->ntasks, t, 8, &lo, &hi);
    weight_rows(j->wf, j->w, 0, j->cin, lo, hi - lo);
}

static void pw_task(void *arg, int t, int thread) {
    (void)thread;
    pw_job *j = arg;
    const int cin = j->cin, cout = j->cout;
    int lo, hi;
    if (j->by_cols && j->own) {
        ec_split(cout, j->ntasks, t, 32, &lo, &hi);
        const int nc = hi - lo;
        if (nc <= 0) return;
        ec_gemm_pack_wT(j->wf, j->w, cout, cin, lo, hi);
        ec_gemm_packed(j->in, (size_t)cin, j->wf, cin, j->out, (size_t)cout, j->m, lo, hi);
        for (int r = 0; r < j->m; r++) {
            size_t o = (size_t)r * cout + (size_t)lo;
            ec_act_row_isa(j->out + o, j->b ? j->b + lo : NULL, (size_t)nc, j->act, j->preact ? j->preact + o : NULL, -1);
        }
    } else if (j->by_cols) {
        ec_split(cout, j->ntasks, t, 16, &lo, &hi);
        const int nc = hi - lo;
        if (nc <= 0) return;
        const float *wf = weight_rows(j->wf, j->w, j->f32, cin, lo, nc);
        if (j->m == 1) {
            memset(j->out + lo, 0, (size_t)nc * sizeof(float));
            cblas_sgemv(CblasRowMajor, CblasNoTrans, nc, cin, 1.0f, wf, cin, j->in, 1, 0.0f, j->out + lo, 1);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, j->m, nc, cin, 1.0f, j->in, cin, wf, cin, 0.0f,
                        j->out + lo, cout);
        }
        for (int r = 0; r < j->m; r++) {
            size_t o = (size_t)r * cout + (size_t)lo;
            ec_act_row_isa(j->out + o, j->b ? j->b + lo : NULL, (size_t)nc, j->act, j->preact ? j->preact + o : NULL, -1);
        }
    } else {
        ec_split(j->m, j->ntasks, t, 4, &lo, &hi);
        const int nr = hi - lo;
        if (nr <= 0) return;
        const size_t o = (size_t)lo * cout;
        if (j->own)
            ec_gemm_packed(j->in + (size_t)lo * cin, (size_t)cin, j->wf, cin, j->out + o, (size_t)cout, nr, 0, cout);
        else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nr, cout, cin, 1.0f, j->in + (size_t)lo * cin, cin,
                        j->f32 ? (const float *)j->w : j->wf, cin, 0.0f, j->out + o, cout);
        ec_bias_act(j->out + o, j->b, nr, cout, j->act, j->preact ? j->preact + o : NULL);
    }
}

void ec_pwconv_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_pw_dims *d, float *scratch,
                       float *preact) {
    if (ec_pwconv_uses_gemm_f16(d)) {
        ec_gemm_f16_forward_isa(out, in, w, b, d, preact, -1);
        return;
    }
    ec_pwconv_forward_sgemm(out, in, w, b, d, scratch, preact);
}

void ec_pwconv_forward_sgemm(float *out, const float *in, const void *w,
                             const float *b, const ec_pw_dims *d, float *scratch,
                             float *preact) {
    const int m = d->m, cin = d->cin, cout = d->cout;
    if (m <= 0 || cout <= 0) return;
    if (cin <= 0) {
        memset(out, 0, (size_t)m * (size_t)cout * sizeof(float));
        ec_bias_act(out, b, m, cout, d->act, preact);
        return;
    }
    const int nt = ec_pool_threads();
    const int f32 = d->wdt == EC_WDT_F32;
    pw_job j = {out, scratch, preact, in, b, w, m, cin, cout, d->act, nt, m < cout, !f32 && m > 1 && ec_gemm_ok(), f32};
    /* several tasks per thread: a thread that is descheduled (shared
     * machine) holds back only a small slice, the others take the rest */
    const int per = nt > 1 ? 4 * nt : 1;
    if (j.by_cols) {
        int units = (cout + (j.own ? 31 : 15)) / (j.own ? 32 : 16);
        j.ntasks = per < units ? per : units;
        ec_parallel_for(j.ntasks, pw_task, &j);
        return;
    }
    j.ntasks = nt;
    if (!f32) ec_parallel_for(nt, widen_task, &j);
    size_t bytes = (size_t)m * (size_t)cout * sizeof(float);
    size_t nts = (bytes + PW_TASK_BYTES - 1) / PW_TASK_BYTES;
    if (nts < (size_t)per) nts = (size_t)per;
    if (nts > (size_t)(m + 3) / 4) nts = (size_t)(m + 3) / 4;
    j.ntasks = (int)nts;
    ec_parallel_for(j.ntasks, pw_task, &j);
}

/* Backward: din[m, :] = dpre[m, :] W, split by rows of din. */
typedef struct pwb_job {
    float *din, *wbuf;      /* wbuf: widened / packed fp16 weights (scratch) */
    const float *dpre, *wf; /* wf: the fp32 weights the kernels read */
    const uint16_t *w;
    int m, cin, cout, ntasks, own;
} pwb_job;

static void pwb_widen(void *arg, int t, int thread) {
    (void)thread;
    pwb_job *j = arg;
    int lo, hi;
    if (j->own) { /* B = W [cout][cin]: panels over cin */
        ec_split(j->cin, j->ntasks, t, 16, &lo, &hi);
        ec_gemm_pack_w(j->wbuf, j->w, j->cout, j->cin, lo, hi);
        return;
    }
    ec_split(j->cout, j->ntasks, t, 8, &lo, &hi);
    weight_rows(j->wbuf, j->w, 0, j->cin, lo, hi - lo);
}

static void pwb_task(void *arg, int t, int thread) {
    (void)thread;
    pwb_job *j = arg;
    int lo, hi;
    if (j->m == 1) { /* columns of din */
        ec_split(j->cin, j->ntasks, t, 16, &lo, &hi);
        if (hi <= lo) return;
        memset(j->din + lo, 0, (size_t)(hi - lo) * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasTrans, j->cout, hi - lo, 1.0f, j->wf + lo, j->cin, j->dpre, 1, 0.0f,
                    j->din + lo, 1);
        return;
    }
    ec_split(j->m, j->ntasks, t, 4, &lo, &hi);
    if (hi <= lo) return;
    if (j->own) {
        ec_gemm_packed(j->dpre + (size_t)lo * j->cout, (size_t)j->cout, j->wf, j->cout, j->din + (size_t)lo * j->cin,
                       (size_t)j->cin, hi - lo, 0, j->cin);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, hi - lo, j->cin, j->cout, 1.0f,
                j->dpre + (size_t)lo * j->cout, j->cout, j->wf, j->cin, 0.0f, j->din + (size_t)lo * j->cin, j->cin);
}

/* Dense backward on fp16 weights (m == 1): din[k] = sum_n dpre[n] W[n, k],
 * rows widened 256 at a time on the stack, over column slices of din; rows
 * whose dpre[n] is exactly 0 are skipped (a logit target seeds a one-hot
 * gradient: one row of the classifier is read, not all of it). Sums run
 * over n in order: the same result at any thread count. */
#define PWB_ROW_CHUNK 256
static void pwb_dense_f16_task(void *arg, int t, int thread) {
    (void)thread;
    const pwb_job *j = arg;
    int lo, hi;
    ec_split(j->cin, j->ntasks, t, 16, &lo, &hi);
    if (hi <= lo) return;
    float *y = j->din + lo;
    const int nk = hi - lo;
    float buf[PWB_ROW_CHUNK];
    memset(y, 0, (size_t)nk * sizeof(float));
    for (int n = 0; n < j->cout; n++) {
        const float g = j->dpre[n];
        if (g == 0.0f) continue;
        for (int k0 = 0; k0 < nk; k0 += PWB_ROW_CHUNK) {
            const int kk = nk - k0 < PWB_ROW_CHUNK ? nk - k0 : PWB_ROW_CHUNK;
            ec_f16_widen(buf, j->w + (size_t)n * (size_t)j->cin + (size_t)(lo + k0), (size_t)kk);
            float *restrict yy = y + k0;
            for (int k = 0; k < kk; k++) yy[k] += g * buf[k];
        }
    }
}

void ec_pwconv_backward(float *din, const float *dpre, const void *w,
                        const ec_pw_dims *d, float *scratch) {
    if (pwb_uses_gemm_f16(d)) /* the fp16 rows [cout][cin] are the [k][n] operand as stored */
        ec_gemm_f16_kn_isa(din, dpre, (const uint16_t *)w, d->m, d->cout, d->cin, -1);
    else
        ec_pwconv_backward_sgemm(din, dpre, w, d, scratch);
}

void ec_pwconv_backward_sgemm(float *din, const float *dpre, const void *w,
                              const ec_pw_dims *d, float *scratch) {
    const int m = d->m, cin = d->cin, cout = d->cout;
    if (m <= 0 || cin <= 0) return;
    if (cout <= 0) {
        memset(din, 0, (size_t)m * (size_t)cin * sizeof(float));
        return;
    }
    const int nt = ec_pool_threads();
    pwb_job j = {.din = din, .dpre = dpre, .m = m, .cin = cin, .cout = cout, .ntasks = nt};
    if (m == 1 && d->wdt != EC_WDT_F32) {
        j.w = w;
        const int units = (cin + 15) / 16;
        j.ntasks = nt < units ? nt : units;
        ec_parallel_for(j.ntasks, pwb_dense_f16_task, &j);
        return;
    }
    if (d->wdt == EC_WDT_F32) {
        j.wf = w; /* in place, OpenBLAS */
    } else {
        j.w = w;
        j.wbuf = scratch;
        j.wf = scratch;
        j.own = m > 1 && ec_gemm_ok();
        ec_parallel_for(nt, pwb_widen, &j);
    }
    ec_parallel_for(nt, pwb_task, &j);
}
