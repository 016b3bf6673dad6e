/* Depthwise convolution: forward vs the naive double reference on many
 * shapes / paddings / activations, and the backward kernel vs central finite
 * differences of the real forward kernel (plus an exact adjoint identity).
 * Every check runs with fp16 weights and again with fp32 weights (g_wdt). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ecw_format.h"
#include "effcam.h"
#include "ops/ops.h"
#include "ref_misc.h"
#include "test_util.h"

enum { PAD_SAME = 0, PAD_VALID, PAD_SYM, PAD_RANDOM, PAD_MODES };

static int g_wdt = EC_WDT_F16; /* weight dtype of the cases made now */

/* Fills the spatial part of d along one axis; returns 0 if impossible. */
static int axis(int n, int k, int s, int mode, tu_rng *r, int *pad, int *on) {
    int lo, hi;
    switch (mode) {
    case PAD_SAME: { /* TF "same": the bottom / right side gets the extra */
        int o = (n + s - 1) / s;
        int tot = (o - 1) * s + k - n;
        if (tot < 0) tot = 0;
        *pad = tot / 2;
        *on = o;
        return 1;
    }
    case PAD_VALID:
        if (n < k) return 0;
        *pad = 0;
        *on = (n - k) / s + 1;
        return 1;
    case PAD_SYM:
        *pad = k / 2;
        if (n + 2 * (k / 2) < k) return 0;
        *on = (n + 2 * (k / 2) - k) / s + 1;
        return 1;
    default:
        lo = tu_int(r, 0, k); /* may exceed k-1: rows with no valid taps */
        hi = tu_int(r, 0, k);
        if (n + lo + hi < k) hi = k - n - lo;
        *pad = lo;
        *on = (n + lo + hi - k) / s + 1;
        return 1;
    }
}

static int make_dims(ec_conv_dims *d, int h, int w, int c, int kh, int kw, int sh,
                     int sw, int mode, int act, tu_rng *r) {
    memset(d, 0, sizeof *d);
    d->h = h; d->w = w; d->cin = d->cout = c;
    d->kh = kh; d->kw = kw; d->sh = sh; d->sw = sw; d->act = act;
    d->wdt = g_wdt;
    return axis(h, kh, sh, mode, r, &d->pt, &d->oh) && axis(w, kw, sw, mode, r, &d->pl, &d->ow);
}

static float *falloc(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static void nan_fill(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

/* One forward comparison; returns the worst relative L2 (out, preact). */
static void forward_case(const ec_conv_dims *d, tu_rng *r, int with_bias) {
    const size_t nin = (size_t)d->h * d->w * d->cin;
    const size_t nout = (size_t)d->oh * d->ow * d->cout;
    const size_t nw = (size_t)d->kh * d->kw * d->cin;
    float *x = falloc(nin), *b = falloc((size_t)d->cout);
    tu_fill(r, x, nin, -2.0f, 2.0f);
    void *w = tu_weights(r, d->wdt, nw, -1.0f, 1.0f);
    tu_fill(r, b, (size_t)d->cout, -0.5f, 0.5f);
    const float *bias = with_bias ? b : NULL;

    size_t ns = ec_dwconv_scratch_floats(d);
    assert_true(ns == (d->wdt == EC_WDT_F32 ? 0 : nw));
    float *scratch = falloc(ns);
    float *out = falloc(nout), *pre = falloc(nout), *out2 = falloc(nout);
    float *rout = falloc(nout), *rpre = falloc(nout);
    nan_fill(out, nout); nan_fill(pre, nout); nan_fill(out2, nout);
    nan_fill(scratch, ns);
    ec_dwconv_forward(out, x, w, bias, d, scratch, pre);
    for (size_t i = 0; i < ns; i++) assert_false(isnan(scratch[i])); /* no unused scratch */
    ec_dwconv_forward(out2, x, w, bias, d, scratch, NULL);
    ref_dwconv_forward(rout, rpre, x, w, bias, d);

    double e_out = tu_rel_l2(out, rout, nout);
    double e_pre = tu_rel_l2(pre, rpre, nout);
    double e_same = tu_max_abs_diff(out2, out, nout);
    if (!(e_out <= 1e-5 && e_pre <= 1e-5 && e_same == 0.0))
        print_message("dwconv fwd h=%d w=%d c=%d k=%dx%d s=%dx%d pad=%d,%d out=%dx%d act=%d "
                      "bias=%d wdt=%d: out %.3g pre %.3g noprea %.3g\n",
                      d->h, d->w, d->cin, d->kh, d->kw, d->sh, d->sw, d->pt, d->pl,
                      d->oh, d->ow, d->act, with_bias, d->wdt, e_out, e_pre, e_same);
    assert_true(e_out <= 1e-5);
    assert_true(e_pre <= 1e-5);
    assert_true(e_same == 0.0);
    free(x); free(b); free(w); free(scratch); free(out); free(pre); free(out2);
    free(rout); free(rpre);
}

static void test_forward_grid(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 101);
    static const int shapes[][2] = {{1, 1}, {7, 5}, {13, 29}, {2, 3}, {4, 4}};
    static const int chans[] = {24, 96, 1, 3, 17};
    static const int ks[][2] = {{3, 3}, {5, 5}, {3, 5}, {5, 3}, {1, 1}, {7, 7}};
    int n = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
            for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                for (int s = 1; s <= 2; s++)
                    for (int mode = 0; mode < PAD_MODES; mode++) {
                        ec_conv_dims d;
                        int act = n % ECW_ACT_COUNT;
                        if (!make_dims(&d, shapes[si][0], shapes[si][1], chans[ci], ks[ki][0],
                                       ks[ki][1], s, s, mode, act, &r))
                            continue;
                        forward_case(&d, &r, n % 5 != 4);
                        n++;
                    }
    assert_true(n > 500);
}

static void test_forward_large(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 202);
    static const int chans[] = {24, 96};
    int n = 0;
    for (int ci = 0; ci < 2; ci++)
        for (int k = 3; k <= 5; k += 2)
            for (int s = 1; s <= 2; s++) {
                ec_conv_dims d;
                assert_true(make_dims(&d, 75, 75, chans[ci], k, k, s, s, PAD_SAME,
                                      (n * 3 + 1) % ECW_ACT_COUNT, &r));
                forward_case(&d, &r, 1);
                n++;
            }
    /* EfficientNet-B0-like stage shapes */
    ec_conv_dims d;
    assert_true(make_dims(&d, 112, 112, 32, 3, 3, 1, 1, PAD_SAME, ECW_ACT_SILU, &r));
    forward_case(&d, &r, 1);
    assert_true(make_dims(&d, 14, 14, 672, 5, 5, 2, 2, PAD_SAME, ECW_ACT_SILU, &r));
    forward_case(&d, &r, 1);
}

static void test_forward_every_act(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 303);
    for (int act = 0; act < ECW_ACT_COUNT; act++)
        for (int s = 1; s <= 2; s++) {
            ec_conv_dims d;
            assert_true(make_dims(&d, 13, 29, 24, 3, 3, s, s, PAD_SAME, act, &r));
            forward_case(&d, &r, 1);
            assert_true(make_dims(&d, 7, 5, 96, 5, 5, s, s, PAD_SAME, act, &r));
            forward_case(&d, &r, 1);
        }
}

static void test_forward_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 404);
    for (int i = 0; i < 300; i++) {
        ec_conv_dims d;
        int kh = tu_int(&r, 1, 15), kw = tu_int(&r, 1, 15);
        if (i % 3) { kh = tu_int(&r, 1, 7); kw = tu_int(&r, 1, 7); }
        int ok = make_dims(&d, tu_int(&r, 1, 24), tu_int(&r, 1, 24), tu_int(&r, 1, 40), kh, kw,
                           tu_int(&r, 1, 4), tu_int(&r, 1, 4), tu_int(&r, 0, PAD_MODES - 1),
                           tu_int(&r, 0, ECW_ACT_COUNT - 1), &r);
        if (!ok) continue;
        forward_case(&d, &r, tu_int(&r, 0, 3) != 0);
    }
}

/* <r, conv(x)> == <conv^T(r), x> with zero bias: exact adjoint identity,
 * checked on every element at once (large shapes, stride 2). */
static void adjoint_case(const ec_conv_dims *d0, tu_rng *r) {
    ec_conv_dims d = *d0;
    d.act = ECW_ACT_NONE;
    const size_t nin = (size_t)d.h * d.w * d.cin;
    const size_t nout = (size_t)d.oh * d.ow * d.cout;
    const size_t nw = (size_t)d.kh * d.kw * d.cin;
    float *x = falloc(nin), *dy = falloc(nout), *y = falloc(nout), *dx = falloc(nin);
    tu_fill(r, x, nin, -1.0f, 1.0f);
    tu_fill(r, dy, nout, -1.0f, 1.0f);
    void *w = tu_weights(r, d.wdt, nw, -1.0f, 1.0f);
    float *s1 = falloc(ec_dwconv_scratch_floats(&d));
    size_t nb = ec_dwconv_backward_scratch_floats(&d);
    float *s2 = falloc(nb);
    ec_dwconv_forward(y, x, w, NULL, &d, s1, NULL);
    nan_fill(dx, nin);
    nan_fill(s2, nb);
    ec_dwconv_backward(dx, dy, w, &d, s2);
    for (size_t i = 0; i < nb; i++) assert_false(isnan(s2[i])); /* no unused scratch */
    for (size_t i = 0; i < nin; i++) assert_false(isnan(dx[i]));  /* every input written */
    double a = 0, b = 0, na = 0;
    for (size_t i = 0; i < nout; i++) { a += (double)dy[i] * y[i]; na += fabs((double)dy[i] * y[i]); }
    for (size_t i = 0; i < nin; i++) b += (double)dx[i] * x[i];
    double err = fabs(a - b) / (na > 1e-30 ? na : 1.0);
    if (!(err <= 1e-5))
        print_message("dwconv adjoint h=%d w=%d c=%d k=%dx%d s=%dx%d: %.3g (%g vs %g)\n",
                      d.h, d.w, d.cin, d.kh, d.kw, d.sh, d.sw, err, a, b);
    assert_true(err <= 1e-5);
    free(x); free(dy); free(y); free(dx); free(w); free(s1); free(s2);
}

static void test_backward_adjoint(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 505);
    ec_conv_dims d;
    static const int chans[] = {24, 96};
    for (int ci = 0; ci < 2; ci++)
        for (int k = 3; k <= 5; k += 2)
            for (int s = 1; s <= 2; s++) {
                assert_true(make_dims(&d, 75, 75, chans[ci], k, k, s, s, PAD_SAME, 0, &r));
                adjoint_case(&d, &r);
            }
    for (int i = 0; i < 100; i++) {
        int ok = make_dims(&d, tu_int(&r, 1, 30), tu_int(&r, 1, 30), tu_int(&r, 1, 33),
                           tu_int(&r, 1, 7), tu_int(&r, 1, 7), tu_int(&r, 1, 4), tu_int(&r, 1, 4),
                           tu_int(&r, 0, PAD_MODES - 1), 0, &r);
        if (ok) adjoint_case(&d, &r);
    }
}

/* L(x) = sum(r .* dwconv_forward(x)) (with the fused activation), gradient
 * from ec_act_backward + ec_dwconv_backward, vs central differences of the
 * real forward kernel over all inputs (or a sample of max_checks). */
static void fd_case(const ec_conv_dims *d, tu_rng *r, size_t max_checks) {
    const size_t nin = (size_t)d->h * d->w * d->cin;
    const size_t nout = (size_t)d->oh * d->ow * d->cout;
    const size_t nw = (size_t)d->kh * d->kw * d->cin;
    float *x = falloc(nin), *b = falloc((size_t)d->cout), *rr = falloc(nout);
    float *y = falloc(nout), *pre = falloc(nout), *dpre = falloc(nout), *dx = falloc(nin);
    tu_fill(r, x, nin, -1.0f, 1.0f);
    tu_fill(r, b, (size_t)d->cout, -0.3f, 0.3f);
    tu_fill(r, rr, nout, -1.0f, 1.0f);
    void *w = tu_weights(r, d->wdt, nw, -1.0f, 1.0f);
    float *sf = falloc(ec_dwconv_scratch_floats(d));
    float *sb = falloc(ec_dwconv_backward_scratch_floats(d));

    ec_dwconv_forward(y, x, w, b, d, sf, pre);
    ec_act_backward(dpre, rr, pre, nout, d->act);
    nan_fill(dx, nin);
    ec_dwconv_backward(dx, dpre, w, d, sb);

    size_t nchk = nin < max_checks ? nin : max_checks;
    float *ga = falloc(nchk), *gf = falloc(nchk);
    const float eps = 1e-2f;
    for (size_t k = 0; k < nchk; k++) {
        size_t i = nchk == nin ? k : (size_t)(tu_next(r) % nin);
        if (k < 2 && nchk < nin) i = k ? nin - 1 : 0; /* corners */
        float keep = x[i];
        double l[2];
        for (int sgn = 0; sgn < 2; sgn++) {
            x[i] = keep + (sgn ? -eps : eps);
            ec_dwconv_forward(y, x, w, b, d, sf, NULL);
            double acc = 0;
            for (size_t o = 0; o < nout; o++) acc += (double)rr[o] * y[o];
            l[sgn] = acc;
        }
        x[i] = keep;
        gf[k] = (float)((l[0] - l[1]) / (2.0 * eps));
        ga[k] = dx[i];
    }
    double e = tu_rel_l2(ga, gf, nchk);
    if (!(e <= 2e-3))
        print_message("dwconv FD h=%d w=%d c=%d k=%dx%d s=%dx%d pad=%d,%d act=%d wdt=%d: %.3g\n", d->h,
                      d->w, d->cin, d->kh, d->kw, d->sh, d->sw, d->pt, d->pl, d->act, d->wdt, e);
    assert_true(e <= 2e-3);
    for (size_t i = 0; i < nin; i++) assert_true(isfinite(dx[i]));
    free(x); free(b); free(rr); free(y); free(pre); free(dpre); free(dx); free(w);
    free(sf); free(sb); free(ga); free(gf);
}

static void test_backward_fd(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 606);
    ec_conv_dims d;
    static const int shapes[][3] = {{1, 1, 3}, {7, 5, 4}, {13, 29, 2}, {6, 6, 5}, {5, 8, 24}};
    static const int ks[][2] = {{3, 3}, {5, 5}, {3, 5}, {1, 1}};
    static const int acts[] = {ECW_ACT_NONE, ECW_ACT_SILU, ECW_ACT_SIGMOID};
    int n = 0;
    for (size_t si = 0; si < 5; si++)
        for (size_t ki = 0; ki < 4; ki++)
            for (int s = 1; s <= 2; s++)
                for (int mode = 0; mode < PAD_MODES; mode++) {
                    if (!make_dims(&d, shapes[si][0], shapes[si][1], shapes[si][2], ks[ki][0],
                                   ks[ki][1], s, s, mode, acts[n % 3], &r))
                        continue;
                    fd_case(&d, &r, 160);
                    n++;
                }
    /* a bigger one, sampled */
    assert_true(make_dims(&d, 75, 75, 24, 5, 5, 2, 2, PAD_SAME, ECW_ACT_SILU, &r));
    fd_case(&d, &r, 64);
    assert_true(n > 100);
}

/* ec_dwconv_backward_act (the input's activation backward fused into the
 * rows) == ec_dwconv_backward then ec_act_backward, on both backward paths
 * (stride 1: the flipped forward; stride 2 and large pads: the gather
 * rows), every activation, 1 and 2 threads. */
static void test_backward_act_fused(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 707);
    int n = 0;
    for (int threads = 1; threads <= 2; threads++) {
        effcam_set_threads(threads);
        for (int i = 0; i < 60; i++) {
            ec_conv_dims d;
            if (!make_dims(&d, tu_int(&r, 1, 20), tu_int(&r, 1, 20), tu_int(&r, 1, 40), tu_int(&r, 1, 5),
                           tu_int(&r, 1, 5), tu_int(&r, 1, 2), tu_int(&r, 1, 2), tu_int(&r, 0, PAD_MODES - 1), 0, &r))
                continue;
            const size_t nin = (size_t)d.h * d.w * d.cin, nout = (size_t)d.oh * d.ow * d.cout;
            float *dy = falloc(nout), *pre = falloc(nin), *a = falloc(nin), *b = falloc(nin);
            float *sb = falloc(ec_dwconv_backward_scratch_floats(&d));
            void *w = tu_weights(&r, d.wdt, (size_t)d.kh * d.kw * d.cin, -1.0f, 1.0f);
            tu_fill(&r, dy, nout, -1.0f, 1.0f);
            tu_fill(&r, pre, nin, -3.0f, 3.0f);
            const int act = i % ECW_ACT_COUNT;
            ec_dwconv_backward(a, dy, w, &d, sb);
            ec_act_backward(a, a, pre, nin, act);
            nan_fill(b, nin);
            ec_dwconv_backward_act(b, dy, w, &d, sb, pre, act);
            for (size_t k = 0; k < nin; k++)
                if (!(fabsf(a[k] - b[k]) <= 1e-6f * (1.0f + fabsf(a[k]))))
                    fail_msg("dwconv backward+act %d h=%d w=%d c=%d k=%dx%d s=%dx%d: element %zu %g vs %g", act, d.h,
                             d.w, d.cin, d.kh, d.kw, d.sh, d.sw, k, b[k], a[k]);
            n++;
            free(dy); free(pre); free(a); free(b); free(sb); free(w);
        }
    }
    effcam_set_threads(1);
    assert_true(n > 60);
}

/* The same checks with fp32 weights, used in place (no scratch). */
static void test_f32_weights(void **state) {
    g_wdt = EC_WDT_F32;
    test_forward_grid(state);
    test_forward_large(state);
    test_forward_every_act(state);
    test_forward_random(state);
    test_backward_adjoint(state);
    test_backward_fd(state);
    test_backward_act_fused(state);
    g_wdt = EC_WDT_F16;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_grid),
        cmocka_unit_test(test_forward_large),
        cmocka_unit_test(test_forward_every_act),
        cmocka_unit_test(test_forward_random),
        cmocka_unit_test(test_backward_adjoint),
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_backward_act_fused),
        cmocka_unit_test(test_f32_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
