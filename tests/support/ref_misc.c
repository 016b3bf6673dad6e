#include "ref_misc.h"

#include <math.h>
#include <stdlib.h>

#include "ecw_format.h"
#include "test_util.h"

static double clamp6(double x) { return x < 0 ? 0 : (x > 6 ? 6 : x); }

double ref_misc_act(int act, double x) {
    switch (act) {
    case ECW_ACT_NONE: return x;
    case ECW_ACT_RELU: return x > 0 ? x : 0;
    case ECW_ACT_RELU6: return clamp6(x);
    case ECW_ACT_SILU: return x / (1.0 + exp(-x));
    case ECW_ACT_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case ECW_ACT_HSWISH: return x * clamp6(x + 3.0) / 6.0;
    case ECW_ACT_HSIGMOID: return clamp6(x + 3.0) / 6.0;
    default: abort();
    }
}

void ref_dwconv_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b, const ec_conv_dims *d) {
    int c = d->cin;
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            for (int ch = 0; ch < c; ch++) {
                double acc = b ? b[ch] : 0.0;
                for (int ky = 0; ky < d->kh; ky++)
                    for (int kx = 0; kx < d->kw; kx++) {
                        int iy = oy * d->sh - d->pt + ky;
                        int ix = ox * d->sw - d->pl + kx;
                        if (iy < 0 || iy >= d->h || ix < 0 || ix >= d->w) continue;
                        double xv = in[((size_t)iy * d->w + ix) * c + ch];
                        double wv = tu_weight(w, d->wdt, ((size_t)ky * d->kw + kx) * c + ch);
                        acc += xv * wv;
                    }
                size_t o = ((size_t)oy * d->ow + ox) * c + ch;
                if (preact) preact[o] = (float)acc;
                out[o] = (float)ref_misc_act(d->act, acc);
            }
}

void ref_se_forward(float *out, float *saved, const float *in,
                    const void *w1, const float *b1, const void *w2,
                    const float *b2, const ec_se_dims *d) {
    int c = d->c, m = d->cmid, hw = d->h * d->w;
    double *s = calloc((size_t)c, sizeof(double));
    double *zp = calloc((size_t)m, sizeof(double));
    double *z = calloc((size_t)m, sizeof(double));
    double *gp = calloc((size_t)c, sizeof(double));
    double *g = calloc((size_t)c, sizeof(double));
    if (!s || !zp || !z || !gp || !g) abort();
    for (int ch = 0; ch < c; ch++) {
        double acc = 0;
        for (int p = 0; p < hw; p++) acc += in[(size_t)p * c + ch];
        s[ch] = acc / hw;
    }
    for (int j = 0; j < m; j++) {
        double acc = b1 ? b1[j] : 0.0;
        for (int i = 0; i < c; i++) acc += tu_weight(w1, d->wdt1, (size_t)j * c + i) * s[i];
        zp[j] = acc;
        z[j] = ref_misc_act(d->act, acc);
    }
    for (int i = 0; i < c; i++) {
        double acc = b2 ? b2[i] : 0.0;
        for (int j = 0; j < m; j++) acc += tu_weight(w2, d->wdt2, (size_t)i * m + j) * z[j];
        gp[i] = acc;
        g[i] = ref_misc_act(d->gate, acc);
    }
    for (int p = 0; p < hw; p++)
        for (int ch = 0; ch < c; ch++)
            out[(size_t)p * c + ch] = (float)(in[(size_t)p * c + ch] * g[ch]);
    if (saved) {
        for (int i = 0; i < c; i++) saved[i] = (float)s[i];
        for (int j = 0; j < m; j++) saved[c + j] = (float)zp[j];
        for (int i = 0; i < c; i++) saved[c + m + i] = (float)gp[i];
        for (int i = 0; i < c; i++) saved[2 * c + m + i] = (float)g[i];
    }
    free(s); free(zp); free(z); free(gp); free(g);
}

void ref_gap_forward(float *out, const float *in, int hw, int c) {
    for (int ch = 0; ch < c; ch++) {
        double acc = 0;
        for (int p = 0; p < hw; p++) acc += in[(size_t)p * c + ch];
        out[ch] = (float)(acc / hw);
    }
}

void ref_softmax_forward(float *p, const float *logits, int n) {
    double mx = -INFINITY;
    for (int i = 0; i < n; i++) if (logits[i] > mx) mx = logits[i];
    double sum = 0;
    for (int i = 0; i < n; i++) sum += exp((double)logits[i] - mx);
    for (int i = 0; i < n; i++) p[i] = (float)(exp((double)logits[i] - mx) / sum);
}

void ref_add_forward(float *out, float *preact, const float *a, const float *b,
                     size_t n, int act) {
    for (size_t i = 0; i < n; i++) {
        double s = (double)a[i] + (double)b[i];
        if (preact) preact[i] = (float)s;
        out[i] = (float)ref_misc_act(act, s);
    }
}
