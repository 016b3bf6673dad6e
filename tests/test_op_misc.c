/* add, global average pool and softmax: forward vs the naive double
 * reference, and their backward rules vs central finite differences of the
 * real forward kernels. */
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
static void nan_fill(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}
static double dotd(const float *a, const float *b, size_t n) {
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)a[i] * b[i];
    return acc;
}
/* relative L2 with a floor on the denominator (for all-zero references) */
static double rel_err(const float *a, const float *b, size_t n, double floor_norm) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    den = sqrt(den);
    return sqrt(num) / (den > floor_norm ? den : floor_norm);
}

/* ---- add ------------------------------------------------------------------ */

static void test_add_forward(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 21);
    static const size_t sizes[] = {1, 7, 24, 2047, 2048, 2049, 4097, 75 * 75 * 24, 13 * 29 * 96};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int act = 0; act < ECW_ACT_COUNT; act++) {
            size_t n = sizes[si];
            float *a = falloc(n), *b = falloc(n), *out = falloc(n), *pre = falloc(n);
            float *out2 = falloc(n), *ro = falloc(n), *rp = falloc(n), *al = falloc(n);
            tu_fill(&r, a, n, -8.0f, 8.0f);
            tu_fill(&r, b, n, -8.0f, 8.0f);
            nan_fill(out, n); nan_fill(pre, n); nan_fill(out2, n);
            ec_add_forward(out, a, b, n, act, pre);
            ec_add_forward(out2, a, b, n, act, NULL);
            ref_add_forward(ro, rp, a, b, n, act);
            double eo = tu_rel_l2(out, ro, n), ep = tu_rel_l2(pre, rp, n);
            double en = tu_max_abs_diff(out2, out, n);
            /* out aliasing a, then b */
            memcpy(al, a, n * sizeof(float));
            ec_add_forward(al, al, b, n, act, NULL);
            double ea = tu_max_abs_diff(al, out, n);
            memcpy(al, b, n * sizeof(float));
            ec_add_forward(al, a, al, n, act, NULL);
            double eb = tu_max_abs_diff(al, out, n);
            if (!(eo <= 1e-5 && ep <= 1e-5 && en == 0 && ea == 0 && eb == 0))
                print_message("add n=%zu act=%d: out %.3g pre %.3g nopre %.3g alias %.3g %.3g\n",
                              n, act, eo, ep, en, ea, eb);
            assert_true(eo <= 1e-5 && ep <= 1e-5);
            assert_true(en == 0 && ea == 0 && eb == 0);
            free(a); free(b); free(out); free(pre); free(out2); free(ro); free(rp); free(al);
        }
}

static double kink_dist(int act, double v) {
    switch (act) {
    case ECW_ACT_RELU: return fabs(v);
    case ECW_ACT_RELU6: return fmin(fabs(v), fabs(v - 6.0));
    case ECW_ACT_HSWISH:
    case ECW_ACT_HSIGMOID: return fmin(fabs(v + 3.0), fabs(v - 3.0));
    default: return INFINITY;
    }
}

/* L = sum(r .* act(a + b)); the engine routes da = db = act'(pre) .* r
 * (ec_act_backward on the preact the forward stored). */
static void test_add_fd(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 22);
    const float eps = 1e-2f;
    static const size_t sizes[] = {1, 7, 301, 2049};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int act = 0; act < ECW_ACT_COUNT; act++) {
            size_t n = sizes[si];
            float *a = falloc(n), *b = falloc(n), *out = falloc(n), *pre = falloc(n);
            float *rr = falloc(n), *dpre = falloc(n);
            tu_fill(&r, a, n, -8.0f, 8.0f);
            tu_fill(&r, b, n, -8.0f, 8.0f);
            tu_fill(&r, rr, n, -1.0f, 1.0f);
            for (size_t i = 0; i < n; i++) /* move points away from kinks */
                while (kink_dist(act, (double)a[i] + b[i]) < 4 * eps) a[i] += 0.1f;
            ec_add_forward(out, a, b, n, act, pre);
            ec_act_backward(dpre, rr, pre, n, act);
            size_t nchk = n < 200 ? n : 200;
            float *ga = falloc(2 * nchk), *gf = falloc(2 * nchk);
            for (size_t k = 0; k < nchk; k++) {
                size_t i = nchk == n ? k : (size_t)(tu_next(&r) % n);
                for (int which = 0; which < 2; which++) {
                    float *v = which ? b : a;
                    float keep = v[i];
                    v[i] = keep + eps;
                    ec_add_forward(out, a, b, n, act, NULL);
                    double lp = dotd(rr, out, n);
                    v[i] = keep - eps;
                    ec_add_forward(out, a, b, n, act, NULL);
                    double lm = dotd(rr, out, n);
                    v[i] = keep;
                    gf[2 * k + which] = (float)((lp - lm) / (2.0 * eps));
                    ga[2 * k + which] = dpre[i];
                }
            }
            double e = rel_err(ga, gf, 2 * nchk, 1e-3);
            if (!(e <= 2e-3)) print_message("add FD n=%zu act=%d: %.3g\n", n, act, e);
            assert_true(e <= 2e-3);
            free(a); free(b); free(out); free(pre); free(rr); free(dpre); free(ga); free(gf);
        }
}

/* ---- gap ------------------------------------------------------------------ */

static void test_gap_forward(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 31);
    static const int shapes[][2] = {{1, 1},     {1, 1280}, {49, 1280}, {13 * 29, 24}, {75 * 75, 96},
                                    {112 * 112, 32}, {5, 63}, {64, 64}, {65, 65}, {7 * 5, 3}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int hw = shapes[si][0], c = shapes[si][1];
        size_t n = (size_t)hw * c;
        float *x = falloc(n), *out = falloc((size_t)c), *ro = falloc((size_t)c);
        float *base = falloc((size_t)c);
        tu_fill(&r, base, (size_t)c, -3.0f, 3.0f);
        for (size_t i = 0; i < n; i++) x[i] = base[i % (size_t)c] + tu_uniform(&r, -1.0f, 1.0f);
        nan_fill(out, (size_t)c);
        ec_gap_forward(out, x, hw, c);
        ref_gap_forward(ro, x, hw, c);
        double e = tu_rel_l2(out, ro, (size_t)c);
        if (!(e <= 1e-5)) print_message("gap hw=%d c=%d: %.3g\n", hw, c, e);
        assert_true(e <= 1e-5);
        free(x); free(out); free(ro); free(base);
    }
    /* all-positive large mean: accumulation error must stay small */
    int hw = 224 * 224, c = 8;
    float *x = falloc((size_t)hw * c), *out = falloc((size_t)c), *ro = falloc((size_t)c);
    tu_fill(&r, x, (size_t)hw * c, 100.0f, 101.0f);
    ec_gap_forward(out, x, hw, c);
    ref_gap_forward(ro, x, hw, c);
    assert_true(tu_rel_l2(out, ro, (size_t)c) <= 1e-6);
    free(x); free(out); free(ro);
}

static void test_gap_fd(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 32);
    const float eps = 1e-2f;
    static const int shapes[][2] = {{1, 1}, {1, 5}, {35, 3}, {13 * 29, 7}, {49, 96}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        int hw = shapes[si][0], c = shapes[si][1];
        size_t n = (size_t)hw * c;
        float *x = falloc(n), *out = falloc((size_t)c), *rr = falloc((size_t)c), *din = falloc(n);
        tu_fill(&r, x, n, -1.0f, 1.0f);
        tu_fill(&r, rr, (size_t)c, -1.0f, 1.0f);
        nan_fill(din, n);
        ec_gap_backward(din, rr, hw, c);
        size_t nchk = n < 300 ? n : 300;
        float *ga = falloc(nchk), *gf = falloc(nchk);
        for (size_t k = 0; k < nchk; k++) {
            size_t i = nchk == n ? k : (size_t)(tu_next(&r) % n);
            float keep = x[i];
            x[i] = keep + eps;
            ec_gap_forward(out, x, hw, c);
            double lp = dotd(rr, out, (size_t)c);
            x[i] = keep - eps;
            ec_gap_forward(out, x, hw, c);
            double lm = dotd(rr, out, (size_t)c);
            x[i] = keep;
            gf[k] = (float)((lp - lm) / (2.0 * eps));
            ga[k] = din[i];
        }
        double e = tu_rel_l2(ga, gf, nchk);
        if (!(e <= 2e-3)) print_message("gap FD hw=%d c=%d: %.3g\n", hw, c, e);
        assert_true(e <= 2e-3);
        for (size_t i = 0; i < n; i++) assert_true(isfinite(din[i]));
        free(x); free(out); free(rr); free(din); free(ga); free(gf);
    }
}

/* ---- softmax -------------------------------------------------------------- */

static void softmax_case(tu_rng *r, int n, float lo, float hi) {
    float *x = falloc((size_t)n), *p = falloc((size_t)n), *rp = falloc((size_t)n);
    tu_fill(r, x, (size_t)n, lo, hi);
    nan_fill(p, (size_t)n);
    ec_softmax_forward(p, x, n);
    ref_softmax_forward(rp, x, n);
    double sum = 0;
    for (int i = 0; i < n; i++) {
        assert_true(isfinite(p[i]) && p[i] >= 0.0f);
        sum += p[i];
    }
    double e = tu_rel_l2(p, rp, (size_t)n);
    if (!(e <= 1e-5 && fabs(sum - 1.0) <= 1e-5))
        print_message("softmax n=%d [%g,%g]: %.3g sum %.9g\n", n, lo, hi, e, sum);
    assert_true(e <= 1e-5);
    assert_true(fabs(sum - 1.0) <= 1e-5);
    /* in place */
    ec_softmax_forward(x, x, n);
    assert_true(tu_max_abs_diff(x, p, (size_t)n) == 0.0);
    free(x); free(p); free(rp);
}

static void test_softmax_forward(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 41);
    static const int ns[] = {1, 2, 3, 10, 1000, 1001, 21843};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        softmax_case(&r, ns[i], -10.0f, 10.0f);
        softmax_case(&r, ns[i], 1000.0f, 1050.0f);   /* exp would overflow unshifted */
        softmax_case(&r, ns[i], -1050.0f, -1000.0f); /* ... or underflow to 0 / 0 */
        softmax_case(&r, ns[i], -0.01f, 0.01f);
    }
    /* one dominant logit */
    float x[4] = {0.0f, 200.0f, -5.0f, 3.0f}, p[4];
    ec_softmax_forward(p, x, 4);
    assert_true(p[1] == 1.0f);
    assert_true(p[0] >= 0.0f && p[0] < 1e-30f);
}

static void test_softmax_fd(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 42);
    const float eps = 1e-2f;
    static const int ns[] = {1, 2, 5, 10, 100, 1000};
    for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++) {
        int n = ns[ni];
        float *x = falloc((size_t)n), *p = falloc((size_t)n), *y = falloc((size_t)n);
        float *rr = falloc((size_t)n), *dl = falloc((size_t)n), *gf = falloc((size_t)n);
        tu_fill(&r, x, (size_t)n, -3.0f, 3.0f);
        tu_fill(&r, rr, (size_t)n, -1.0f, 1.0f);
        ec_softmax_forward(p, x, n);
        nan_fill(dl, (size_t)n);
        ec_softmax_backward(dl, rr, p, n);
        for (int i = 0; i < n; i++) {
            float keep = x[i];
            x[i] = keep + eps;
            ec_softmax_forward(y, x, n);
            double lp = dotd(rr, y, (size_t)n);
            x[i] = keep - eps;
            ec_softmax_forward(y, x, n);
            double lm = dotd(rr, y, (size_t)n);
            x[i] = keep;
            gf[i] = (float)((lp - lm) / (2.0 * eps));
        }
        /* floor: n = 1 has an exactly zero gradient */
        double e = rel_err(dl, gf, (size_t)n, 1e-4);
        if (!(e <= 2e-3)) print_message("softmax FD n=%d: %.3g\n", n, e);
        assert_true(e <= 2e-3);
        /* dlogits may alias dp */
        memcpy(y, rr, (size_t)n * sizeof(float));
        ec_softmax_backward(y, y, p, n);
        assert_true(tu_max_abs_diff(y, dl, (size_t)n) == 0.0);
        free(x); free(p); free(y); free(rr); free(dl); free(gf);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_forward),   cmocka_unit_test(test_add_fd),
        cmocka_unit_test(test_gap_forward),   cmocka_unit_test(test_gap_fd),
        cmocka_unit_test(test_softmax_forward), cmocka_unit_test(test_softmax_fd),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
