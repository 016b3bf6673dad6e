/* Grad-CAM end to end on a C-built model (SE, residual adds, fused
 * activations, a dense head with an activation, pre-BN and pre-activation
 * taps) against gradients from central finite differences of an independent
 * double-precision interpreter: the backward engine is checked without any
 * of its own code. Every method's map is then checked against a second,
 * in-test implementation of the published formula from the same (A, G). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ecw_build.h"
#include "effcam.h"
#include "ref_model.h"
#include "test_util.h"

#define NCLS 6

static double score(const double *lg, int cls, int target) {
    if (target == EFFCAM_TARGET_LOGIT) return lg[cls];
    double mx = lg[0], s = 0;
    for (int c = 1; c < NCLS; c++) mx = lg[c] > mx ? lg[c] : mx;
    for (int c = 0; c < NCLS; c++) s += exp(lg[c] - mx);
    return exp(lg[cls] - mx) / s;
}

/* raw maps of every method from double A, G (the published formulas) */
static void ref_method(int method, const double *A, const double *G, int hw, int k, double *raw) {
    for (int p = 0; p < hw; p++) raw[p] = 0;
    for (int c = 0; c < k; c++) {
        double sg = 0, sa = 0, sga = 0, w = 0;
        for (int p = 0; p < hw; p++) { sg += G[p * k + c]; sa += A[p * k + c]; sga += G[p * k + c] * A[p * k + c]; }
        switch (method) {
        case EFFCAM_CAM_GRADCAM: w = sg / hw; break;
        case EFFCAM_CAM_XGRADCAM: w = sga / (sa + 1e-7); break;
        case EFFCAM_CAM_GRADCAMPP:
            for (int p = 0; p < hw; p++) {
                double g = G[p * k + c], g2 = g * g, g3 = g2 * g;
                double al = g == 0 ? 0 : g2 / (2 * g2 + sa * g3 + 1e-6);
                w += al * (g > 0 ? g : 0);
            }
            break;
        default: break;
        }
        for (int p = 0; p < hw; p++) {
            double a = A[p * k + c], g = G[p * k + c];
            if (method == EFFCAM_CAM_HIRESCAM) raw[p] += g * a;
            else if (method == EFFCAM_CAM_LAYERCAM) raw[p] += (g > 0 ? g : 0) * a;
            else raw[p] += w * a;
        }
    }
}

static double rel_l2d(const float *a, const double *b, int n) {
    double num = 0, den = 0;
    for (int i = 0; i < n; i++) { num += (a[i] - b[i]) * (a[i] - b[i]); den += b[i] * b[i]; }
    return sqrt(num) / (den > 0 ? sqrt(den) : 1e-300);
}

static void check_tap(const uint8_t *file, size_t size, const char *tap, int h, int w, int target, int cls_req) {
    tu_rng r;
    tu_seed(&r, (uint64_t)h * 31 + (uint64_t)w + (uint64_t)target * 7 + strlen(tap));
    float *x = malloc(sizeof(float) * (size_t)h * w * 3);
    tu_fill(&r, x, (size_t)h * w * 3, 0, 255);
    /* reference A and G */
    float lgf[NCLS], *Af = NULL;
    int th, tw, tc;
    assert_int_equal(ref_model_run(file, h, w, x, lgf, tap, &Af, &th, &tw, &tc), 0);
    int cls = cls_req;
    if (cls < 0) { cls = 0; for (int c = 1; c < NCLS; c++) if (lgf[c] > lgf[cls]) cls = c; }
    int hw = th * tw, k = tc, n = hw * k;
    double *A = malloc(sizeof(double) * n), *G = malloc(sizeof(double) * n);
    for (int i = 0; i < n; i++) A[i] = Af[i];
    for (int i = 0; i < n; i++) {
        double lp[NCLS], lm[NCLS], eps = 1e-6; /* double precision: tiny steps rarely straddle a ReLU kink */
        ref_model_run_perturbed(file, h, w, x, lp, tap, (size_t)i, eps);
        ref_model_run_perturbed(file, h, w, x, lm, tap, (size_t)i, -eps);
        G[i] = (score(lp, cls, target) - score(lm, cls, target)) / (2 * eps);
    }
    for (int method = EFFCAM_CAM_GRADCAM; method <= EFFCAM_CAM_LAYERCAM; method++) {
        effcam_spec spec = {.height = h, .width = w, .mode = EFFCAM_MODE_GRADCAM, .layer = tap, .method = method};
        effcam_model *m;
        effcam_ctx *ctx;
        effcam_error err;
        effcam_status st = effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, &err);
        if (st) fail_msg("load %s: %s", tap, err.message);
        assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
        effcam_cam_opts o = {.class_index = cls_req, .target = target};
        const float *raw;
        int rh, rw;
        assert_int_equal(effcam_gradcam(ctx, &o, &raw, &rh, &rw), EFFCAM_OK);
        assert_int_equal(rh, th);
        assert_int_equal(rw, tw);
        double *rr = malloc(sizeof(double) * hw);
        ref_method(method, A, G, hw, k, rr);
        double e = rel_l2d(raw, rr, hw);
        fprintf(stderr, "  %-9s %dx%d target %-5s method %d: raw CAM rel L2 %.2e\n", tap, h, w,
                target ? "prob" : "logit", method, e);
        assert_true(e <= 1e-3);
        /* rendering: pytorch-grad-cam path is in [0, 1] with a 1 at its max */
        float *img = malloc(sizeof(float) * 40 * 30);
        assert_int_equal(effcam_cam_render(ctx, EFFCAM_POST_GRADCAM_LIB, img, 40, 30), EFFCAM_OK);
        float mx = 0;
        for (int i = 0; i < 1200; i++) { assert_true(img[i] >= 0 && img[i] <= 1.0f); mx = img[i] > mx ? img[i] : mx; }
        free(img);
        /* the workspace high-water mark equals the Grad-CAM plan */
        effcam_plan p;
        assert_int_equal(effcam_plan_memory(file, size, &spec, 0, &p, NULL), EFFCAM_OK);
        assert_int_equal(effcam_workspace_high_water(ctx), p.workspace_bytes);
        free(rr);
        effcam_free(m);
    }
    free(A); free(G); free(Af); free(x);
}

static void test_gradcam_vs_finite_differences(void **state) {
    (void)state;
    uint8_t *file;
    size_t size;
    tb_build_tiny(99, 32, 32, NCLS, &file, &size);
    /* b1_se: the SE output as the layer (kept, not folded into b1_project) */
    /* b1_project: the projection's output (kept, the residual add not
     * folded into it); block1 is the add's output, written by b1_project
     * with the add folded in */
    const char *taps[] = {"top", "top_bn", "top_conv", "block1", "b1_se", "stem", "b1_project"};
    for (int t = 0; t < 7; t++) {
        check_tap(file, size, taps[t], 20, 18, EFFCAM_TARGET_LOGIT, -1);
        check_tap(file, size, taps[t], 13, 21, EFFCAM_TARGET_PROB, -1);
    }
    check_tap(file, size, "top", 16, 16, EFFCAM_TARGET_LOGIT, 2);
    free(file);
}

/* The same finite-difference checks on the model with f32 weights and with
 * mixed f16 / f32 weights (the backward kernels read f32 weights in place). */
static void test_gradcam_f32_and_mixed_weights(void **state) {
    (void)state;
    for (int weights = TB_WEIGHTS_F32; weights <= TB_WEIGHTS_MIXED; weights++) {
        uint8_t *file;
        size_t size;
        tb_build_tiny_weights(99, 32, 32, NCLS, weights, &file, &size);
        fprintf(stderr, " weights %s:\n", weights == TB_WEIGHTS_F32 ? "f32" : "mixed f16/f32");
        const char *taps[] = {"top_conv", "block1", "stem"};
        for (int t = 0; t < 3; t++) {
            check_tap(file, size, taps[t], 20, 18, EFFCAM_TARGET_LOGIT, -1);
            check_tap(file, size, taps[t], 13, 21, EFFCAM_TARGET_PROB, -1);
        }
        free(file);
    }
}

static void test_gradcam_errors(void **state) {
    (void)state;
    uint8_t *file;
    size_t size;
    tb_build_tiny(5, 32, 32, NCLS, &file, &size);
    effcam_model *m;
    effcam_ctx *ctx;
    /* predict workspace: gradcam refused */
    assert_int_equal(effcam_load_memory(file, size, NULL, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    assert_int_equal(effcam_gradcam(ctx, NULL, NULL, NULL, NULL), EFFCAM_E_MODE);
    effcam_free(m);
    /* default layer (the model's default tap) */
    effcam_spec spec = {.mode = EFFCAM_MODE_GRADCAM};
    assert_int_equal(effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    assert_int_equal(effcam_gradcam(ctx, NULL, NULL, NULL, NULL), EFFCAM_E_STATE); /* before predict */
    float *img = calloc(32 * 32 * 3, sizeof(float));
    assert_int_equal(effcam_predict_f32(ctx, img, 32, 32, 0), EFFCAM_OK);
    float out[4];
    assert_int_equal(effcam_cam_render(ctx, EFFCAM_POST_DIVMAX, out, 2, 2), EFFCAM_E_STATE);
    effcam_cam_opts o = {.class_index = NCLS};
    assert_int_equal(effcam_gradcam(ctx, &o, NULL, NULL, NULL), EFFCAM_E_ARG);
    assert_int_equal(effcam_gradcam(ctx, NULL, NULL, NULL, NULL), EFFCAM_OK);
    assert_int_equal(effcam_cam_render(ctx, EFFCAM_POST_DIVMAX, out, 2, 2), EFFCAM_OK);
    free(img);
    effcam_free(m);
    free(file);
}

/* Eigen-CAM and Score-CAM end to end: the engine's forward passes and
 * buffers, against an in-test computation from the independent
 * interpreter (power iteration in double; masked inputs fed back through
 * the interpreter). */
static void bilinear_ac(const double *src, int h, int w, int k, int ch, double *dst, int H, int W) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double fy = H > 1 ? (double)y * (h - 1) / (H - 1) : 0, fx = W > 1 ? (double)x * (w - 1) / (W - 1) : 0;
            int y0 = (int)fy, x0 = (int)fx, y1 = y0 + 1 < h ? y0 + 1 : h - 1, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            double wy = fy - y0, wx = fx - x0;
            double a = src[((size_t)y0 * w + x0) * k + ch], b = src[((size_t)y0 * w + x1) * k + ch];
            double c = src[((size_t)y1 * w + x0) * k + ch], d = src[((size_t)y1 * w + x1) * k + ch];
            dst[(size_t)y * W + x] = (a + (b - a) * wx) * (1 - wy) + (c + (d - c) * wx) * wy;
        }
}

static void test_eigencam_scorecam(void **state) {
    (void)state;
    uint8_t *file;
    size_t size;
    tb_build_tiny(77, 32, 32, NCLS, &file, &size);
    const int h = 24, w = 20;
    float *x = malloc(sizeof(float) * h * w * 3);
    tu_rng r;
    tu_seed(&r, 3);
    tu_fill(&r, x, (size_t)h * w * 3, 0, 255);
    float lgf[NCLS], *Af;
    int th, tw, k;
    assert_int_equal(ref_model_run(file, h, w, x, lgf, "top", &Af, &th, &tw, &k), 0);
    int hw = th * tw, cls = 0;
    for (int c = 1; c < NCLS; c++) if (lgf[c] > lgf[cls]) cls = c;
    double *A = malloc(sizeof(double) * hw * k);
    for (int i = 0; i < hw * k; i++) A[i] = Af[i];
    /* Eigen-CAM: X = A - mean_p A; v = top right singular vector; raw = X v */
    double *X = malloc(sizeof(double) * hw * k), *mean = calloc(k, sizeof(double)), *v = malloc(sizeof(double) * k);
    for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) mean[c] += A[p * k + c] / hw;
    for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) X[p * k + c] = A[p * k + c] - mean[c];
    for (int c = 0; c < k; c++) v[c] = 1.0 + 0.01 * c;
    for (int it = 0; it < 2000; it++) {
        double *u = calloc(hw, sizeof(double)), *nv = calloc(k, sizeof(double)), nn = 0;
        for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) u[p] += X[p * k + c] * v[c];
        for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) nv[c] += X[p * k + c] * u[p];
        for (int c = 0; c < k; c++) nn += nv[c] * nv[c];
        for (int c = 0; c < k; c++) v[c] = nv[c] / sqrt(nn);
        free(u); free(nv);
    }
    double dot = 0;
    for (int c = 0; c < k; c++) dot += v[c] * mean[c];
    double *eig = calloc(hw, sizeof(double));
    for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) eig[p] += X[p * k + c] * v[c] * (dot < 0 ? -1 : 1);
    /* Score-CAM: per channel, the masked preprocessed input through the interpreter */
    double *mask = malloc(sizeof(double) * h * w), *sc = malloc(sizeof(double) * k), *score = calloc(hw, sizeof(double));
    float *xm = malloc(sizeof(float) * h * w * 3);
    for (int ch = 0; ch < k; ch++) {
        bilinear_ac(A, th, tw, k, ch, mask, h, w);
        double lo = 1e300, hi = -1e300;
        for (int i = 0; i < h * w; i++) { lo = mask[i] < lo ? mask[i] : lo; hi = mask[i] > hi ? mask[i] : hi; }
        for (int i = 0; i < h * w; i++)
            for (int c = 0; c < 3; c++) {
                double mm = (mask[i] - lo) / (hi - lo + 1e-8);
                double pre = x[i * 3 + c] / 127.5 - 1.0; /* tb_build_tiny's preprocessing */
                xm[i * 3 + c] = (float)((pre * mm + 1.0) * 127.5);
            }
        float lg[NCLS];
        ref_model_run(file, h, w, xm, lg, NULL, NULL, NULL, NULL, NULL);
        sc[ch] = lg[cls];
    }
    double mx = sc[0], se = 0;
    for (int c = 1; c < k; c++) mx = sc[c] > mx ? sc[c] : mx;
    for (int c = 0; c < k; c++) se += exp(sc[c] - mx);
    for (int p = 0; p < hw; p++) for (int c = 0; c < k; c++) score[p] += exp(sc[c] - mx) / se * A[p * k + c];
    const int methods[2] = {EFFCAM_CAM_EIGENCAM, EFFCAM_CAM_SCORECAM};
    const double *refs[2] = {eig, score};
    for (int q = 0; q < 2; q++) {
        effcam_spec spec = {.height = h, .width = w, .mode = EFFCAM_MODE_GRADCAM, .layer = "top", .method = methods[q]};
        effcam_model *m;
        effcam_ctx *ctx;
        assert_int_equal(effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
        float keep[NCLS];
        memcpy(keep, effcam_logits(ctx), sizeof keep);
        const float *raw;
        int rh, rw;
        assert_int_equal(effcam_gradcam(ctx, NULL, &raw, &rh, &rw), EFFCAM_OK);
        double e = rel_l2d(raw, refs[q], hw);
        fprintf(stderr, "  %s: raw CAM rel L2 %.2e\n", q ? "Score-CAM" : "Eigen-CAM", e);
        assert_true(e <= 1e-5); /* measured ~1e-7; a clobbered input once gave 9.8e-4 */
        /* the prediction's results survive the extra passes */
        assert_memory_equal(keep, effcam_logits(ctx), sizeof keep);
        effcam_plan p;
        assert_int_equal(effcam_plan_memory(file, size, &spec, 0, &p, NULL), EFFCAM_OK);
        assert_int_equal(effcam_workspace_high_water(ctx), p.workspace_bytes);
        effcam_free(m);
    }
    free(A); free(X); free(mean); free(v); free(eig); free(mask); free(sc); free(score); free(xm); free(Af); free(x);
    free(file);
}

/* Test-time smoothing. The reference, written here in double precision:
 * each pass's input is the image mirrored and/or zoomed about its centre
 * (bilinear, half-pixel centres, edges replicated), explained by a plain
 * (unsmoothed) workspace; its map is sampled back at the view coordinate
 * q = 0.5 + (p - 0.5) s (mirrored: 1 - q) and averaged over the passes whose
 * view contains the cell. The smoothed workspace must give the same map,
 * within its plan, twice in a row (the prediction's buffers are restored). */
static double bil(const float *src, int h, int w, int c, int k, double sy, double sx) {
    sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
    sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
    int y0 = (int)floor(sy), x0 = (int)floor(sx);
    int y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
    double fy = sy - y0, fx = sx - x0;
    return (1 - fy) * ((1 - fx) * src[(y0 * w + x0) * c + k] + fx * src[(y0 * w + x1) * c + k]) +
           fy * ((1 - fx) * src[(y1 * w + x0) * c + k] + fx * src[(y1 * w + x1) * c + k]);
}

static void test_smoothing(void **state) {
    (void)state;
    uint8_t *file;
    size_t size;
    tb_build_tiny(31, 32, 32, NCLS, &file, &size);
    const int h = 26, w = 22;
    float *x = malloc(sizeof(float) * h * w * 3), *xt = malloc(sizeof(float) * h * w * 3);
    tu_rng r;
    tu_seed(&r, 8);
    tu_fill(&r, x, (size_t)h * w * 3, 0, 255);
    const unsigned flag_sets[3] = {EFFCAM_CAM_SMOOTH_FLIP, EFFCAM_CAM_SMOOTH_SCALE,
                                   EFFCAM_CAM_SMOOTH_FLIP | EFFCAM_CAM_SMOOTH_SCALE};
    const int methods[3] = {EFFCAM_CAM_GRADCAM, EFFCAM_CAM_LAYERCAM, EFFCAM_CAM_EIGENCAM};
    const char *layers[2] = {"block1", "top"};
    for (int fi = 0; fi < 3; fi++)
        for (int mi = 0; mi < 3; mi++)
            for (int target = 0; target < 2; target++) {
                const unsigned flags = flag_sets[fi];
                effcam_spec plain = {.height = h, .width = w, .mode = EFFCAM_MODE_GRADCAM,
                                     .layer = layers[(fi + mi + target) & 1], .method = methods[mi]};
                effcam_spec smooth = plain;
                smooth.cam_flags = flags;
                effcam_model *m1, *m2;
                effcam_ctx *c1, *c2;
                assert_int_equal(effcam_load_memory(file, size, &plain, 0, NULL, 0, &m1, &c1, NULL), EFFCAM_OK);
                assert_int_equal(effcam_load_memory(file, size, &smooth, 0, NULL, 0, &m2, &c2, NULL), EFFCAM_OK);
                assert_int_equal(effcam_predict_f32(c1, x, h, w, 0), EFFCAM_OK);
                int cls;
                effcam_top_k(c1, 1, &cls, NULL);
                effcam_cam_opts o = {.class_index = cls, .target = (effcam_cam_target)target};
                const float *r1;
                int fh, fw;
                assert_int_equal(effcam_gradcam(c1, &o, &r1, &fh, &fw), EFFCAM_OK);
                double *acc = calloc((size_t)fh * fw, sizeof(double));
                int *cnt = calloc((size_t)fh * fw, sizeof(int));
                const double scales[3] = {1.0, 0.9, 1.1};
                int nflip = (flags & EFFCAM_CAM_SMOOTH_FLIP) ? 2 : 1, nsc = (flags & EFFCAM_CAM_SMOOTH_SCALE) ? 3 : 1;
                for (int fl = 0; fl < nflip; fl++)
                    for (int si = 0; si < nsc; si++) {
                        double s = scales[si];
                        for (int y = 0; y < h; y++)
                            for (int q = 0; q < w; q++) {
                                int qs = fl ? w - 1 - q : q;
                                double sy = (0.5 + ((y + 0.5) / h - 0.5) / s) * h - 0.5;
                                double sx = (0.5 + ((qs + 0.5) / w - 0.5) / s) * w - 0.5;
                                for (int c = 0; c < 3; c++) xt[(y * w + q) * 3 + c] = (float)bil(x, h, w, 3, c, sy, sx);
                            }
                        assert_int_equal(effcam_predict_f32(c1, xt, h, w, 0), EFFCAM_OK);
                        assert_int_equal(effcam_gradcam(c1, &o, &r1, &fh, &fw), EFFCAM_OK);
                        for (int y = 0; y < fh; y++)
                            for (int q = 0; q < fw; q++) {
                                double vy = 0.5 + ((y + 0.5) / fh - 0.5) * s, vx = 0.5 + ((q + 0.5) / fw - 0.5) * s;
                                if (vy < 0 || vy > 1 || vx < 0 || vx > 1) continue;
                                if (fl) vx = 1 - vx;
                                acc[y * fw + q] += bil(r1, fh, fw, 1, 0, vy * fh - 0.5, vx * fw - 0.5);
                                cnt[y * fw + q]++;
                            }
                    }
                float *ref = malloc(sizeof(float) * fh * fw);
                for (int i = 0; i < fh * fw; i++) {
                    assert_true(cnt[i] >= 1);
                    ref[i] = (float)(acc[i] / cnt[i]);
                }
                assert_int_equal(effcam_predict_f32(c2, x, h, w, 0), EFFCAM_OK);
                float keep[NCLS];
                memcpy(keep, effcam_probs(c2), sizeof keep);
                const float *rs;
                for (int call = 0; call < 2; call++) {
                    assert_int_equal(effcam_gradcam(c2, &o, &rs, &fh, &fw), EFFCAM_OK);
                    double e = tu_rel_l2(rs, ref, (size_t)fh * fw);
                    if (e > 1e-5 || call == 0)
                        printf("smoothing flags %u method %d target %d layer %s (%dx%d) call %d: rel L2 %.2e\n",
                               flags, methods[mi], target, plain.layer, fh, fw, call, e);
                    assert_true(e <= 1e-5);
                }
                assert_memory_equal(keep, effcam_probs(c2), sizeof keep);
                effcam_plan p;
                assert_int_equal(effcam_plan_memory(file, size, &smooth, 0, &p, NULL), EFFCAM_OK);
                assert_int_equal(effcam_workspace_high_water(c2), p.workspace_bytes);
                free(acc); free(cnt); free(ref);
                effcam_free(m1); effcam_free(m2);
            }
    effcam_spec bad = {.mode = EFFCAM_MODE_GRADCAM, .method = EFFCAM_CAM_SCORECAM, .cam_flags = EFFCAM_CAM_SMOOTH_FLIP};
    effcam_plan p;
    assert_int_equal(effcam_plan_memory(file, size, &bad, 0, &p, NULL), EFFCAM_E_UNSUPPORTED);
    bad.method = EFFCAM_CAM_GRADCAM;
    bad.cam_flags = 4u; /* unknown flag */
    assert_int_equal(effcam_plan_memory(file, size, &bad, 0, &p, NULL), EFFCAM_E_ARG);
    free(x); free(xt); free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradcam_vs_finite_differences),
        cmocka_unit_test(test_gradcam_f32_and_mixed_weights),
        cmocka_unit_test(test_gradcam_errors),
        cmocka_unit_test(test_eigencam_scorecam),
        cmocka_unit_test(test_smoothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
