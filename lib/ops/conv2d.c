/* k x k convolution (groups 1), NHWC, weights [cout][kh][kw][cin], fp16 or
 * fp32 (d->wdt).
 *
 * Forward: fp16 weights are widened once per call into the front of scratch
 * (Wf, fp32 [cout][K], K = kh * kw * cin); fp32 weights are Wf as they are
 * (no copy). Then the output is produced
 * tile_rows output rows at a time: an im2col tile col [M][K]
 * (M = rows * ow, row layout [ky][kx][cin], the same order as a weight row)
 * is built in scratch and one sgemm col * Wf^T writes the output rows
 * directly, followed by the bias + activation epilogue.
 *
 * Backward: din = col2im(dpre * Wf), tile by tile, scatter-added into a
 * zeroed din.
 *
 * A 1x1, stride-1, unpadded conv whose output rows are contiguous in the
 * input (ow == w) needs no im2col: the input is already the col matrix.
 *
 * Scratch layout (both directions): [Wf: fp16 weights widened [cout][K] or
 * packed for gemm.c (the larger on every CPU); none for fp32 weights, used in
 * place] [col tile: tile_rows*ow*K] (no col tile for the 1x1 direct case).
 *
 * Dense 3x3 stride-1 convs with fp16 weights and enough channels go to
 * Winograd F(4x4, 3x3) instead (conv3x3_winograd.c, both directions;
 * ec_conv2d_winograd_ok()); the im2col path stays the fallback and is
 * callable on its own.
 *
 * Convs with few input channels (the RGB stem) and fp16 weights run the
 * direct kernel of conv2d_direct.c instead (forward; AVX-512), inside the
 * im2col path's scratch plan.
 */
#include <string.h>

#include <cblas.h>

#include "ops/ops.h"
#include "pool.h"

static size_t conv_k(const ec_conv_dims *d) {
    return (size_t)d->kh * (size_t)d->kw * (size_t)d->cin;
}

/* 1x1 stride 1, no padding, and output row m == input pixel m. */
static int conv_is_direct(const ec_conv_dims *d) {
    return d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 &&
           d->pt == 0 && d->pl == 0 && d->ow == d->w && d->oh <= d->h;
}

int ec_conv2d_tile_rows(const ec_conv_dims *d) {
    if (d->oh <= 1) return 1;
    size_t row_bytes = (size_t)(d->ow > 0 ? d->ow : 1) * conv_k(d) * sizeof(float);
    if (row_bytes == 0) row_bytes = 1;
    size_t rows = EC_CONV_TILE_BYTES / row_bytes;
    if (rows < 1) rows = 1;
    if (rows >= (size_t)d->oh) return d->oh;
    /* Same number of tiles, heights balanced (never taller than `rows`). */
    size_t oh = (size_t)d->oh;
    size_t ntiles = (oh + rows - 1) / rows;
    return (int)((oh + ntiles - 1) / ntiles);
}

/* fp16 weights widened or packed for gemm.c (>=, the larger on every CPU);
 * fp32 weights are used in place. */
static size_t conv_wf_floats(const ec_conv_dims *d) {
    return d->wdt == EC_WDT_F32 ? 0 : ec_gemm_packed_floats((int)conv_k(d), d->cout);
}

static size_t conv_col_floats(const ec_conv_dims *d) {
    if (conv_is_direct(d)) return 0;
    return (size_t)ec_conv2d_tile_rows(d) * (size_t)d->ow * conv_k(d);
}

size_t ec_conv2d_im2col_scratch_floats(const ec_conv_dims *d) {
    /* direct: pwconv's scratch (its packed weights may be padded) */
    if (conv_is_direct(d)) {
        ec_pw_dims pd = {d->oh * d->ow, d->cin, d->cout, d->act, d->wdt};
        return ec_pwconv_scratch_floats(&pd);
    }
    return conv_wf_floats(d) + conv_col_floats(d);
}

size_t ec_conv2d_scratch_floats(const ec_conv_dims *d) {
    if (ec_conv2d_winograd_ok(d)) return ec_conv3x3_wino_scratch_floats(d);
    return ec_conv2d_im2col_scratch_floats(d);
}

size_t ec_conv2d_backward_scratch_floats(const ec_conv_dims *d) {
    if (ec_conv2d_winograd_ok(d)) return ec_conv3x3_wino_backward_scratch_floats(d);
    if (conv_is_direct(d)) /* the fp16 weights widened (fp32: in place) */
        return d->wdt == EC_WDT_F32 ? 0 : (size_t)d->cout * conv_k(d);
    return ec_conv2d_im2col_scratch_floats(d);
}

/* Input column range of kernel row segment starting at ix0 (kw taps):
 * taps [kx0, kx1) fall inside [0, w). */
static inline void clip_taps(int ix0, int kw, int w, int *kx0, int *kx1) {
    int a = ix0 < 0 ? -ix0 : 0;
    int b = w - ix0;
    if (b > kw) b = kw;
    if (b < a) b = a;
    *kx0 = a;
    *kx1 = b;
}

/* din += col2im(dcol) for output rows [oy0, oy0 + rows). */
static void col2im_tile(float *din, const float *dcol, const ec_conv_dims *d,
                        int oy0, int rows) {
    const int cin = d->cin, kw = d->kw, kh = d->kh;
    const size_t K = conv_k(d);
    const size_t seg = (size_t)kw * (size_t)cin;
    for (int r = 0; r < rows; r++) {
        const int oy = oy0 + r;
        for (int ox = 0; ox < d->ow; ox++) {
            const float *src = dcol + ((size_t)r * (size_t)d->ow + (size_t)ox) * K;
            const int ix0 = ox * d->sw - d->pl;
            int kx0, kx1;
            clip_taps(ix0, kw, d->w, &kx0, &kx1);
            if (kx0 >= kx1) continue;
            for (int ky = 0; ky < kh; ky++, src += seg) {
                const int iy = oy * d->sh - d->pt + ky;
                if (iy < 0 || iy >= d->h) continue;
                float *dst = din + ((size_t)iy * (size_t)d->w + (size_t)(ix0 + kx0)) * (size_t)cin;
                const float *s = src + (size_t)kx0 * (size_t)cin;
                const size_t n = (size_t)(kx1 - kx0) * (size_t)cin;
                for (size_t i = 0; i < n; i++) dst[i] += s[i];
            }
        }
    }
}

/* col rows [p0, p1) of the tile starting at output row oy0 (pixel p of the
 * tile is output (oy0 + p / ow, p % ow)). */
static void im2col_pixels(float *col, const float *in, const ec_conv_dims *d, int oy0, int p0, int p1) {
    const int cin = d->cin, kw = d->kw, kh = d->kh;
    const size_t K = conv_k(d);
    const size_t seg = (size_t)kw * (size_t)cin;
    for (int p = p0; p < p1; p++) {
        const int oy = oy0 + p / d->ow, ox = p % d->ow;
        float *dst = col + (size_t)p * K;
        const int ix0 = ox * d->sw - d->pl;
        int kx0, kx1;
        clip_taps(ix0, kw, d->w, &kx0, &kx1);
        for (int ky = 0; ky < kh; ky++, dst += seg) {
            const int iy = oy * d->sh - d->pt + ky;
            if (iy < 0 || iy >= d->h || kx0 >= kx1) {
                memset(dst, 0, seg * sizeof(float));
                continue;
            }
            if (kx0 > 0) memset(dst, 0, (size_t)kx0 * (size_t)cin * sizeof(float));
            const float *src = in + ((size_t)iy * (size_t)d->w + (size_t)(ix0 + kx0)) * (size_t)cin;
            memcpy(dst + (size_t)kx0 * (size_t)cin, src, (size_t)(kx1 - kx0) * (size_t)cin * sizeof(float));
            if (kx1 < kw)
                memset(dst + (size_t)kx1 * (size_t)cin, 0, (size_t)(kw - kx1) * (size_t)cin * sizeof(float));
        }
    }
}

typedef struct cv_job {
    float *out, *preact, *col, *wbuf; /* wbuf: where fp16 weights are widened */
    const float *in, *b, *wf;         /* wf: the fp32 weights the sgemm reads */
    const uint16_t *w;
    const ec_conv_dims *d;
    int oy0, M, ntasks, own;
} cv_job;

static void cv_widen(void *arg, int t, int thread) {
    (void)thread;
    cv_job *j = arg;
    const size_t K = conv_k(j->d);
    int lo, hi;
    if (j->own) {
        ec_split(j->d->cout, j->ntasks, t, 16, &lo, &hi);
        ec_gemm_pack_wT(j->wbuf, j->w, j->d->cout, (int)K, lo, hi);
        return;
    }
    ec_split(j->d->cout, j->ntasks, t, 4, &lo, &hi);
    ec_f16_widen(j->wbuf + (size_t)lo * K, j->w + (size_t)lo * K, (size_t)(hi - lo) * K);
}

/* One slice of a tile: im2col of its pixels, sgemm, bias + activation. */
static void cv_task(void *arg, int t, int thread) {
    (void)thread;
    cv_job *j = arg;
    const ec_conv_dims *d = j->d;
    const size_t K = conv_k(d);
    const int cout = d->cout;
    int p0, p1;
    ec_split(j->M, j->ntasks, t, 4, &p0, &p1);
    if (p1 <= p0) return;
    im2col_pixels(j->col, j->in, d, j->oy0, p0, p1);
    const size_t off = ((size_t)j->oy0 * (size_t)d->ow + (size_t)p0) * (size_t)cout;
    if (j->own)
        ec_gemm_packed(j->col + (size_t)p0 * K, K, j->wf, (int)K, j->out + off, (size_t)cout, p1 - p0, 0, cout);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, p1 - p0, cout, (int)K, 1.0f, j->col + (size_t)p0 * K,
                    (int)K, j->wf, (int)K, 0.0f, j->out + off, cout);
    ec_bias_act(j->out + off, j->b, p1 - p0, cout, d->act, j->preact ? j->preact + off : NULL);
}

void ec_conv2d_forward(float *out, const float *in, const void *w,
                       const float *b, const ec_conv_dims *d, float *scratch,
                       float *preact) {
    if (ec_conv2d_winograd_ok(d)) ec_conv3x3_wino_forward(out, in, w, b, d, scratch, preact);
    else if (!conv_is_direct(d) && ec_conv2d_direct_ok(d)) /* in the im2col plan's weight region */
        ec_conv2d_direct_forward(out, in, w, b, d, scratch, preact);
    else ec_conv2d_im2col_forward(out, in, w, b, d, scratch, preact);
}

void ec_conv2d_backward(float *din, const float *dpre, const void *w,
                        const ec_conv_dims *d, float *scratch) {
    if (ec_conv2d_winograd_ok(d)) ec_conv3x3_wino_backward(din, dpre, w, d, scratch);
    else ec_conv2d_im2col_backward(din, dpre, w, d, scratch);
}

void ec_conv2d_im2col_forward(float *out, const float *in, const void *w,
                              const float *b, const ec_conv_dims *d, float *scratch,
                              float *preact) {
    const size_t K = conv_k(d);
    const int cout = d->cout;
    if (d->oh <= 0 || d->ow <= 0 || cout <= 0) return;
    if (K == 0) { /* degenerate: no taps, output is bias + act */
        const int M = d->oh * d->ow;
        memset(out, 0, (size_t)M * (size_t)cout * sizeof(float));
        ec_bias_act(out, b, M, cout, d->act, preact);
        return;
    }
    if (conv_is_direct(d)) { /* a pointwise conv: same math, same scratch */
        ec_pw_dims pd = {d->oh * d->ow, d->cin, cout, d->act, d->wdt};
        ec_pwconv_forward(out, in, w, b, &pd, scratch, preact);
        return;
    }
    const int nt = ec_pool_threads();
    cv_job j = {.out = out, .preact = preact, .col = scratch + conv_wf_floats(d), .in = in, .b = b, .d = d,
                .ntasks = nt};
    if (d->wdt == EC_WDT_F32) {
        j.wf = w; /* in place */
    } else {
        j.w = w;
        j.wbuf = scratch;
        j.wf = scratch;
        j.own = ec_gemm_ok(); /* packed for gemm.c, else widened for sgemm */
        ec_parallel_for(nt, cv_widen, &j);
    }
    const int tile = ec_conv2d_tile_rows(d);
    for (int oy0 = 0; oy0 < d->oh; oy0 += tile) {
        const int rows = d->oh - oy0 < tile ? d->oh - oy0 : tile;
        j.oy0 = oy0;
        j.M = rows * d->ow;
        const int per = nt > 1 ? 4 * nt : 1; /* small slices: see pwconv.c */
        j.ntasks = per < (j.M + 3) / 4 ? per : (j.M + 3) / 4;
        ec_parallel_for(j.ntasks, cv_task, &j);
    }
}

void ec_conv2d_im2col_backward(float *din, const float *dpre, const void *w,
                               const ec_conv_dims *d, float *scratch) {
    const size_t K = conv_k(d);
    const int cout = d->cout;
    const size_t in_n = (size_t)d->h * (size_t)d->w * (size_t)d->cin;
    if (d->oh <= 0 || d->ow <= 0 || cout <= 0 || K == 0) {
        memset(din, 0, in_n * sizeof(float));
        return;
    }
    const float *wf = w;
    if (d->wdt != EC_WDT_F32) {
        ec_f16_widen(scratch, w, (size_t)cout * K);
        wf = scratch;
    }

    if (conv_is_direct(d)) {
        const int M = d->oh * d->ow;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, (int)K, cout,
                    1.0f, dpre, cout, wf, (int)K, 0.0f, din, (int)K);
        /* input rows below the last output row get no gradient */
        memset(din + (size_t)M * K, 0, (in_n - (size_t)M * K) * sizeof(float));
        return;
    }

    memset(din, 0, in_n * sizeof(float));
    float *dcol = scratch + conv_wf_floats(d);
    const int tile = ec_conv2d_tile_rows(d);
    for (int oy0 = 0; oy0 < d->oh; oy0 += tile) {
        const int rows = d->oh - oy0 < tile ? d->oh - oy0 : tile;
        const int M = rows * d->ow;
        const size_t off = (size_t)oy0 * (size_t)d->ow * (size_t)cout;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, (int)K, cout,
                    1.0f, dpre + off, cout, wf, (int)K, 0.0f, dcol, (int)K);
        col2im_tile(din, dcol, d, oy0, rows);
    }
}
