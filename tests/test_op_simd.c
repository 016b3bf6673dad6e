/* SIMD paths against the scalar ones, and the parallel kernels against one
 * thread:
 *  - the vectorised exp vs double exp over the whole float range
 *    (max relative error < 2e-7 in the normal range; overflow, underflow,
 *    NaN);
 *  - every activation, bias + act, add + act and the SiLU / sigmoid
 *    backward at every instruction-set level vs the scalar level, odd
 *    lengths and unaligned starts;
 *  - depthwise conv at every level vs the portable build;
 *  - pwconv / dense / conv2d / dwconv / SE / add with 3 threads vs 1. */
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
#include "pool.h"
#include "test_util.h"

static void test_exp_accuracy(void **state) {
    (void)state;
    const size_t n = 2000003;
    float *x = malloc(n * sizeof(float)), *y = malloc(n * sizeof(float));
    assert_true(x && y);
    for (int isa = 0; isa <= ec_isa_max(); isa++) {
        for (size_t i = 0; i < n; i++) x[i] = -87.33f + (88.72f + 87.33f) * (float)((double)i / (double)(n - 1));
        ec_exp_isa(y, x, n, isa);
        double worst = 0, at = 0;
        for (size_t i = 0; i < n; i++) {
            double e = exp((double)x[i]);
            if (e > 3.4e38) continue;
            double r = fabs((double)y[i] - e) / e;
            if (r > worst) { worst = r; at = x[i]; }
        }
        if (!(worst < 2e-7)) fail_msg("isa %d: exp max relative error %.3g at %g", isa, worst, at);
        /* subnormal range: absolute error tiny */
        for (size_t i = 0; i < 1000; i++) x[i] = -103.9f + 16.5f * (float)i / 1000.0f;
        ec_exp_isa(y, x, 1000, isa);
        for (size_t i = 0; i < 1000; i++) {
            double e = exp((double)x[i]);
            assert_true(fabs((double)y[i] - e) <= 1e-6 * e + 3e-45);
        }
        float s[7] = {-1e30f, -200.0f, -104.5f, 88.8f, 1000.0f, INFINITY, NAN}, t[7];
        ec_exp_isa(t, s, 7, isa);
        assert_true(t[0] == 0.0f && t[1] == 0.0f && t[2] == 0.0f);
        assert_true(isinf(t[3]) && isinf(t[4]) && isinf(t[5]));
        assert_true(isnan(t[6]));
        assert_true(fabsf(t[0]) == 0.0f);
        float one, zero = 0.0f;
        ec_exp_isa(&one, &zero, 1, isa);
        assert_true(one == 1.0f);
    }
    free(x);
    free(y);
}

static int close_rel(float a, float b, float rel, float abs_tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return fabsf(a - b) <= rel * fabsf(b) + abs_tol;
}

static void test_act_paths(void **state) {
    (void)state;
    enum { MAXN = 133, OFF = 3 };
    float x[MAXN + OFF], b[MAXN + OFF], ref[MAXN + OFF], got[MAXN + OFF], pr[MAXN + OFF], pg[MAXN + OFF];
    float dy[MAXN + OFF], o2[MAXN + OFF];
    tu_rng r;
    tu_seed(&r, 77);
    for (int isa = 1; isa <= ec_isa_max(); isa++)
        for (int act = 0; act < ECW_ACT_COUNT; act++)
            for (int n = 0; n <= MAXN; n += (n < 40 ? 1 : 31))
                for (int off = 0; off <= OFF; off++) {
                    tu_fill(&r, x, MAXN + OFF, -30.0f, 30.0f);
                    tu_fill(&r, b, MAXN + OFF, -3.0f, 3.0f);
                    tu_fill(&r, dy, MAXN + OFF, -2.0f, 2.0f);
                    if (n > 5) { x[off] = 0.0f; x[off + 1] = -3.0f; x[off + 2] = 6.0f; x[off + 3] = -90.0f; x[off + 4] = 95.0f; }
                    float rel = (act == ECW_ACT_SILU || act == ECW_ACT_SIGMOID) ? 6e-7f : 0.0f;
                    for (int wb = 0; wb < 2; wb++) {
                        memcpy(ref, x, sizeof x);
                        memcpy(got, x, sizeof x);
                        ec_act_row_isa(ref + off, wb ? b + off : NULL, (size_t)n, act, pr + off, EC_ISA_SCALAR);
                        ec_act_row_isa(got + off, wb ? b + off : NULL, (size_t)n, act, pg + off, isa);
                        for (int i = 0; i < off; i++) assert_true(got[i] == x[i]); /* untouched */
                        for (int i = off + n; i < MAXN + OFF; i++) assert_true(got[i] == x[i]);
                        for (int i = off; i < off + n; i++) {
                            assert_true(pr[i] == pg[i]);
                            if (!close_rel(got[i], ref[i], rel, 1e-37f))
                                fail_msg("isa %d act %d n %d off %d bias %d: x %g -> %.9g vs scalar %.9g", isa, act, n, off, wb,
                                         pr[i], got[i], ref[i]);
                        }
                    }
                    /* add + act (out aliasing a) */
                    memcpy(ref, x, sizeof x);
                    memcpy(got, x, sizeof x);
                    ec_act_add_isa(ref + off, ref + off, b + off, (size_t)n, act, pr + off, EC_ISA_SCALAR);
                    ec_act_add_isa(got + off, got + off, b + off, (size_t)n, act, pg + off, isa);
                    for (int i = off; i < off + n; i++) {
                        assert_true(pr[i] == pg[i]);
                        assert_true(close_rel(got[i], ref[i], rel, 1e-37f));
                    }
                    /* backward (dx aliasing dy in one of the two) */
                    ec_act_backward_isa(ref + off, dy + off, x + off, (size_t)n, act, EC_ISA_SCALAR);
                    memcpy(o2, dy, sizeof dy);
                    ec_act_backward_isa(o2 + off, o2 + off, x + off, (size_t)n, act, isa);
                    for (int i = off; i < off + n; i++)
                        if (!close_rel(o2[i], ref[i], 2e-6f, 1e-30f))
                            fail_msg("isa %d act %d backward at %g: %.9g vs %.9g", isa, act, x[i], o2[i], ref[i]);
                }
}

static void fill_dims(ec_conv_dims *d, int h, int w, int c, int k, int s, int act) {
    memset(d, 0, sizeof *d);
    d->h = h; d->w = w; d->cin = d->cout = c;
    d->kh = d->kw = k; d->sh = d->sw = s;
    d->pt = d->pl = k / 2;
    d->oh = (h + 2 * (k / 2) - k) / s + 1;
    d->ow = (w + 2 * (k / 2) - k) / s + 1;
    d->act = act;
}

static void test_dwconv_isa(void **state) {
    (void)state;
    const int cs[] = {3, 8, 16, 17, 40, 96};
    tu_rng r;
    tu_seed(&r, 9);
    for (int isa = 1; isa <= ec_isa_max(); isa++)
        for (size_t ci = 0; ci < sizeof cs / sizeof cs[0]; ci++)
            for (int k = 3; k <= 5; k += 2)
                for (int s = 1; s <= 2; s++) {
                    ec_conv_dims d;
                    fill_dims(&d, 13, 11, cs[ci], k, s, ECW_ACT_SILU);
                    size_t ni = (size_t)d.h * d.w * d.cin, no = (size_t)d.oh * d.ow * d.cout, nw = (size_t)k * k * d.cin;
                    float *in = malloc(ni * 4), *b = malloc((size_t)d.cout * 4), *o0 = malloc(no * 4), *o1 = malloc(no * 4);
                    float *p0 = malloc(no * 4), *p1 = malloc(no * 4);
                    uint16_t *w = malloc(nw * 2);
                    float *sc = malloc(ec_dwconv_scratch_floats(&d) * 4);
                    tu_fill(&r, in, ni, -2, 2);
                    tu_fill(&r, b, (size_t)d.cout, -1, 1);
                    tu_fill_f16(&r, w, nw, -1, 1);
                    ec_dwconv_forward_isa(o0, in, w, b, &d, sc, p0, EC_ISA_SCALAR);
                    ec_dwconv_forward_isa(o1, in, w, b, &d, sc, p1, isa);
                    for (size_t i = 0; i < no; i++) {
                        assert_true(close_rel(p1[i], p0[i], 1e-5f, 1e-5f));
                        assert_true(close_rel(o1[i], o0[i], 1e-5f, 1e-5f));
                    }
                    /* backward: dpre = o0, into in-sized buffers */
                    float *sb = malloc(ec_dwconv_backward_scratch_floats(&d) * 4 + 4);
                    float *g0 = malloc(ni * 4), *g1 = malloc(ni * 4);
                    ec_dwconv_backward_isa(g0, o0, w, &d, sb, EC_ISA_SCALAR);
                    ec_dwconv_backward_isa(g1, o0, w, &d, sb, isa);
                    for (size_t i = 0; i < ni; i++) assert_true(close_rel(g1[i], g0[i], 1e-5f, 1e-5f));
                    free(sb); free(g0); free(g1);
                    free(in); free(b); free(o0); free(o1); free(p0); free(p1); free(w); free(sc);
                }
}

/* ---- parallel kernels vs one thread ------------------------------------ */
static void compare(const float *a, const float *b, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (!close_rel(a[i], b[i], 1e-5f, 1e-5f)) fail_msg("%s: element %zu: %.9g (3 threads) vs %.9g (1 thread)", what, i, a[i], b[i]);
}

/* wdt: the weights' dtype (EC_WDT_*): the kernels split fp16 widening and
 * in-place fp32 weights differently over the threads. */
static void parallel_kernels(int wdt) {
    tu_rng r;
    tu_seed(&r, 4);
    const size_t BIG = 1u << 22;
    float *in = malloc(BIG * 4), *o[2], *p[2], *sc = malloc(BIG * 4), *bias = malloc(4096 * 4);
    for (int k = 0; k < 2; k++) { o[k] = malloc(BIG * 4); p[k] = malloc(BIG * 4); }
    tu_fill(&r, in, BIG, -2, 2);
    tu_fill(&r, bias, 4096, -1, 1);
    void *w = tu_weights(&r, wdt, BIG, -0.2f, 0.2f), *w2 = tu_weights(&r, wdt, BIG, -0.2f, 0.2f);
    const int threads[2] = {3, 1};
    /* pwconv: many rows, few rows, dense */
    const int pw[][3] = {{3001, 24, 72}, {49, 200, 333}, {1, 1280, 1000}, {7, 5, 3}, {300, 17, 9}};
    for (size_t q = 0; q < sizeof pw / sizeof pw[0]; q++) {
        ec_pw_dims d = {pw[q][0], pw[q][1], pw[q][2], ECW_ACT_SILU, wdt};
        for (int k = 0; k < 2; k++) {
            effcam_set_threads(threads[k]);
            ec_pwconv_forward(o[k], in, w, bias, &d, sc, p[k]);
        }
        compare(o[0], o[1], (size_t)d.m * d.cout, "pwconv");
        compare(p[0], p[1], (size_t)d.m * d.cout, "pwconv preact");
        for (int k = 0; k < 2; k++) {
            effcam_set_threads(threads[k]);
            ec_pwconv_backward(o[k], in, w, &d, sc);
        }
        compare(o[0], o[1], (size_t)d.m * d.cin, "pwconv backward");
    }
    /* conv2d (im2col tiles) and dwconv */
    const int cv[][6] = {{57, 61, 3, 32, 3, 2}, {40, 38, 24, 48, 3, 1}, {9, 7, 5, 6, 5, 1}};
    for (size_t q = 0; q < sizeof cv / sizeof cv[0]; q++) {
        ec_conv_dims d;
        fill_dims(&d, cv[q][0], cv[q][1], cv[q][2], cv[q][4], cv[q][5], ECW_ACT_HSWISH);
        d.cout = cv[q][3];
        d.wdt = wdt;
        for (int k = 0; k < 2; k++) {
            effcam_set_threads(threads[k]);
            ec_conv2d_forward(o[k], in, w, bias, &d, sc, p[k]);
        }
        compare(o[0], o[1], (size_t)d.oh * d.ow * d.cout, "conv2d");
        compare(p[0], p[1], (size_t)d.oh * d.ow * d.cout, "conv2d preact");
        d.cout = d.cin;
        for (int k = 0; k < 2; k++) {
            effcam_set_threads(threads[k]);
            ec_dwconv_forward(o[k], in, w, bias, &d, sc, p[k]);
        }
        compare(o[0], o[1], (size_t)d.oh * d.ow * d.cout, "dwconv");
        for (int k = 0; k < 2; k++) {
            effcam_set_threads(threads[k]);
            ec_dwconv_backward(o[k], in, w, &d, sc);
        }
        compare(o[0], o[1], (size_t)d.h * d.w * d.cin, "dwconv backward");
    }
    /* SE forward / backward, add */
    ec_se_dims sd = {23, 19, 72, 18, ECW_ACT_SILU, ECW_ACT_SIGMOID, wdt, wdt};
    size_t nse = (size_t)sd.h * sd.w * sd.c;
    float *saved[2] = {malloc(ec_se_saved_floats(&sd) * 4), malloc(ec_se_saved_floats(&sd) * 4)};
    for (int k = 0; k < 2; k++) {
        effcam_set_threads(threads[k]);
        ec_se_forward(o[k], in, w, bias, w2, bias + 100, &sd, sc, saved[k]);
    }
    compare(o[0], o[1], nse, "se");
    for (int k = 0; k < 2; k++) {
        effcam_set_threads(threads[k]);
        ec_se_backward(o[k], in + 7, in, w, w2, saved[k], &sd, sc);
    }
    compare(o[0], o[1], nse, "se backward");
    for (int k = 0; k < 2; k++) {
        effcam_set_threads(threads[k]);
        ec_add_forward(o[k], in, in + 5, 100003, ECW_ACT_RELU6, p[k]);
    }
    compare(o[0], o[1], 100003, "add");
    compare(p[0], p[1], 100003, "add preact");
    free(saved[0]); free(saved[1]);
    for (int k = 0; k < 2; k++) { free(o[k]); free(p[k]); }
    free(in); free(sc); free(bias); free(w); free(w2);
}

static void test_parallel_kernels(void **state) {
    (void)state;
    parallel_kernels(EC_WDT_F16);
    parallel_kernels(EC_WDT_F32);
}

int main(void) {
    fprintf(stderr, "best instruction-set level on this CPU: %d (0 scalar, 1 AVX2+FMA, 2 AVX-512)\n", ec_isa_max());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exp_accuracy),
        cmocka_unit_test(test_act_paths),
        cmocka_unit_test(test_dwconv_isa),
        cmocka_unit_test(test_parallel_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
