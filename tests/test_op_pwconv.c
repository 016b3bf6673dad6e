/* pwconv / dense kernel vs the naive double reference, plus gradient checks.
 * Scratch is malloc'ed at exactly ec_pwconv_*scratch_floats() floats and
 * filled with NaN; outputs are pre-filled with NaN. Every check runs with
 * fp16 weights and again with fp32 weights (g_wdt). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ecw_format.h"
#include "ops/ops.h"
#include "pool.h"
#include "ref_conv.h"
#include "test_util.h"

#define FWD_TOL 1e-5
#define FD_TOL 1e-3

static int g_wdt = EC_WDT_F16; /* weight dtype of the cases made now */

static void fill_nan(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

static float *alloc_f(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

typedef struct pw_data {
    ec_pw_dims d;
    size_t n_in, n_out, n_w;
    float *in, *b;
    void *w; /* p->d.wdt */
} pw_data;

static void make_data(pw_data *p, int m, int cin, int cout, int act, int bias, uint64_t seed) {
    tu_rng r;
    tu_seed(&r, seed);
    memset(&p->d, 0, sizeof p->d);
    p->d.m = m; p->d.cin = cin; p->d.cout = cout; p->d.act = act; p->d.wdt = g_wdt;
    p->n_in = (size_t)m * cin;
    p->n_out = (size_t)m * cout;
    p->n_w = (size_t)cout * cin;
    p->in = alloc_f(p->n_in);
    p->b = bias ? alloc_f((size_t)cout) : NULL;
    float ws = 1.5f / sqrtf((float)cin);
    tu_fill(&r, p->in, p->n_in, -2.0f, 2.0f);
    p->w = tu_weights(&r, g_wdt, p->n_w, -ws, ws);
    if (p->b) tu_fill(&r, p->b, (size_t)cout, -1.0f, 1.0f);
}

static void free_data(pw_data *p) {
    free(p->in);
    free(p->w);
    free(p->b);
}

static void run_forward(const pw_data *p, const float *in, float *out, float *pre) {
    size_t ns = ec_pwconv_scratch_floats(&p->d);
    float *scratch = alloc_f(ns);
    fill_nan(scratch, ns);
    ec_pwconv_forward(out, in, p->w, p->b, &p->d, scratch, pre);
    free(scratch);
}

/* The scratch path (gemm.c or OpenBLAS), which the dispatch skips where
 * gemm_f16.c runs. */
static void run_forward_sgemm(const pw_data *p, const float *in, float *out, float *pre) {
    size_t ns = ec_pwconv_sgemm_scratch_floats(&p->d);
    float *scratch = alloc_f(ns);
    fill_nan(scratch, ns);
    ec_pwconv_forward_sgemm(out, in, p->w, p->b, &p->d, scratch, pre);
    free(scratch);
}

static void check_forward(int m, int cin, int cout, int act, int bias, uint64_t seed) {
    pw_data p;
    make_data(&p, m, cin, cout, act, bias, seed);
    /* fp16: none where gemm_f16.c runs, else the packed weights (whole
     * panels of 16 output channels); fp32: none */
    size_t packed = g_wdt == EC_WDT_F32 ? 0 : (size_t)cin * ((cout + 15) / 16 * 16);
    assert_int_equal(ec_pwconv_sgemm_scratch_floats(&p.d), packed);
    assert_int_equal(ec_pwconv_scratch_floats(&p.d), ec_pwconv_uses_gemm_f16(&p.d) ? 0 : packed);
    float *out = alloc_f(p.n_out), *pre = alloc_f(p.n_out), *out2 = alloc_f(p.n_out);
    float *rout = alloc_f(p.n_out), *rpre = alloc_f(p.n_out);
    fill_nan(out, p.n_out);
    fill_nan(pre, p.n_out);
    fill_nan(out2, p.n_out);
    run_forward(&p, p.in, out, pre);
    run_forward(&p, p.in, out2, NULL);
    ref_pwconv_forward(rout, rpre, p.in, p.w, p.b, &p.d);
    double e_out = tu_rel_l2(out, rout, p.n_out);
    double e_pre = tu_rel_l2(pre, rpre, p.n_out);
    int same = memcmp(out, out2, p.n_out * sizeof(float)) == 0;
    fill_nan(out2, p.n_out);
    fill_nan(rpre, p.n_out);
    float *pre2 = alloc_f(p.n_out);
    fill_nan(pre2, p.n_out);
    run_forward_sgemm(&p, p.in, out2, pre2);
    double e_s = tu_rel_l2(out2, rout, p.n_out), e_sp = 0;
    ref_pwconv_forward(rout, rpre, p.in, p.w, p.b, &p.d);
    e_sp = tu_rel_l2(pre2, rpre, p.n_out);
    free(pre2);
    if (!(e_s <= FWD_TOL) || !(e_sp <= FWD_TOL)) {
        print_error("pwconv forward (scratch path) m %d cin %d cout %d: rel_l2 out %.3g pre %.3g\n", m, cin, cout,
                    e_s, e_sp);
        fail();
    }
    if (!all_finite(out, p.n_out) || !all_finite(pre, p.n_out) ||
        !(e_out <= FWD_TOL) || !(e_pre <= FWD_TOL) || !same) {
        print_error("pwconv forward m %d cin %d cout %d act %d bias %d wdt %d: rel_l2 out %.3g "
                    "pre %.3g, preact-NULL run %s\n",
                    m, cin, cout, act, bias, g_wdt, e_out, e_pre, same ? "same" : "differs");
        fail();
    }
    free(out); free(pre); free(out2); free(rout); free(rpre);
    free_data(&p);
}

static void check_backward(int m, int cin, int cout, uint64_t seed, int n_samples) {
    pw_data p;
    make_data(&p, m, cin, cout, ECW_ACT_SILU, 1, seed);
    tu_rng r;
    tu_seed(&r, seed ^ 0x5555ull);
    float *dpre = alloc_f(p.n_out);
    tu_fill(&r, dpre, p.n_out, -1.0f, 1.0f);
    float *din = alloc_f(p.n_in), *rdin = alloc_f(p.n_in);
    fill_nan(din, p.n_in);
    /* the scratch path: fp16 packed in panels of 16 input channels; fp32
     * and dense (m == 1, fp16 rows read directly): none */
    size_t ns2 = ec_pwconv_backward_sgemm_scratch_floats(&p.d);
    assert_int_equal(ns2, g_wdt == EC_WDT_F32 || m == 1 ? 0 : (size_t)cout * ((cin + 15) / 16 * 16));
    /* the default: gemm_f16.c's [k][n] form for fp16, m > 1, no scratch */
    size_t ns = ec_pwconv_backward_scratch_floats(&p.d);
    assert_int_equal(ns, m > 1 && ec_pwconv_uses_gemm_f16(&p.d) ? 0 : ns2);
    ref_pwconv_backward(rdin, dpre, p.w, &p.d);
    for (int path = 1; path >= 0; path--) { /* the default last: the gradient check below uses it */
        float *scratch = alloc_f(path ? ns2 : ns);
        fill_nan(scratch, path ? ns2 : ns);
        fill_nan(din, p.n_in);
        if (path) ec_pwconv_backward_sgemm(din, dpre, p.w, &p.d, scratch);
        else ec_pwconv_backward(din, dpre, p.w, &p.d, scratch);
        free(scratch);
        double e = tu_rel_l2(din, rdin, p.n_in);
        if (!all_finite(din, p.n_in) || !(e <= FWD_TOL)) {
            print_error("pwconv backward (path %d) m %d cin %d cout %d wdt %d: rel_l2 %.3g\n", path, m, cin, cout,
                        g_wdt, e);
            fail();
        }
    }

    double gscale = 0;
    for (size_t i = 0; i < p.n_in; i++) gscale += (double)din[i] * din[i];
    gscale = sqrt(gscale / (double)p.n_in);

    float *x = alloc_f(p.n_in), *out = alloc_f(p.n_out);
    float *pp = alloc_f(p.n_out), *pm = alloc_f(p.n_out);
    memcpy(x, p.in, p.n_in * sizeof(float));
    for (int s = 0; s < n_samples; s++) {
        size_t i = s == 0 ? 0 : s == 1 ? p.n_in - 1 : (size_t)(tu_next(&r) % p.n_in);
        const float eps = 0.05f;
        float x0 = x[i], xp = x0 + eps, xm = x0 - eps;
        x[i] = xp;
        run_forward(&p, x, out, pp);
        x[i] = xm;
        run_forward(&p, x, out, pm);
        x[i] = x0;
        double dl = 0;
        for (size_t j = 0; j < p.n_out; j++) dl += (double)dpre[j] * ((double)pp[j] - (double)pm[j]);
        double fd = dl / ((double)xp - (double)xm);
        double an = din[i];
        if (!(fabs(fd - an) <= FD_TOL * (fabs(an) + gscale))) {
            print_error("pwconv gradient check m %d cin %d cout %d: input %zu fd %.7g "
                        "backward %.7g\n", m, cin, cout, i, fd, an);
            fail();
        }
    }
    free(x); free(out); free(pp); free(pm);
    free(dpre); free(din); free(rdin);
    free_data(&p);
}

static const int shapes[][3] = { /* m, cin, cout */
    {1, 1, 1},    {1, 3, 5},     {1, 17, 9},    {1, 1280, 1000}, /* dense head */
    {2, 4, 4},    {7, 5, 3},     {13, 29, 31},  {49, 96, 24},
    {196, 40, 240}, {225, 24, 144}, {1000, 16, 1}, {3, 1, 64},
    {64, 320, 1280}, {35, 1152, 192},
};

static void test_forward_shapes(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        check_forward(shapes[i][0], shapes[i][1], shapes[i][2],
                      (int)(i % ECW_ACT_COUNT), (int)(i % 4 != 3), 10 + i);
}

static void test_forward_every_act(void **state) {
    (void)state;
    for (int act = 0; act < ECW_ACT_COUNT; act++) {
        check_forward(37, 19, 23, act, 1, 100 + (uint64_t)act);
        check_forward(1, 33, 21, act, 1, 120 + (uint64_t)act); /* dense */
        check_forward(5, 8, 6, act, 0, 140 + (uint64_t)act);
    }
}

static void test_forward_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 99);
    for (int i = 0; i < 60; i++) {
        int m = tu_int(&r, 0, 3) == 0 ? 1 : tu_int(&r, 1, 300);
        check_forward(m, tu_int(&r, 1, 70), tu_int(&r, 1, 70),
                      tu_int(&r, 0, ECW_ACT_COUNT - 1), tu_int(&r, 0, 3) != 0,
                      1000 + (uint64_t)i);
    }
}

static void test_backward(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if ((size_t)shapes[i][0] * shapes[i][1] * shapes[i][2] > 5000000) continue;
        check_backward(shapes[i][0], shapes[i][1], shapes[i][2], 300 + i, 8);
    }
    check_backward(1, 1280, 100, 333, 8); /* dense, gemv path */
    tu_rng r;
    tu_seed(&r, 31337);
    for (int i = 0; i < 30; i++) {
        int m = tu_int(&r, 0, 3) == 0 ? 1 : tu_int(&r, 1, 120);
        check_backward(m, tu_int(&r, 1, 50), tu_int(&r, 1, 50), 3000 + (uint64_t)i, 6);
    }
}

/* The same checks with fp32 weights, used in place (no scratch). */
static void test_f32_weights(void **state) {
    g_wdt = EC_WDT_F32;
    test_forward_shapes(state);
    test_forward_every_act(state);
    test_forward_random(state);
    test_backward(state);
    g_wdt = EC_WDT_F16;
}

/* Both GEMM paths (our AVX-512 kernel when the CPU has it, OpenBLAS) at 1
 * and 2 threads. */
static void test_paths_threads(void **state) {
    for (int own = 0; own <= 1; own++)
        for (int threads = 1; threads <= 2; threads++) {
            ec_gemm_enable(own);
            ec_pool_set_threads(threads);
            test_forward_shapes(state);
            test_forward_random(state);
            test_backward(state);
        }
    ec_gemm_enable(1);
    ec_pool_set_threads(1);
}

/* Dense backward with exact zeros in dpre (a logit target seeds a one-hot
 * gradient; the fp16 path skips those rows): still the reference, at 1 and
 * 2 threads, fp16 and fp32 weights. */
static void test_dense_backward_sparse(void **state) {
    (void)state;
    for (int wdt = EC_WDT_F16; wdt <= EC_WDT_F32; wdt++)
        for (int threads = 1; threads <= 2; threads++) {
            g_wdt = wdt;
            ec_pool_set_threads(threads);
            pw_data p;
            make_data(&p, 1, 1283, 1000, ECW_ACT_NONE, 1, 4040 + (uint64_t)wdt);
            float *dpre = alloc_f(p.n_out), *din = alloc_f(p.n_in), *rdin = alloc_f(p.n_in);
            for (int pattern = 0; pattern < 3; pattern++) {
                for (size_t n = 0; n < p.n_out; n++) dpre[n] = 0.0f;
                if (pattern == 0) dpre[417] = 1.0f;                                /* one-hot */
                if (pattern == 1) { dpre[0] = -0.75f; dpre[p.n_out - 1] = 2.5f; } /* first and last rows */
                if (pattern == 2)
                    for (size_t n = 0; n < p.n_out; n += 3) dpre[n] = 0.001f * (float)n - 0.3f;
                size_t ns = ec_pwconv_backward_scratch_floats(&p.d);
                float *scratch = alloc_f(ns);
                fill_nan(din, p.n_in);
                ec_pwconv_backward(din, dpre, p.w, &p.d, scratch);
                free(scratch);
                ref_pwconv_backward(rdin, dpre, p.w, &p.d);
                double e = tu_rel_l2(din, rdin, p.n_in);
                if (!all_finite(din, p.n_in) || !(e <= FWD_TOL)) {
                    print_error("dense backward, sparse dpre pattern %d, wdt %d, %d threads: rel_l2 %.3g\n", pattern,
                                wdt, threads, e);
                    fail();
                }
            }
            free(dpre); free(din); free(rdin);
            free_data(&p);
        }
    g_wdt = EC_WDT_F16;
    ec_pool_set_threads(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_threads),
        cmocka_unit_test(test_forward_shapes),
        cmocka_unit_test(test_forward_every_act),
        cmocka_unit_test(test_forward_random),
        cmocka_unit_test(test_backward),
        cmocka_unit_test(test_f32_weights),
        cmocka_unit_test(test_dense_backward_sparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
