#include "ref_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecw_build.h"
#include "ecw_format.h"
#include "ops/ops.h"

typedef struct { int h, w, c; double *d; } rt;

static double act(int a, double x) {
    double r6;
    switch (a) {
    case ECW_ACT_RELU: return x > 0 ? x : 0;
    case ECW_ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ECW_ACT_SILU: return x / (1 + exp(-x));
    case ECW_ACT_SIGMOID: return 1 / (1 + exp(-x));
    case ECW_ACT_HSWISH: r6 = x + 3; r6 = r6 < 0 ? 0 : r6 > 6 ? 6 : r6; return x * r6 / 6;
    case ECW_ACT_HSIGMOID: r6 = x + 3; r6 = r6 < 0 ? 0 : r6 > 6 ? 6 : r6; return r6 / 6;
    default: return x;
    }
}

typedef struct { const uint8_t *f; uint64_t t_off, d_off; } model;

static double tval(const model *m, int t, size_t i) {
    const uint8_t *r = m->f + m->t_off + (uint64_t)t * ECW_TENSOR_BYTES;
    const uint8_t *d = m->f + m->d_off + tb_rd64(r + ECWT_OFFSET);
    if (tb_rd32(r + ECWT_DTYPE) == ECW_F16) return ec_f16_to_f32((uint16_t)(d[2 * i] | (d[2 * i + 1] << 8)));
    float v;
    memcpy(&v, d + 4 * i, 4);
    return v;
}

static int rd16s(const uint8_t *p) { return p[0] | (p[1] << 8); }

static int find_tap(const uint8_t *f, const char *name, int *val, int *kind, int *st, int *sf) {
    uint64_t taps_off = tb_rd64(f + ECWH_TAPS_OFF), s_off = tb_rd64(f + ECWH_STRINGS_OFF);
    for (uint32_t i = 0; i < tb_rd32(f + ECWH_N_TAPS); i++) {
        const uint8_t *r = f + taps_off + 32ull * i;
        if (strcmp((const char *)f + s_off + tb_rd32(r), name) != 0) continue;
        *val = (int)tb_rd32(r + 4); *kind = (int)tb_rd32(r + 8); *st = (int)tb_rd32(r + 12); *sf = (int)tb_rd32(r + 16);
        return 0;
    }
    return -1;
}

static int run(const uint8_t *f, int h, int w, const float *input, double *logits_d, float *logits, const char *tap_name,
               float **tap_out, int *tap_h, int *tap_w, int *tap_c, const char *pert_tap, size_t pert_idx, double delta);

int ref_model_run(const uint8_t *f, int h, int w, const float *input, float *logits, const char *tap_name, float **tap_out,
                  int *tap_h, int *tap_w, int *tap_c) {
    return run(f, h, w, input, NULL, logits, tap_name, tap_out, tap_h, tap_w, tap_c, NULL, 0, 0);
}

int ref_model_run_perturbed(const uint8_t *f, int h, int w, const float *input, double *logits, const char *tap_name,
                            size_t idx, double delta) {
    return run(f, h, w, input, logits, NULL, NULL, NULL, NULL, NULL, NULL, tap_name, idx, delta);
}

static int run(const uint8_t *f, int h, int w, const float *input, double *logits_d, float *logits, const char *tap_name,
               float **tap_out, int *tap_h, int *tap_w, int *tap_c, const char *pert_tap, size_t pert_idx, double delta) {
    int pv = -1, pk = 0, pst = -1, psf = -1;
    if (pert_tap && find_tap(f, pert_tap, &pv, &pk, &pst, &psf)) return -1;
    int n = (int)tb_rd32(f + ECWH_N_OPS);
    model M = {f, tb_rd64(f + ECWH_TENSORS_OFF), tb_rd64(f + ECWH_DATA_OFF)};
    uint64_t ops_off = tb_rd64(f + ECWH_OPS_OFF), s_off = tb_rd64(f + ECWH_STRINGS_OFF);
    rt *v = calloc((size_t)n + 1, sizeof(rt));
    double **pre = calloc((size_t)n + 1, sizeof(double *));
    v[0].h = h; v[0].w = w; v[0].c = 3;
    v[0].d = malloc(sizeof(double) * (size_t)h * w * 3);
    for (int p = 0; p < h * w; p++)
        for (int c = 0; c < 3; c++) {
            float mul, add;
            memcpy(&mul, f + ECWH_PRE_MUL + 4 * c, 4);
            memcpy(&add, f + ECWH_PRE_ADD + 4 * c, 4);
            int src = tb_rd32(f + ECWH_CHANNEL_ORDER) == 1 ? 2 - c : c;
            v[0].d[p * 3 + c] = (double)input[p * 3 + src] * mul + add;
        }
    for (int i = 0; i < n; i++) {
        const uint8_t *r = f + ops_off + (uint64_t)i * ECW_OP_BYTES;
        int type = rd16s(r), a = r[2], a2 = r[3], flags = (int)tb_rd32(r + 4);
        int in0 = (int)tb_rd32(r + 8), in1 = (int)tb_rd32(r + 12);
        int kh = rd16s(r + 16), kw = rd16s(r + 18), sh = rd16s(r + 20), sw = rd16s(r + 22);
        int pt = rd16s(r + 24), pl = rd16s(r + 26), pb = rd16s(r + 28), pr = rd16s(r + 30);
        int cout = (int)tb_rd32(r + 36), cmid = (int)tb_rd32(r + 40);
        int t[4];
        for (int k = 0; k < 4; k++) t[k] = (int)tb_rd32(r + 44 + 4 * k);
        rt *x = &v[in0], *y = &v[i + 1];
        int H = x->h, W = x->w, C = x->c;
        if (type == ECW_OP_CONV2D || type == ECW_OP_DWCONV) {
            int oh, ow;
            if (flags & ECW_OPF_PAD_SAME) {
                oh = (H + sh - 1) / sh; ow = (W + sw - 1) / sw;
                int th = (oh - 1) * sh + kh - H, tw = (ow - 1) * sw + kw - W;
                pt = th > 0 ? th / 2 : 0; pl = tw > 0 ? tw / 2 : 0;
            } else {
                oh = (H + pt + pb - kh) / sh + 1; ow = (W + pl + pr - kw) / sw + 1;
            }
            y->h = oh; y->w = ow; y->c = cout;
            y->d = calloc((size_t)oh * ow * cout, sizeof(double));
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int co = 0; co < cout; co++) {
                        double s = t[1] >= 0 ? tval(&M, t[1], (size_t)co) : 0;
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy * sh - pt + ky, ix = ox * sw - pl + kx;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                if (type == ECW_OP_DWCONV)
                                    s += x->d[((size_t)iy * W + ix) * C + co] * tval(&M, t[0], ((size_t)ky * kw + kx) * C + co);
                                else
                                    for (int ci = 0; ci < C; ci++)
                                        s += x->d[((size_t)iy * W + ix) * C + ci] *
                                             tval(&M, t[0], (((size_t)co * kh + ky) * kw + kx) * C + ci);
                            }
                        y->d[((size_t)oy * ow + ox) * cout + co] = s;
                    }
        } else if (type == ECW_OP_PWCONV || type == ECW_OP_DENSE) {
            y->h = H; y->w = W; y->c = cout;
            y->d = calloc((size_t)H * W * cout, sizeof(double));
            for (int p = 0; p < H * W; p++)
                for (int co = 0; co < cout; co++) {
                    double s = t[1] >= 0 ? tval(&M, t[1], (size_t)co) : 0;
                    for (int ci = 0; ci < C; ci++) s += x->d[(size_t)p * C + ci] * tval(&M, t[0], (size_t)co * C + ci);
                    y->d[(size_t)p * cout + co] = s;
                }
        } else if (type == ECW_OP_SE) {
            y->h = H; y->w = W; y->c = C;
            y->d = malloc(sizeof(double) * (size_t)H * W * C);
            double *s = calloc((size_t)C, sizeof(double)), *z = calloc((size_t)cmid, sizeof(double));
            for (int p = 0; p < H * W; p++)
                for (int c = 0; c < C; c++) s[c] += x->d[(size_t)p * C + c] / (H * W);
            for (int j = 0; j < cmid; j++) {
                double q = tval(&M, t[1], (size_t)j);
                for (int c = 0; c < C; c++) q += tval(&M, t[0], (size_t)j * C + c) * s[c];
                z[j] = act(a, q);
            }
            for (int c = 0; c < C; c++) {
                double q = tval(&M, t[3], (size_t)c);
                for (int j = 0; j < cmid; j++) q += tval(&M, t[2], (size_t)c * cmid + j) * z[j];
                s[c] = act(a2, q);
            }
            for (int p = 0; p < H * W; p++)
                for (int c = 0; c < C; c++) y->d[(size_t)p * C + c] = x->d[(size_t)p * C + c] * s[c];
            free(s); free(z);
            a = 0; /* se's act is the squeeze activation, not applied to the output */
        } else if (type == ECW_OP_ADD) {
            *y = *x;
            y->d = malloc(sizeof(double) * (size_t)H * W * C);
            for (size_t k = 0; k < (size_t)H * W * C; k++) y->d[k] = x->d[k] + v[in1].d[k];
        } else if (type == ECW_OP_GAP) {
            y->h = 1; y->w = 1; y->c = C;
            y->d = calloc((size_t)C, sizeof(double));
            for (int p = 0; p < H * W; p++)
                for (int c = 0; c < C; c++) y->d[c] += x->d[(size_t)p * C + c] / (H * W);
        } else { /* act */
            *y = *x;
            y->d = malloc(sizeof(double) * (size_t)H * W * C);
            memcpy(y->d, x->d, sizeof(double) * (size_t)H * W * C);
        }
        size_t ny = (size_t)y->h * y->w * y->c;
        if (pv == i + 1 && pk == ECW_TAP_PREACT) y->d[pert_idx] += delta;
        if (pv == i + 1 && pk == ECW_TAP_PRE_BN) y->d[pert_idx] += delta * tval(&M, pst, pert_idx % (size_t)y->c);
        pre[i + 1] = malloc(sizeof(double) * ny);
        memcpy(pre[i + 1], y->d, sizeof(double) * ny);
        for (size_t k = 0; k < ny; k++) y->d[k] = act(a, y->d[k]);
        if (pv == i + 1 && pk == ECW_TAP_OUTPUT) y->d[pert_idx] += delta;
    }
    for (int c = 0; c < v[n].c; c++) {
        if (logits) logits[c] = (float)v[n].d[c];
        if (logits_d) logits_d[c] = v[n].d[c];
    }
    int rc = 0;
    if (tap_name) {
        rc = -1;
        uint64_t taps_off = tb_rd64(f + ECWH_TAPS_OFF);
        for (uint32_t i = 0; i < tb_rd32(f + ECWH_N_TAPS); i++) {
            const uint8_t *r = f + taps_off + 32ull * i;
            if (strcmp((const char *)f + s_off + tb_rd32(r), tap_name) != 0) continue;
            int val = (int)tb_rd32(r + 4), kind = (int)tb_rd32(r + 8), st = (int)tb_rd32(r + 12), sf = (int)tb_rd32(r + 16);
            rt *x = &v[val];
            size_t nn = (size_t)x->h * x->w * x->c;
            *tap_out = malloc(sizeof(float) * nn);
            *tap_h = x->h; *tap_w = x->w; *tap_c = x->c;
            for (size_t k = 0; k < nn; k++) {
                double q = kind == ECW_TAP_OUTPUT ? x->d[k] : pre[val][k];
                if (kind == ECW_TAP_PRE_BN) q = (q - tval(&M, sf, k % (size_t)x->c)) / tval(&M, st, k % (size_t)x->c);
                (*tap_out)[k] = (float)q;
            }
            rc = 0;
            break;
        }
    }
    for (int i = 0; i <= n; i++) { free(v[i].d); free(pre[i]); }
    free(v); free(pre);
    return rc;
}
