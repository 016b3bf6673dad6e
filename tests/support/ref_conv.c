#include "ref_conv.h"

#include <stddef.h>

#include "test_util.h"

void ref_conv2d_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b,
                        const ec_conv_dims *d, int depthwise) {
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            for (int co = 0; co < d->cout; co++) {
                double acc = b ? (double)b[co] : 0.0;
                for (int ky = 0; ky < d->kh; ky++)
                    for (int kx = 0; kx < d->kw; kx++) {
                        int iy = oy * d->sh - d->pt + ky;
                        int ix = ox * d->sw - d->pl + kx;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                        if (depthwise) {
                            size_t wi = ((size_t)ky * d->kw + kx) * d->cout + co;
                            size_t ii = ((size_t)iy * d->w + ix) * d->cin + co;
                            acc += (double)in[ii] * tu_weight(w, d->wdt, wi);
                        } else {
                            for (int ci = 0; ci < d->cin; ci++) {
                                size_t wi = (((size_t)co * d->kh + ky) * d->kw + kx) * d->cin + ci;
                                size_t ii = ((size_t)iy * d->w + ix) * d->cin + ci;
                                acc += (double)in[ii] * tu_weight(w, d->wdt, wi);
                            }
                        }
                    }
                size_t oi = ((size_t)oy * d->ow + ox) * d->cout + co;
                float pre = (float)acc;
                if (preact) preact[oi] = pre;
                out[oi] = ec_act_scalar(d->act, pre);
            }
}

void ref_conv2d_backward(float *din, const float *dpre, const void *w,
                         const ec_conv_dims *d, int depthwise) {
    /* Gather form: for every input element, sum over the outputs reading it. */
    for (int iy = 0; iy < d->h; iy++)
        for (int ix = 0; ix < d->w; ix++)
            for (int ci = 0; ci < d->cin; ci++) {
                double acc = 0.0;
                for (int oy = 0; oy < d->oh; oy++) {
                    int ky = iy + d->pt - oy * d->sh;
                    if (ky < 0 || ky >= d->kh) continue;
                    for (int ox = 0; ox < d->ow; ox++) {
                        int kx = ix + d->pl - ox * d->sw;
                        if (kx < 0 || kx >= d->kw) continue;
                        if (depthwise) {
                            size_t wi = ((size_t)ky * d->kw + kx) * d->cout + ci;
                            size_t gi = ((size_t)oy * d->ow + ox) * d->cout + ci;
                            acc += (double)dpre[gi] * tu_weight(w, d->wdt, wi);
                        } else {
                            for (int co = 0; co < d->cout; co++) {
                                size_t wi = (((size_t)co * d->kh + ky) * d->kw + kx) * d->cin + ci;
                                size_t gi = ((size_t)oy * d->ow + ox) * d->cout + co;
                                acc += (double)dpre[gi] * tu_weight(w, d->wdt, wi);
                            }
                        }
                    }
                }
                din[((size_t)iy * d->w + ix) * d->cin + ci] = (float)acc;
            }
}

void ref_pwconv_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b, const ec_pw_dims *d) {
    for (int i = 0; i < d->m; i++)
        for (int co = 0; co < d->cout; co++) {
            double acc = b ? (double)b[co] : 0.0;
            for (int ci = 0; ci < d->cin; ci++)
                acc += (double)in[(size_t)i * d->cin + ci] *
                       tu_weight(w, d->wdt, (size_t)co * d->cin + ci);
            size_t oi = (size_t)i * d->cout + co;
            float pre = (float)acc;
            if (preact) preact[oi] = pre;
            out[oi] = ec_act_scalar(d->act, pre);
        }
}

void ref_pwconv_backward(float *din, const float *dpre, const void *w,
                         const ec_pw_dims *d) {
    for (int i = 0; i < d->m; i++)
        for (int ci = 0; ci < d->cin; ci++) {
            double acc = 0.0;
            for (int co = 0; co < d->cout; co++)
                acc += (double)dpre[(size_t)i * d->cout + co] *
                       tu_weight(w, d->wdt, (size_t)co * d->cin + ci);
            din[(size_t)i * d->cin + ci] = (float)acc;
        }
}

void ref_same_pad(int in, int k, int s, int *out, int *pad_lead) {
    int o = (in + s - 1) / s;
    int total = (o - 1) * s + k - in;
    if (total < 0) total = 0;
    *out = o;
    *pad_lead = total / 2;
}
