/* Squeeze-and-excitation: forward (out and every saved section) vs the naive
 * double reference, and the backward kernel vs central finite differences
 * of the real forward kernel, including the pooled branch on its own.
 * Every check runs with fp16 weights, again with fp32 weights, and with one
 * of W1 / W2 in each dtype (g_wdt1, g_wdt2). */
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
#include "ops/ops.h"
#include "ref_misc.h"
#include "test_util.h"

static float *falloc(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}
static int g_wdt1 = EC_WDT_F16, g_wdt2 = EC_WDT_F16; /* W1 / W2 dtypes of the cases made now */
static void nan_fill(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

typedef struct se_data {
    ec_se_dims d;
    size_t n; /* h*w*c */
    float *x, *b1, *b2;
    void *w1, *w2; /* d.wdt1, d.wdt2 */
} se_data;

/* x[p, ch] = base[ch] + noise, so the pooled mean is not ~0 */
static void se_make(se_data *t, int h, int w, int c, int m, int act, int gate, tu_rng *r) {
    memset(t, 0, sizeof *t);
    t->d.h = h; t->d.w = w; t->d.c = c; t->d.cmid = m; t->d.act = act; t->d.gate = gate;
    t->d.wdt1 = g_wdt1; t->d.wdt2 = g_wdt2;
    t->n = (size_t)h * w * c;
    t->x = falloc(t->n);
    float *base = falloc((size_t)c);
    tu_fill(r, base, (size_t)c, -2.0f, 2.0f);
    for (size_t i = 0; i < t->n; i++) t->x[i] = base[i % (size_t)c] + tu_uniform(r, -1.0f, 1.0f);
    free(base);
    t->b1 = falloc((size_t)m);
    t->b2 = falloc((size_t)c);
    float s1 = 2.0f / sqrtf((float)c), s2 = 2.0f / sqrtf((float)m);
    t->w1 = tu_weights(r, g_wdt1, (size_t)m * c, -s1, s1);
    t->w2 = tu_weights(r, g_wdt2, (size_t)c * m, -s2, s2);
    tu_fill(r, t->b1, (size_t)m, -0.5f, 0.5f);
    tu_fill(r, t->b2, (size_t)c, -0.5f, 0.5f);
}
static void se_free(se_data *t) {
    free(t->x); free(t->b1); free(t->b2); free(t->w1); free(t->w2);
}

static void forward_case(se_data *t, int with_bias) {
    const ec_se_dims *d = &t->d;
    const int c = d->c, m = d->cmid;
    const float *b1 = with_bias ? t->b1 : NULL, *b2 = with_bias ? t->b2 : NULL;
    size_t ns = ec_se_scratch_floats(d), nsv = ec_se_saved_floats(d);
    assert_true(nsv == 3 * (size_t)c + (size_t)m);
    float *scratch = falloc(ns), *saved = falloc(nsv), *rsaved = falloc(nsv);
    float *out = falloc(t->n), *out2 = falloc(t->n), *rout = falloc(t->n), *inpl = falloc(t->n);
    nan_fill(out, t->n); nan_fill(out2, t->n); nan_fill(saved, nsv); nan_fill(scratch, ns);
    ec_se_forward(out, t->x, t->w1, b1, t->w2, b2, d, scratch, saved);
    for (size_t i = 0; i < ns; i++) assert_false(isnan(scratch[i])); /* no unused scratch */
    nan_fill(scratch, ns);
    ec_se_forward(out2, t->x, t->w1, b1, t->w2, b2, d, scratch, NULL);
    memcpy(inpl, t->x, t->n * sizeof(float)); /* out aliasing in */
    ec_se_forward(inpl, inpl, t->w1, b1, t->w2, b2, d, scratch, NULL);
    ref_se_forward(rout, rsaved, t->x, t->w1, b1, t->w2, b2, d);

    double e_out = tu_rel_l2(out, rout, t->n);
    double e_s = tu_rel_l2(saved, rsaved, (size_t)c);
    double e_z = tu_rel_l2(saved + c, rsaved + c, (size_t)m);
    double e_gp = tu_rel_l2(saved + c + m, rsaved + c + m, (size_t)c);
    double e_g = tu_rel_l2(saved + 2 * c + m, rsaved + 2 * c + m, (size_t)c);
    double e_nos = tu_max_abs_diff(out2, out, t->n);
    double e_inp = tu_max_abs_diff(inpl, out, t->n);
    int ok = e_out <= 1e-5 && e_s <= 1e-5 && e_z <= 1e-5 && e_gp <= 1e-5 && e_g <= 1e-5 &&
             e_nos == 0.0 && e_inp == 0.0;
    if (!ok)
        print_message("se fwd h=%d w=%d c=%d m=%d act=%d gate=%d bias=%d wdt=%d/%d: out %.3g s %.3g zpre %.3g "
                      "gpre %.3g g %.3g nosave %.3g inplace %.3g\n",
                      d->h, d->w, c, m, d->act, d->gate, with_bias, d->wdt1, d->wdt2, e_out, e_s, e_z, e_gp, e_g,
                      e_nos, e_inp);
    assert_true(ok);
    free(scratch); free(saved); free(rsaved); free(out); free(out2); free(rout); free(inpl);
}

static const int gates[] = {ECW_ACT_SIGMOID, ECW_ACT_HSIGMOID};

static void test_forward_shapes(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 11);
    static const int shapes[][4] = {
        {1, 1, 1, 1},   {1, 1, 8, 2},    {7, 5, 24, 6},   {13, 29, 24, 8}, {75, 75, 24, 6},
        {75, 75, 96, 4}, {14, 14, 96, 24}, {7, 7, 1152, 48}, {3, 2, 17, 33}, {112, 112, 32, 8},
        {9, 1, 5, 7},   {1, 13, 40, 10},
    };
    int n = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int gi = 0; gi < 2; gi++)
            for (int act = ECW_ACT_SILU; act >= ECW_ACT_RELU; act -= 2) { /* silu, relu */
                se_data t;
                se_make(&t, shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3], act,
                        gates[gi], &r);
                forward_case(&t, n++ % 4 != 3);
                se_free(&t);
            }
}

static void test_forward_every_act(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 12);
    for (int act = 0; act < ECW_ACT_COUNT; act++)
        for (int gi = 0; gi < 2; gi++) {
            se_data t;
            se_make(&t, 13, 29, 24, 8, act, gates[gi], &r);
            forward_case(&t, 1);
            se_free(&t);
            se_make(&t, 7, 5, 96, 4, act, gates[gi], &r);
            forward_case(&t, 1);
            se_free(&t);
        }
}

static void test_forward_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 13);
    for (int i = 0; i < 150; i++) {
        se_data t;
        se_make(&t, tu_int(&r, 1, 20), tu_int(&r, 1, 20), tu_int(&r, 1, 70), tu_int(&r, 1, 20),
                tu_int(&r, 0, ECW_ACT_COUNT - 1), gates[i & 1], &r);
        forward_case(&t, tu_int(&r, 0, 3) != 0);
        se_free(&t);
    }
}

/* distance from v to the nearest kink of act (inf if smooth) */
static double kink_dist(int act, double v) {
    switch (act) {
    case ECW_ACT_RELU: return fabs(v);
    case ECW_ACT_RELU6: return fmin(fabs(v), fabs(v - 6.0));
    case ECW_ACT_HSWISH:
    case ECW_ACT_HSIGMOID: return fmin(fabs(v + 3.0), fabs(v - 3.0));
    default: return INFINITY;
    }
}

static double row_abs_max(const void *w, int wdt, int rows, int cols) {
    double best = 0;
    for (int i = 0; i < rows; i++) {
        double s = 0;
        for (int j = 0; j < cols; j++) s += fabs(tu_weight(w, wdt, (size_t)i * cols + j));
        if (s > best) best = s;
    }
    return best;
}

static double loss(const float *y, const float *rr, size_t n) {
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)rr[i] * y[i];
    return acc;
}

/* L = sum(r .* se(x)); dL/dx from ec_se_backward vs central differences of
 * ec_se_forward over every input. Also compares the pooled-branch part
 * (din - r .* g) on its own so a bug there cannot hide under the direct term. */
static void fd_case(int h, int w, int c, int m, int act, int gate, tu_rng *r) {
    se_data t;
    const float eps = 1e-2f;
    const int hw = h * w;
    float *saved = NULL, *scratch = NULL;
    int tries = 0;
    for (;; tries++) {
        assert_true(tries < 200);
        se_make(&t, h, w, c, m, act, gate, r);
        saved = falloc(ec_se_saved_floats(&t.d));
        scratch = falloc(ec_se_scratch_floats(&t.d));
        float *y = falloc(t.n);
        ec_se_forward(y, t.x, t.w1, t.b1, t.w2, t.b2, &t.d, scratch, saved);
        free(y);
        /* Keep every pre-activation further from a kink than one FD step can move it. */
        double a1 = row_abs_max(t.w1, t.d.wdt1, m, c), a2 = row_abs_max(t.w2, t.d.wdt2, c, m);
        double mz = 2.0 * eps * a1 / hw + 1e-3, mg = 2.0 * 1.5 * mz * a2 + 1e-3;
        int ok = 1, zlive = 0, glive = 0;
        for (int j = 0; j < m; j++) {
            ok &= kink_dist(act, saved[c + j]) > mz;
            zlive |= ec_act_scalar(act, saved[c + j] + 1e-3f) != ec_act_scalar(act, saved[c + j]);
        }
        for (int i = 0; i < c; i++) {
            ok &= kink_dist(gate, saved[c + m + i]) > mg;
            glive |= ec_act_scalar(gate, saved[c + m + i] + 1e-3f) != ec_act_scalar(gate, saved[c + m + i]);
        }
        ok &= zlive && glive; /* the pooled branch must carry some gradient */
        if (ok) break;
        free(saved); free(scratch); se_free(&t);
    }
    const ec_se_dims *d = &t.d;
    float *rr = falloc(t.n), *din = falloc(t.n), *y = falloc(t.n);
    tu_fill(r, rr, t.n, -1.0f, 1.0f);
    size_t nb = ec_se_backward_scratch_floats(d);
    float *sb = falloc(nb);
    nan_fill(din, t.n);
    nan_fill(sb, nb);
    ec_se_backward(din, rr, t.x, t.w1, t.w2, saved, d, sb);
    for (size_t i = 0; i < nb; i++) assert_false(isnan(sb[i])); /* no unused scratch */

    float *gf = falloc(t.n), *pa = falloc(t.n), *pf = falloc(t.n);
    const float *g = saved + 2 * c + m;
    for (size_t i = 0; i < t.n; i++) {
        float keep = t.x[i];
        t.x[i] = keep + eps;
        ec_se_forward(y, t.x, t.w1, t.b1, t.w2, t.b2, d, scratch, NULL);
        double lp = loss(y, rr, t.n);
        t.x[i] = keep - eps;
        ec_se_forward(y, t.x, t.w1, t.b1, t.w2, t.b2, d, scratch, NULL);
        double lm = loss(y, rr, t.n);
        t.x[i] = keep;
        gf[i] = (float)((lp - lm) / (2.0 * eps));
        float direct = rr[i] * g[i % (size_t)c];
        pa[i] = din[i] - direct;
        pf[i] = gf[i] - direct;
    }
    double e = tu_rel_l2(din, gf, t.n);
    double ep = tu_rel_l2(pa, pf, t.n);
    /* the pooled part must be a real signal here (not ~0 vs ~0) */
    double pn = 0, dn = 0;
    for (size_t i = 0; i < t.n; i++) { pn += (double)pf[i] * pf[i]; dn += (double)gf[i] * gf[i]; }
    const int live = 1;
    if (getenv("EFFCAM_VERBOSE") || !(e <= 2e-3 && ep <= 2e-2) || (live && !(pn > 1e-6 * dn)))
        print_message("se FD h=%d w=%d c=%d m=%d act=%d gate=%d wdt=%d/%d: total %.3g pooled %.3g "
                      "(pooled/total energy %.3g)\n", h, w, c, m, act, gate, d->wdt1, d->wdt2, e, ep, pn / dn);
    assert_true(e <= 2e-3);
    assert_true(ep <= 2e-2);
    if (live) assert_true(pn > 1e-6 * dn);
    free(rr); free(din); free(y); free(sb); free(gf); free(pa); free(pf);
    free(saved); free(scratch); se_free(&t);
}

static void test_backward_fd(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 14);
    static const int shapes[][4] = {{1, 1, 5, 2}, {3, 3, 8, 3}, {7, 5, 6, 4},
                                    {5, 6, 12, 5}, {2, 9, 16, 4}, {1, 1, 24, 6}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int gi = 0; gi < 2; gi++) {
            fd_case(shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3], ECW_ACT_SILU,
                    gates[gi], &r);
            fd_case(shapes[si][0], shapes[si][1], shapes[si][2], shapes[si][3], ECW_ACT_RELU,
                    gates[gi], &r);
        }
    for (int act = 0; act < ECW_ACT_COUNT; act++)
        for (int gi = 0; gi < 2; gi++) fd_case(3, 4, 10, 3, act, gates[gi], &r);
}

/* The gradient must not depend on stale scratch, and din may alias dout. */
static void test_backward_inplace(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 15);
    se_data t;
    se_make(&t, 13, 29, 24, 8, ECW_ACT_SILU, ECW_ACT_SIGMOID, &r);
    float *saved = falloc(ec_se_saved_floats(&t.d)), *y = falloc(t.n);
    float *sf = falloc(ec_se_scratch_floats(&t.d)), *sb = falloc(ec_se_backward_scratch_floats(&t.d));
    float *rr = falloc(t.n), *din = falloc(t.n), *din2 = falloc(t.n);
    ec_se_forward(y, t.x, t.w1, t.b1, t.w2, t.b2, &t.d, sf, saved);
    tu_fill(&r, rr, t.n, -1.0f, 1.0f);
    ec_se_backward(din, rr, t.x, t.w1, t.w2, saved, &t.d, sb);
    memcpy(din2, rr, t.n * sizeof(float));
    nan_fill(sb, ec_se_backward_scratch_floats(&t.d));
    ec_se_backward(din2, din2, t.x, t.w1, t.w2, saved, &t.d, sb);
    assert_true(tu_max_abs_diff(din2, din, t.n) == 0.0);
    free(saved); free(y); free(sf); free(sb); free(rr); free(din); free(din2); se_free(&t);
}

/* The same checks with fp32 weights (read in place: the scratch has no
 * row buffer), then with W1 and W2 of different dtypes. */
static void test_f32_weights(void **state) {
    const ec_se_dims d = {7, 5, 24, 6, ECW_ACT_SILU, ECW_ACT_SIGMOID, EC_WDT_F32, EC_WDT_F32};
    /* s, 4 band sums, gpre, g + zpre, z | acc, 4 band sums + dz */
    assert_int_equal(ec_se_scratch_floats(&d), 7 * 24 + 2 * 6);
    assert_int_equal(ec_se_backward_scratch_floats(&d), 5 * 24 + 6);
    static const int mixes[3][2] = {{EC_WDT_F32, EC_WDT_F32}, {EC_WDT_F32, EC_WDT_F16}, {EC_WDT_F16, EC_WDT_F32}};
    for (int k = 0; k < 3; k++) {
        g_wdt1 = mixes[k][0];
        g_wdt2 = mixes[k][1];
        ec_se_dims e = d;
        e.wdt1 = g_wdt1; e.wdt2 = g_wdt2;
        /* the fp16 matrix's row, widened where gemm_f16.c cannot read it */
        size_t row = k == 0 || ec_gemm_f16_isa_max() != EC_ISA_SCALAR ? 0 : k == 1 ? 6 : 24;
        assert_int_equal(ec_se_scratch_floats(&e), 7 * 24 + 2 * 6); /* fp16 rows: ec_gemv_f16 reads them directly */
        assert_int_equal(ec_se_backward_scratch_floats(&e), 5 * 24 + 6 + row);
        if (k == 0) {
            test_forward_shapes(state);
            test_forward_every_act(state);
        }
        test_forward_random(state);
        test_backward_fd(state);
        test_backward_inplace(state);
    }
    g_wdt1 = g_wdt2 = EC_WDT_F16;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forward_shapes),
        cmocka_unit_test(test_forward_every_act),
        cmocka_unit_test(test_forward_random),
        cmocka_unit_test(test_backward_fd),
        cmocka_unit_test(test_backward_inplace),
        cmocka_unit_test(test_f32_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
