/* gemm_f16.c (the fp16-weight pointwise GEMM) vs the naive double
 * reference: every ISA path the CPU has (AVX2+FMA+F16C, AVX-512), 1 and 2
 * threads, every activation, with / without bias, on shapes whose M, N, K
 * are not multiples of the tiles (1, 7, 13, 17, 49, ...), K long enough for
 * several k-blocks, N wide enough for several packed column chunks, M large
 * enough for row blocks; each also with a per-input-channel weight scale
 * (the folded SE gate), with a residual added after the epilogue (a folded
 * add: bit-identical to the two ops), and in the backward-data form (ec_gemm_f16_kn_isa,
 * the weights as the [k][n] operand). Outputs and preact are pre-filled
 * with NaN. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ecw_format.h"
#include "effcam.h"
#include "ops/ops.h"
#include "ref_conv.h"
#include "test_util.h"

#define TOL 1e-5

static float *alloc_f(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    for (size_t i = 0; i < n; i++) p[i] = NAN;
    return p;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static int checked;

static void check(int m, int k, int n, int act, int bias, int isa, uint64_t seed) {
    tu_rng r;
    tu_seed(&r, seed);
    ec_pw_dims d = {m, k, n, act, EC_WDT_F16};
    size_t ni = (size_t)m * k, no = (size_t)m * n, nw = (size_t)n * k;
    float *in = alloc_f(ni), *b = bias ? alloc_f((size_t)n) : NULL;
    uint16_t *w = malloc(nw * sizeof(uint16_t));
    assert_non_null(w);
    float ws = 1.5f / sqrtf((float)k);
    tu_fill(&r, in, ni, -2.0f, 2.0f);
    tu_fill_f16(&r, w, nw, -ws, ws);
    if (b) tu_fill(&r, b, (size_t)n, -1.0f, 1.0f);
    float *out = alloc_f(no), *pre = alloc_f(no), *out2 = alloc_f(no), *rout = alloc_f(no), *rpre = alloc_f(no);
    ec_gemm_f16_forward_isa(out, in, w, b, &d, pre, isa);
    ec_gemm_f16_forward_isa(out2, in, w, b, &d, NULL, isa);
    ref_pwconv_forward(rout, rpre, in, w, b, &d);
    double e_out = tu_rel_l2(out, rout, no), e_pre = tu_rel_l2(pre, rpre, no);
    /* element-wise too: a wrong tile edge can hide in a large rel L2 */
    double worst = 0;
    for (size_t i = 0; i < no; i++) {
        double e = fabs((double)pre[i] - (double)rpre[i]) / (1.0 + fabs((double)rpre[i]));
        if (!(e <= worst)) worst = e;
    }
    int same = memcmp(out, out2, no * sizeof(float)) == 0;
    if (!(e_out <= TOL) || !(e_pre <= TOL) || !(worst <= 1e-4) || !same) {
        print_error("gemm_f16 isa %d m %d k %d n %d act %d bias %d: rel_l2 out %.3g pre %.3g, worst %.3g, "
                    "preact-NULL run %s\n",
                    isa, m, k, n, act, bias, e_out, e_pre, worst, same ? "same" : "differs");
        fail();
    }
    /* the same with a per-input-channel scale folded into the weights (an SE
     * gate, ec_gemm_f16_forward_scaled_isa), against the reference on the
     * scaled input; m == 1 takes the blocked path then */
    float *ks = alloc_f((size_t)k), *ins = alloc_f(ni);
    tu_fill(&r, ks, (size_t)k, 0.2f, 1.3f);
    for (size_t i = 0; i < ni; i++) ins[i] = in[i] * ks[i % (size_t)k];
    ec_gemm_f16_forward_scaled_isa(out, in, w, b, &d, pre, ks, isa);
    ref_pwconv_forward(rout, rpre, ins, w, b, &d);
    double e_ks = tu_rel_l2(out, rout, no), e_kspre = tu_rel_l2(pre, rpre, no);
    if (!(e_ks <= TOL) || !(e_kspre <= TOL)) {
        print_error("gemm_f16 scaled isa %d m %d k %d n %d act %d bias %d: rel_l2 out %.3g pre %.3g\n", isa, m, k, n,
                    act, bias, e_ks, e_kspre);
        fail();
    }
    /* + a residual after the epilogue (ec_gemm_f16_forward_res_isa, a
     * folded add): bit-identical to the forward followed by the add op's
     * kernel, with and without the scale (m == 1 without: the GEMV path) */
    float *res = alloc_f(no), *outr = alloc_f(no);
    tu_fill(&r, res, no, -3.0f, 3.0f);
    for (int s = 0; s < 2; s++) {
        const float *kk = s ? ks : NULL;
        ec_gemm_f16_forward_scaled_isa(out, in, w, b, &d, NULL, kk, isa);
        ec_act_add_isa(out, out, res, no, ECW_ACT_NONE, NULL, -1);
        ec_gemm_f16_forward_res_isa(outr, in, w, b, &d, pre, kk, res, isa);
        if (memcmp(out, outr, no * sizeof(float)) != 0) {
            print_error("gemm_f16 + residual isa %d m %d k %d n %d act %d bias %d scaled %d: differs from the "
                        "forward + add\n", isa, m, k, n, act, bias, s);
            fail();
        }
    }
    free(res); free(outr);
    /* the backward-data form (ec_gemm_f16_kn_isa): din [m,k] = dpre [m,n]
     * w [n,k], the stored weights as its [k][n] operand, against the
     * reference backward */
    float *dpre = alloc_f(no), *din = alloc_f(ni), *rdin = alloc_f(ni);
    tu_fill(&r, dpre, no, -1.0f, 1.0f);
    ec_gemm_f16_kn_isa(din, dpre, w, m, n, k, isa);
    ref_pwconv_backward(rdin, dpre, w, &d);
    double e_kn = tu_rel_l2(din, rdin, ni);
    if (!all_finite(din, ni) || !(e_kn <= TOL)) {
        print_error("gemm_f16 kn isa %d m %d k %d n %d: rel_l2 %.3g\n", isa, m, n, k, e_kn);
        fail();
    }
    free(dpre); free(din); free(rdin);
    checked++;
    free(ks); free(ins);
    free(in); free(b); free(w); free(out); free(pre); free(out2); free(rout); free(rpre);
}

static const int shapes[][3] = { /* m, k, n */
    {1, 1, 1},     {1, 7, 13},    {2, 1, 17},    {7, 7, 7},      {13, 17, 13},  {17, 13, 17},
    {49, 49, 49},  {49, 320, 64}, {49, 1152, 320}, {49, 192, 1152}, {12, 16, 32}, {13, 16, 33},
    {25, 31, 47},  {196, 112, 100}, {300, 24, 144}, {600, 16, 96},  {257, 40, 15}, {64, 800, 40},
    {5, 1000, 3},  {100, 3, 1000},
};

static void run_all(int threads) {
    effcam_set_threads(threads);
    int mx = ec_gemm_f16_isa_max();
    if (mx == EC_ISA_SCALAR) {
        tu_skip_note("gemm_f16", "this CPU has no AVX2+FMA+F16C: the kernel is not used");
        return;
    }
    for (int isa = EC_ISA_AVX2; isa <= mx; isa++) {
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            check(shapes[i][0], shapes[i][1], shapes[i][2], (int)(i % ECW_ACT_COUNT), (int)(i % 3 != 2), isa,
                  7 + i + 100 * (uint64_t)isa);
        for (int act = 0; act < ECW_ACT_COUNT; act++) {
            check(49, 37, 70, act, 1, isa, 500 + (uint64_t)act);
            check(13 * 17, 19, 23, act, act & 1, isa, 600 + (uint64_t)act);
        }
        tu_rng r;
        tu_seed(&r, 4242 + (uint64_t)isa + 10 * (uint64_t)threads);
        for (int t = 0; t < 40; t++)
            check(tu_int(&r, 1, 400), tu_int(&r, 1, 300), tu_int(&r, 1, 200), tu_int(&r, 0, ECW_ACT_COUNT - 1),
                  tu_int(&r, 0, 3) != 0, isa, 9000 + (uint64_t)t);
    }
}

static void test_one_thread(void **state) {
    (void)state;
    run_all(1);
}

static void test_two_threads(void **state) {
    (void)state;
    run_all(2);
}

/* ec_gemv_f16 (SE's GEMVs), every level including the portable one */
static void test_gemv(void **state) {
    (void)state;
    const int sizes[][2] = {{1, 1}, {3, 7}, {5, 16}, {9, 17}, {48, 1152}, {1152, 48}, {13, 33}, {100, 250}};
    for (int isa = EC_ISA_SCALAR; isa <= ec_gemm_f16_isa_max(); isa++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            const int n = sizes[s][0], k = sizes[s][1];
            tu_rng r;
            tu_seed(&r, 77 + s);
            float *x = alloc_f((size_t)k), *b = alloc_f((size_t)n), *y = alloc_f((size_t)n), *ry = alloc_f((size_t)n);
            uint16_t *w = malloc((size_t)n * k * sizeof(uint16_t));
            assert_non_null(w);
            tu_fill(&r, x, (size_t)k, -2.0f, 2.0f);
            tu_fill(&r, b, (size_t)n, -1.0f, 1.0f);
            tu_fill_f16(&r, w, (size_t)n * k, -0.5f, 0.5f);
            ec_pw_dims d = {1, k, n, 0, EC_WDT_F16};
            ref_pwconv_forward(ry, NULL, x, w, s & 1 ? b : NULL, &d);
            ec_gemv_f16(y, x, w, s & 1 ? b : NULL, n, k, isa);
            double e = tu_rel_l2(y, ry, (size_t)n);
            if (!(e <= TOL)) {
                print_error("gemv isa %d n %d k %d: rel_l2 %.3g\n", isa, n, k, e);
                fail();
            }
            free(x); free(b); free(y); free(ry); free(w);
        }
}

/* pwconv dispatch: the plan's scratch is 0 exactly where the kernel runs */
static void test_dispatch_scratch(void **state) {
    (void)state;
    ec_pw_dims d1 = {1, 64, 10, 0, EC_WDT_F16}, d49 = {49, 64, 10, 0, EC_WDT_F16};
    const int on = ec_gemm_f16_isa_max() != EC_ISA_SCALAR;
    assert_int_equal(ec_pwconv_uses_gemm_f16(&d1), on);
    assert_int_equal(ec_pwconv_uses_gemm_f16(&d49), on);
    /* elsewhere: the packed weights, 64 x 16 (one 16-column panel) */
    assert_int_equal(ec_pwconv_sgemm_scratch_floats(&d49), 64 * 16);
    assert_int_equal(ec_pwconv_scratch_floats(&d1), on ? 0 : 64 * 16);
    assert_int_equal(ec_pwconv_scratch_floats(&d49), on ? 0 : 64 * 16);
    /* fp32 weights never come here: OpenBLAS in place, no scratch */
    ec_pw_dims f32 = {49, 64, 10, 0, EC_WDT_F32};
    assert_int_equal(ec_pwconv_uses_gemm_f16(&f32), 0);
    assert_int_equal(ec_pwconv_scratch_floats(&f32), 0);
    effcam_set_threads(0);
    print_message("gemm_f16: %d cases checked, best ISA %d\n", checked, ec_gemm_f16_isa_max());
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_thread),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_gemv),
        cmocka_unit_test(test_dispatch_scratch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
