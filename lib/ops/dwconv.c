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
 * Scratch (forward and backward): the widened fp32 weights, kh*kw*c floats.
 */
#include <string.h>

#include "ops/ops.h"

#define DW_CB 16 /* channels per register block in the forward */

static size_t wt_floats(const ec_conv_dims *d) {
    return (size_t)d->kh * (size_t)d->kw * (size_t)d->cout;
}

size_t ec_dwconv_scratch_floats(const ec_conv_dims *d) { return wt_floats(d); }
size_t ec_dwconv_backward_scratch_floats(const ec_conv_dims *d) { return wt_floats(d); }

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

/* o[ch] += x[ch] * w[ch] for one tap. */
static inline void mac_row(float *restrict o, const float *restrict x,
                           const float *restrict w, int c) {
    for (int ch = 0; ch < c; ch++) o[ch] += x[ch] * w[ch];
}

void ec_dwconv_forward(float *out, const float *in, const uint16_t *w,
                       const float *b, const ec_conv_dims *d, float *scratch,
                       float *preact) {
    const int c = d->cout, H = d->h, W = d->w, OH = d->oh, OW = d->ow;
    const int KH = d->kh, KW = d->kw, SH = d->sh, SW = d->sw;
    float *restrict wt = scratch;
    ec_f16_widen(wt, w, wt_floats(d));

    for (int oy = 0; oy < OH; oy++) {
        int ky0, ky1;
        tap_range(oy, SH, d->pt, KH, H, &ky0, &ky1);
        const int iy0 = oy * SH - d->pt;
        float *orow = out + (size_t)oy * OW * c;
        for (int ox = 0; ox < OW; ox++) {
            int kx0, kx1;
            tap_range(ox, SW, d->pl, KW, W, &kx0, &kx1);
            const int ix0 = ox * SW - d->pl;
            float *restrict o = orow + (size_t)ox * c;
            if (kx0 >= kx1 || ky0 >= ky1) {
                if (b) memcpy(o, b, (size_t)c * sizeof(float));
                else memset(o, 0, (size_t)c * sizeof(float));
                continue;
            }
            const float *xbase = in + ((size_t)(iy0 + ky0) * W + (size_t)(ix0 + kx0)) * c;
            const float *wbase = wt + ((size_t)ky0 * KW + (size_t)kx0) * c;
            const size_t xstride = (size_t)W * c, wstride = (size_t)KW * c;
            const int nky = ky1 - ky0, nkx = kx1 - kx0;
            int c0 = 0;
            /* channel blocks of DW_CB held in registers across all taps */
            for (; c0 + DW_CB <= c; c0 += DW_CB) {
                float acc[DW_CB];
                for (int l = 0; l < DW_CB; l++) acc[l] = b ? b[c0 + l] : 0.0f;
                const float *xr = xbase + c0, *wr = wbase + c0;
                for (int ky = 0; ky < nky; ky++, xr += xstride, wr += wstride) {
                    const float *xp = xr, *wp = wr;
                    for (int kx = 0; kx < nkx; kx++, xp += c, wp += c)
                        for (int l = 0; l < DW_CB; l++) acc[l] += xp[l] * wp[l];
                }
                for (int l = 0; l < DW_CB; l++) o[c0 + l] = acc[l];
            }
            if (c0 < c) {
                const int rem = c - c0;
                if (b) memcpy(o + c0, b + c0, (size_t)rem * sizeof(float));
                else memset(o + c0, 0, (size_t)rem * sizeof(float));
                const float *xr = xbase + c0, *wr = wbase + c0;
                for (int ky = 0; ky < nky; ky++, xr += xstride, wr += wstride) {
                    const float *xp = xr, *wp = wr;
                    for (int kx = 0; kx < nkx; kx++, xp += c, wp += c)
                        mac_row(o + c0, xp, wp, rem);
                }
            }
        }
        const size_t n = (size_t)OW * c;
        if (preact) memcpy(preact + (size_t)oy * OW * c, orow, n * sizeof(float));
        ec_act_forward(orow, n, d->act);
    }
}

/* Scatter form: din = 0; for every output pixel and valid tap,
 * din[iy, ix, :] += dpre[oy, ox, :] * w[ky, kx, :]. */
void ec_dwconv_backward(float *din, const float *dpre, const uint16_t *w,
                        const ec_conv_dims *d, float *scratch) {
    const int c = d->cin, H = d->h, W = d->w, OH = d->oh, OW = d->ow;
    const int KH = d->kh, KW = d->kw, SH = d->sh, SW = d->sw;
    float *restrict wt = scratch;
    ec_f16_widen(wt, w, wt_floats(d));
    memset(din, 0, (size_t)H * W * c * sizeof(float));

    for (int oy = 0; oy < OH; oy++) {
        int ky0, ky1;
        tap_range(oy, SH, d->pt, KH, H, &ky0, &ky1);
        const int iy0 = oy * SH - d->pt;
        for (int ox = 0; ox < OW; ox++) {
            int kx0, kx1;
            tap_range(ox, SW, d->pl, KW, W, &kx0, &kx1);
            const int ix0 = ox * SW - d->pl;
            if (kx0 >= kx1) continue;
            const float *restrict g = dpre + ((size_t)oy * OW + ox) * c;
            for (int ky = ky0; ky < ky1; ky++) {
                float *xrow = din + ((size_t)(iy0 + ky) * W + (size_t)(ix0 + kx0)) * c;
                const float *wrow = wt + ((size_t)ky * KW + (size_t)kx0) * c;
                for (int kx = kx0; kx < kx1; kx++) {
                    mac_row(xrow, g, wrow, c);
                    xrow += c;
                    wrow += c;
                }
            }
        }
    }
}
