/* Direct k x k convolution for few input channels (cin <= EC_CONV_DIRECT_MAX_CIN:
 * the RGB stem), NHWC, fp16 weights [cout][kh][kw][cin], AVX-512.
 *
 *   out[oy, ox, co] = b[co] + sum_{ky, kx, ci} in[oy*sh - pt + ky, ox*sw - pl + kx, ci]
 *                                              * w[co, ky, kx, ci]
 * (positions outside the input read as 0), then the fused activation.
 *
 * With K = kh * kw * cin of 27, im2col + GEMM spent its time building and
 * re-reading the column matrix (b0's stem: 0.55 ms, 39 GFLOP/s). Here each
 * input value is broadcast against two vectors of 16 output channels, 4
 * output pixels at a time (8 accumulators: the FMA latency is hidden), the
 * weights transposed once per call to [ky][kx][ci][coutp] (coutp = cout
 * rounded up to 16, zero padded) in the front of the scratch the im2col path
 * plans anyway (its packed-weight region has exactly these coutp * K
 * floats), so the plan does not depend on which path runs.
 *
 * Work: output rows over the thread pool; each row runs its bias +
 * activation epilogue (writing the pre-activation if asked) while in cache. */
#include <string.h>

#include "ops/ops.h"
#include "pool.h"

int ec_conv2d_direct_ok(const ec_conv_dims *d) {
    return d->wdt != EC_WDT_F32 && d->cin >= 1 && d->cin <= EC_CONV_DIRECT_MAX_CIN && d->cout >= 1 &&
           d->oh >= 1 && d->ow >= 1 && ec_isa_max() >= EC_ISA_AVX512;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f")))

typedef struct cd_job {
    float *out, *preact;
    const float *in, *b, *wt; /* wt [kh][kw][cin][coutp] */
    const ec_conv_dims *d;
    int coutp, ntasks;
} cd_job;

/* Valid tap range [*lo, *hi) for output coordinate o along one axis. */
static inline void taps(int o, int s, int pad, int k, int n, int *lo, int *hi) {
    int base = o * s - pad, a = base < 0 ? -base : 0, b = n - base;
    if (b > k) b = k;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

/* NP output pixels (ox0, ox0 + sw, ...) x NV * 16 channels from cb of row
 * oy; kx taps [kx0, kx1) valid for all of them. CIN: cin as a constant
 * (0: d->cin). */
T512 static inline __attribute__((always_inline)) void pixels(const cd_job *j, int oy, int ox0, int cb, int kx0,
                                                               int kx1, const int NP, const int NV, const int CIN) {
    const ec_conv_dims *d = j->d;
    const int cin = CIN ? CIN : d->cin, W = d->w, cp = j->coutp, sw = d->sw;
    __mmask16 m[2];
    __m512 acc[4][2];
    for (int v = 0; v < NV; v++) {
        const int left = d->cout - cb - 16 * v;
        m[v] = (__mmask16)(left >= 16 ? 0xFFFFu : left > 0 ? (1u << left) - 1u : 0u);
        const __m512 bv = j->b ? _mm512_maskz_loadu_ps(m[v], j->b + cb + 16 * v) : _mm512_setzero_ps();
        for (int p = 0; p < NP; p++) acc[p][v] = bv;
    }
    int ky0, ky1;
    taps(oy, d->sh, d->pt, d->kh, d->h, &ky0, &ky1);
    for (int ky = ky0; ky < ky1; ky++) {
        const int iy = oy * d->sh - d->pt + ky;
        for (int kx = kx0; kx < kx1; kx++) {
            const float *x = j->in + ((size_t)iy * W + (size_t)(ox0 * sw - d->pl + kx)) * (size_t)cin;
            const float *wr = j->wt + ((size_t)(ky * d->kw + kx) * (size_t)cin) * (size_t)cp + (size_t)cb;
            for (int ci = 0; ci < cin; ci++) {
                __m512 wv[2];
                for (int v = 0; v < NV; v++) wv[v] = _mm512_loadu_ps(wr + (size_t)ci * (size_t)cp + 16 * v);
                for (int p = 0; p < NP; p++) {
                    const __m512 a = _mm512_set1_ps(x[(size_t)p * (size_t)sw * (size_t)cin + (size_t)ci]);
                    for (int v = 0; v < NV; v++) acc[p][v] = _mm512_fmadd_ps(a, wv[v], acc[p][v]);
                }
            }
        }
    }
    for (int p = 0; p < NP; p++)
        for (int v = 0; v < NV; v++)
            _mm512_mask_storeu_ps(j->out + ((size_t)oy * d->ow + (size_t)(ox0 + p)) * (size_t)d->cout + (size_t)cb +
                                      16 * v,
                                  m[v], acc[p][v]);
}

T512 static void cd_row(const cd_job *j, int oy) {
    const ec_conv_dims *d = j->d;
    /* interior columns: every kx tap inside the input */
    int oxa = (d->pl + d->sw - 1) / d->sw, oxb = d->w - d->kw + d->pl >= 0 ? (d->w - d->kw + d->pl) / d->sw + 1 : 0;
    if (oxa > d->ow) oxa = d->ow;
    if (oxb > d->ow) oxb = d->ow;
    if (oxb < oxa) oxb = oxa;
    for (int cb = 0; cb < d->cout; cb += 32) {
        const int two = d->cout - cb > 16; /* 2 vectors of channels share each broadcast */
        for (int ox = 0; ox < d->ow;) {
            if (ox >= oxa && ox + 4 <= oxb) {
                if (two && d->cin == 3) pixels(j, oy, ox, cb, 0, d->kw, 4, 2, 3); /* RGB: the taps unrolled */
                else if (two) pixels(j, oy, ox, cb, 0, d->kw, 4, 2, 0);
                else pixels(j, oy, ox, cb, 0, d->kw, 4, 1, 0);
                ox += 4;
                continue;
            }
            int kx0, kx1;
            taps(ox, d->sw, d->pl, d->kw, d->w, &kx0, &kx1);
            if (two) pixels(j, oy, ox, cb, kx0, kx1, 1, 2, 0);
            else pixels(j, oy, ox, cb, kx0, kx1, 1, 1, 0);
            ox++;
        }
    }
    const size_t n = (size_t)d->ow * (size_t)d->cout, off = (size_t)oy * n;
    ec_act_row_isa(j->out + off, NULL, n, d->act, j->preact ? j->preact + off : NULL, -1);
}

static void cd_task(void *arg, int t, int thread) {
    (void)thread;
    const cd_job *j = arg;
    int lo, hi;
    ec_split(j->d->oh, j->ntasks, t, 1, &lo, &hi);
    for (int oy = lo; oy < hi; oy++) cd_row(j, oy);
}

void ec_conv2d_direct_forward(float *out, const float *in, const uint16_t *w, const float *b,
                              const ec_conv_dims *d, float *scratch, float *preact) {
    const int cin = d->cin, cout = d->cout, coutp = (cout + 15) / 16 * 16, taps_n = d->kh * d->kw;
    /* wt[tap][ci][co] = w[co][tap][ci] */
    float *wt = scratch;
    for (int co = 0; co < coutp; co++)
        for (int t = 0; t < taps_n; t++)
            for (int ci = 0; ci < cin; ci++)
                wt[((size_t)t * cin + ci) * coutp + co] =
                    co < cout ? ec_f16_to_f32(w[((size_t)co * taps_n + t) * cin + ci]) : 0.0f;
    cd_job j = {out, preact, in, b, wt, d, coutp, 1};
    j.ntasks = ec_row_tasks(d->oh); /* one band of rows per thread (pool.h) */
    ec_parallel_for(j.ntasks, cd_task, &j);
}

#else /* ec_conv2d_direct_ok() is 0: never called */
void ec_conv2d_direct_forward(float *out, const float *in, const uint16_t *w, const float *b,
                              const ec_conv_dims *d, float *scratch, float *preact) {
    (void)out; (void)in; (void)w; (void)b; (void)d; (void)scratch; (void)preact;
}
#endif
