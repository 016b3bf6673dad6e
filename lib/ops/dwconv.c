/* Depthwise k x k convolution, NHWC, batch 1, cin == cout == c.
 *
 * out[oy, ox, ch] = b[ch] + sum_{ky, kx} in[oy*sh - pt + ky, ox*sw - pl + kx, ch]
 *                                        * w[ky, kx, ch]
 * (positions outside the input read as 0).
 *
 * Layout makes the channel loop contiguous for input, weights and output, so
 * it is always the innermost loop (GCC vectorises it). Borders are handled by
 * clamping the tap range once per output pixel: no per-element branches.
 *
 * Weights [kh][kw][c], fp16 or fp32 (d->wdt). Scratch (forward): fp16
 * weights widened to fp32, kh*kw*c floats; none for fp32 weights, which
 * are read in place. Backward: see below.
 */
#include <string.h>

#include "ecw_format.h"
#include "ops/ops.h"
#include "pool.h"

#define DW_CB 16 /* channels per register block in the forward */

static size_t wt_floats(const ec_conv_dims *d) {
    return (size_t)d->kh * (size_t)d->kw * (size_t)d->cout;
}

size_t ec_dwconv_scratch_floats(const ec_conv_dims *d) { return d->wdt == EC_WDT_F32 ? 0 : wt_floats(d); }

/* The weights as fp32: in place, or widened into scratch. */
static const float *dw_weights(const void *w, const ec_conv_dims *d, float *scratch) {
    if (d->wdt == EC_WDT_F32) return w;
    ec_f16_widen(scratch, w, wt_floats(d));
    return scratch;
}

/* Valid tap range [*lo, *hi) for output coordinate o along one axis. */
static inline void tap_range(int o, int s, int pad, int k, int n, int *lo, int *hi) {
    int base = o * s - pad; /* input coordinate of tap 0 */
    int a = base < 0 ? -base : 0;
    int b = n - base; /* taps with base + t < n */
    if (b > k) b = k;
    if (b < a) b = a;
    *lo = a;
    *hi = b;
}

static void dw_epilogue(float *out, const ec_conv_dims *d, float *preact, int oy) {
    const size_t n = (size_t)d->ow * d->cout, off = (size_t)oy * n;
    ec_act_row_isa(out + off, NULL, n, d->act, preact ? preact + off : NULL, -1);
}

/* One output row oy (all channels): accumulate, then the epilogue. The body
 * is compiled three times (portable, AVX2+FMA, AVX-512) so GCC vectorises
 * the DW_CB-channel register block at each width; chosen at run time. */
#define DW_ROW_BODY                                                                             \
    const int c = d->cout, H = d->h, W = d->w, OW = d->ow;                                     \
    const int KH = d->kh, KW = d->kw, SH = d->sh, SW = d->sw;                                   \
    int ky0, ky1;                                                                               \
    tap_range(oy, SH, d->pt, KH, H, &ky0, &ky1);                                                \
    const int iy0 = oy * SH - d->pt;                                                            \
    float *orow = out + (size_t)oy * OW * c;                                                    \
    for (int ox = 0; ox < OW; ox++) {                                                           \
        int kx0, kx1;                                                                           \
        tap_range(ox, SW, d->pl, KW, W, &kx0, &kx1);                                            \
        const int ix0 = ox * SW - d->pl;                                                        \
        float *restrict o = orow + (size_t)ox * c;                                              \
        if (kx0 >= kx1 || ky0 >= ky1) {                                                         \
            if (b) memcpy(o, b, (size_t)c * sizeof(float));                                     \
            else memset(o, 0, (size_t)c * sizeof(float));                                       \
            continue;                                                                           \
        }                                                                                       \
        const float *xbase = in + ((size_t)(iy0 + ky0) * W + (size_t)(ix0 + kx0)) * c;         \
        const float *wbase = wt + ((size_t)ky0 * KW + (size_t)kx0) * c;                         \
        const size_t xstride = (size_t)W * c, wstride = (size_t)KW * c;                         \
        const int nky = ky1 - ky0, nkx = kx1 - kx0;                                             \
        int c0 = 0;                                                                             \
        for (; c0 + DW_CB <= c; c0 += DW_CB) {                                                  \
            float acc[DW_CB];                                                                   \
            for (int l = 0; l < DW_CB; l++) acc[l] = b ? b[c0 + l] : 0.0f;                      \
            const float *xr = xbase + c0, *wr = wbase + c0;                                     \
            for (int ky = 0; ky < nky; ky++, xr += xstride, wr += wstride) {                    \
                const float *xp = xr, *wp = wr;                                                 \
                for (int kx = 0; kx < nkx; kx++, xp += c, wp += c)                              \
                    for (int l = 0; l < DW_CB; l++) acc[l] += xp[l] * wp[l];                    \
            }                                                                                   \
            for (int l = 0; l < DW_CB; l++) o[c0 + l] = acc[l];                                 \
        }                                                                                       \
        if (c0 < c) {                                                                           \
            const int rem = c - c0;                                                             \
            if (b) memcpy(o + c0, b + c0, (size_t)rem * sizeof(float));                         \
            else memset(o + c0, 0, (size_t)rem * sizeof(float));                               \
            const float *xr = xbase + c0, *wr = wbase + c0;                                     \
            for (int ky = 0; ky < nky; ky++, xr += xstride, wr += wstride) {                    \
                const float *xp = xr, *wp = wr;                                                 \
                for (int kx = 0; kx < nkx; kx++, xp += c, wp += c)                              \
                    for (int ch = 0; ch < rem; ch++) o[c0 + ch] += xp[ch] * wp[ch];             \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
    ec_act_row_isa(orow, NULL, (size_t)OW * c, d->act, preact ? preact + (size_t)oy * OW * c : NULL, -1);

typedef void (*dw_row_fn)(float *out, const float *in, const float *wt, const float *b, const ec_conv_dims *d,
                          float *preact, int oy);

static void dw_row_generic(float *out, const float *in, const float *wt, const float *b, const ec_conv_dims *d,
                           float *preact, int oy) {
    DW_ROW_BODY
}
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define TGT __attribute__((target("avx2,fma")))
#define SFX avx2
#define W 8
#define VF __m256
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define MASK_T __m256i
#define MKMASK(r) _mm256_cmpgt_epi32(_mm256_set1_epi32(r), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define LOADM(p, m) _mm256_maskload_ps(p, m)
#define STOREM(p, m, v) _mm256_maskstore_ps(p, m, v)
#include "dw_simd.inc"
#undef TGT
#undef SFX
#undef W
#undef VF
#undef SET1
#undef FMA
#undef MASK_T
#undef MKMASK
#undef LOADM
#undef STOREM
#define TGT __attribute__((target("avx512f")))
#define SFX avx512
#define W 16
#define VF __m512
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define MASK_T __mmask16
#define MKMASK(r) ((__mmask16)((1u << (r)) - 1u))
#define LOADM(p, m) _mm512_maskz_loadu_ps(m, p)
#define STOREM(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#include "dw_simd.inc"
#undef W

__attribute__((target("avx2,fma"))) static void dw_row_avx2(float *out, const float *in, const float *wt,
                                                            const float *b, const ec_conv_dims *d, float *preact,
                                                            int oy) {
    DW_ROW_BODY
}
__attribute__((target("avx512f"))) static void dw_row_avx512(float *out, const float *in, const float *wt,
                                                             const float *b, const ec_conv_dims *d, float *preact,
                                                             int oy) {
    DW_ROW_BODY
}
#endif

/* isa: EC_ISA_* level; the 3x3 / 5x5, stride 1 / 2 square cases get the
 * intrinsics rows, the others the auto-vectorised generic row. */
static dw_row_fn dw_row_for(int isa, const ec_conv_dims *d) {
    int mx = ec_isa_max();
    if (isa < 0 || isa > mx) isa = mx;
#if defined(__x86_64__) && defined(__GNUC__)
    const int fast = d->kh == d->kw && d->sh == d->sw && (d->kw == 3 || d->kw == 5) && (d->sw == 1 || d->sw == 2);
    const int sel = fast ? (d->kw == 3 ? 0 : 2) + (d->sw - 1) : -1;
    if (isa == EC_ISA_AVX512) {
        static const dw_row_fn f[4] = {dw_row_k3s1_avx512, dw_row_k3s2_avx512, dw_row_k5s1_avx512, dw_row_k5s2_avx512};
        return sel >= 0 ? f[sel] : dw_row_avx512;
    }
    if (isa == EC_ISA_AVX2) {
        static const dw_row_fn f[4] = {dw_row_k3s1_avx2, dw_row_k3s2_avx2, dw_row_k5s1_avx2, dw_row_k5s2_avx2};
        return sel >= 0 ? f[sel] : dw_row_avx2;
    }
#endif
    (void)d;
    return dw_row_generic;
}

typedef struct dw_job {
    float *out, *preact;
    const float *in, *wt, *b;
    const ec_conv_dims *d;
    dw_row_fn row;
    int ntasks;
    const float *gpre; /* backward only: each finished row *= gact'(gpre) */
    int gact;
} dw_job;

static void dw_task(void *arg, int t, int thread) {
    (void)thread;
    dw_job *j = arg;
    int lo, hi;
    ec_split(j->d->oh, j->ntasks, t, 1, &lo, &hi);
    const size_t rl = (size_t)j->d->ow * (size_t)j->d->cout;
    for (int oy = lo; oy < hi; oy++) {
        j->row(j->out, j->in, j->wt, j->b, j->d, j->preact, oy);
        if (j->gpre) ec_act_backward_isa(j->out + oy * rl, j->out + oy * rl, j->gpre + oy * rl, rl, j->gact, -1);
    }
}

/* Rows of out split in one band per thread (pool.h, ec_row_tasks). */
static void dw_run(float *out, const float *in, const float *wt, const float *b, const ec_conv_dims *d,
                   float *preact, int isa, const float *gpre, int gact) {
    dw_job j = {out, preact, in, wt, b, d, dw_row_for(isa, d), 0, gpre, gact};
    j.ntasks = ec_row_tasks(d->oh);
    ec_parallel_for(d->oh > 0 ? j.ntasks : 0, dw_task, &j);
}

void ec_dwconv_forward_isa(float *out, const float *in, const void *w,
                           const float *b, const ec_conv_dims *d, float *scratch,
                           float *preact, int isa) {
    dw_run(out, in, dw_weights(w, d, scratch), b, d, preact, isa, NULL, 0);
}

void ec_dwconv_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_conv_dims *d, float *scratch,
                       float *preact) {
    ec_dwconv_forward_isa(out, in, w, b, d, scratch, preact, -1);
}

/* ---- backward (data gradient) -------------------------------------------
 * Stride 1 (with 0 <= pad < k): the gradient is itself a depthwise
 * correlation of dpre with the kernel flipped in both axes, padded by
 * k - 1 - pad:
 *   din[iy, ix, :] = sum_{ky, kx} dpre[iy - (kh-1-pt) + ky, ix - (kw-1-pl) + kx, :]
 *                                 * w[kh-1-ky, kw-1-kx, :]
 * so it runs on the forward's row kernels, rows split per thread; the
 * flipped (and widened) weights go to scratch (kh*kw*c floats, fp32
 * weights too). Other strides: the gather form below. */
static int dwb_by_rows(const ec_conv_dims *d) {
    return d->sh == 1 && d->sw == 1 && d->pt >= 0 && d->pl >= 0 && d->pt < d->kh && d->pl < d->kw;
}

size_t ec_dwconv_backward_scratch_floats(const ec_conv_dims *d) {
    return dwb_by_rows(d) ? wt_floats(d) : ec_dwconv_scratch_floats(d);
}

/* Other strides and paddings: the gather form, one input row at a time,
 *   din[iy, ix, :] = sum over taps with oy = (iy + pt - ky) / sh and
 *                    ox = (ix + pl - kx) / sw whole and inside the output:
 *                    dpre[oy, ox, :] * w[ky, kx, :]
 * (ky steps by sh from (iy + pt) % sh); rows split in one band per thread
 * like the forward, the input's activation backward applied to each
 * finished row. The per-pixel sums are
 * dw_simd.inc's dwb_pixel_* (one channel vector at a time). */
typedef struct dwb_job {
    float *din;
    const float *dpre, *wt, *gpre;
    const ec_conv_dims *d;
    int ntasks, gact;
} dwb_job;

/* the valid taps of input row iy (pixel offsets of dpre, tap offsets of w),
 * then of each pixel ix (ECW_MAX_KERNEL bounds both lists); PIXEL sums
 * them for one input pixel */
#define DWB_BODY(PIXEL)                                                                         \
    const dwb_job *j = arg;                                                                     \
    const ec_conv_dims *d = j->d;                                                               \
    const int c = d->cin, Wd = d->w, OH = d->oh, OW = d->ow;                                    \
    const int KH = d->kh, KW = d->kw, SH = d->sh, SW = d->sw;                                   \
    int gy[ECW_MAX_KERNEL], wy[ECW_MAX_KERNEL], gx[ECW_MAX_KERNEL], wx[ECW_MAX_KERNEL];         \
    int y0, y1;                                                                                 \
    ec_split(d->h, j->ntasks, t, 1, &y0, &y1);                                                  \
    for (int iy = y0; iy < y1; iy++) {                                                          \
        int nky = 0;                                                                            \
        for (int ky = (iy + d->pt) % SH; ky < KH && nky < (int)ECW_MAX_KERNEL; ky += SH) {     \
            const int oy = (iy + d->pt - ky) / SH;                                              \
            if (oy < 0) break;                                                                  \
            if (oy < OH) { gy[nky] = oy * OW; wy[nky] = ky * KW; nky++; }                       \
        }                                                                                       \
        float *drow = j->din + (size_t)iy * Wd * c;                                             \
        for (int ix = 0; ix < Wd; ix++) {                                                       \
            int nkx = 0;                                                                        \
            for (int kx = (ix + d->pl) % SW; kx < KW && nkx < (int)ECW_MAX_KERNEL; kx += SW) { \
                const int ox = (ix + d->pl - kx) / SW;                                          \
                if (ox < 0) break;                                                              \
                if (ox < OW) { gx[nkx] = ox; wx[nkx] = kx; nkx++; }                             \
            }                                                                                   \
            PIXEL(drow + (size_t)ix * c, j->dpre, j->wt, c, gy, wy, nky, gx, wx, nkx);          \
        }                                                                                       \
        if (j->gpre)                                                                            \
            ec_act_backward_isa(drow, drow, j->gpre + (size_t)iy * Wd * c, (size_t)Wd * c, j->gact, -1); \
    }

static void dwb_pixel_generic(float *o, const float *dpre, const float *wt, int c, const int *gy, const int *wy,
                              int nky, const int *gx, const int *wx, int nkx) {
    for (int ch = 0; ch < c; ch++) o[ch] = 0.0f;
    for (int ya = 0; ya < nky; ya++)
        for (int xb = 0; xb < nkx; xb++) {
            const float *restrict gp = dpre + (size_t)(gy[ya] + gx[xb]) * c;
            const float *restrict wp = wt + (size_t)(wy[ya] + wx[xb]) * c;
            for (int ch = 0; ch < c; ch++) o[ch] += gp[ch] * wp[ch];
        }
}

static void dwb_task_generic(void *arg, int t, int thread) {
    (void)thread;
    DWB_BODY(dwb_pixel_generic)
}
#if defined(__x86_64__) && defined(__GNUC__)
static void dwb_task_avx2(void *arg, int t, int thread) {
    (void)thread;
    DWB_BODY(dwb_pixel_avx2)
}
static void dwb_task_avx512(void *arg, int t, int thread) {
    (void)thread;
    DWB_BODY(dwb_pixel_avx512)
}
#endif

void ec_dwconv_backward_isa(float *din, const float *dpre, const void *w, const ec_conv_dims *d, float *scratch,
                            int isa) {
    ec_dwconv_backward_act_isa(din, dpre, w, d, scratch, NULL, 0, isa);
}

void ec_dwconv_backward_act(float *din, const float *dpre, const void *w, const ec_conv_dims *d, float *scratch,
                            const float *pre, int act) {
    ec_dwconv_backward_act_isa(din, dpre, w, d, scratch, pre, act, -1);
}

void ec_dwconv_backward_act_isa(float *din, const float *dpre, const void *w, const ec_conv_dims *d,
                                float *scratch, const float *pre, int act, int isa) {
    if (pre && act == ECW_ACT_NONE) pre = NULL;
    int mx = ec_isa_max();
    if (isa < 0 || isa > mx) isa = mx;
    if (dwb_by_rows(d)) {
        const int taps = d->kh * d->kw, c = d->cout;
        for (int t = 0; t < taps; t++) { /* tap t -> taps - 1 - t: both axes flipped */
            float *dst = scratch + (size_t)(taps - 1 - t) * (size_t)c;
            if (d->wdt == EC_WDT_F32) memcpy(dst, (const float *)w + (size_t)t * c, (size_t)c * sizeof(float));
            else ec_f16_widen(dst, (const uint16_t *)w + (size_t)t * c, (size_t)c);
        }
        ec_conv_dims bd = *d;
        bd.h = d->oh;
        bd.w = d->ow;
        bd.oh = d->h;
        bd.ow = d->w;
        bd.pt = d->kh - 1 - d->pt;
        bd.pl = d->kw - 1 - d->pl;
        bd.act = ECW_ACT_NONE;
        dw_run(din, dpre, scratch, NULL, &bd, NULL, isa, pre, act); /* act' fused per row */
        return;
    }
    void (*task)(void *, int, int) = dwb_task_generic;
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == EC_ISA_AVX512) task = dwb_task_avx512;
    else if (isa == EC_ISA_AVX2) task = dwb_task_avx2;
#endif
    dwb_job j = {din, dpre, dw_weights(w, d, scratch), pre, d, ec_row_tasks(d->h), act};
    ec_parallel_for(d->h > 0 ? j.ntasks : 0, task, &j);
}

void ec_dwconv_backward(float *din, const float *dpre, const void *w,
                        const ec_conv_dims *d, float *scratch) {
    ec_dwconv_backward_isa(din, dpre, w, d, scratch, -1);
}
