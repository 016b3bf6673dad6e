/* Winograd F(4x4, 3x3) (lib/ops/conv3x3_winograd.c), forward and
 * backward-data, vs the naive double reference (tests/support/ref_conv.c)
 * and vs the im2col path, at 1 and 2 threads.
 *
 * Scratch is malloc'ed at exactly the planned number of floats and filled
 * with NaN; outputs are pre-filled with NaN: an overrun trips ASan, a read
 * of unwritten scratch or a missed output element shows as NaN.
 *
 * Tolerance: rel L2 <= WINO_TOL = 2e-5 against the double reference (the
 * im2col path is held to 1e-5 in test_op_conv2d.c). F(4,3)'s transforms
 * multiply and then cancel values up to 8x (the +-2 / +-1/2 points), so
 * the fp32 rounding is ~10x that of a direct dot product; the errors
 * measured over the shapes below are printed at the end (observed: a few
 * 1e-7, see the output), comfortably inside the bound. End to end, the
 * PyTorch bounds of test_torch_refs.c (logits and taps rel L2 <= 1e-4,
 * Grad-CAM maps <= 1e-3) are unchanged and still pass. */
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

#define WINO_TOL 2e-5

static double g_max_fwd, g_max_bwd;

typedef struct wcase {
    int h, w, cin, cout;
    int pt, pl, pb, pr;
    int act, bias;
} wcase;

static float *alloc_f(size_t n) {
    float *p = malloc((n ? n : 1) * sizeof(float));
    assert_non_null(p);
    return p;
}

static void fill_nan(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = NAN;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

static ec_conv_dims dims_of(const wcase *c) {
    ec_conv_dims d;
    memset(&d, 0, sizeof d);
    d.h = c->h; d.w = c->w; d.cin = c->cin; d.cout = c->cout;
    d.kh = d.kw = 3; d.sh = d.sw = 1;
    d.pt = c->pt; d.pl = c->pl; d.act = c->act;
    d.oh = c->h + c->pt + c->pb - 2;
    d.ow = c->w + c->pl + c->pr - 2;
    return d;
}

/* TF "same" at stride 1: total 2, top / left 1 */
static wcase same(int h, int w, int cin, int cout, int act) {
    wcase c = {h, w, cin, cout, 1, 1, 1, 1, act, 1};
    int o;
    ref_same_pad(h, 3, 1, &o, &c.pt);
    c.pb = (o - 1) + 3 - h - c.pt;
    ref_same_pad(w, 3, 1, &o, &c.pl);
    c.pr = (o - 1) + 3 - w - c.pl;
    return c;
}

static void check_case(const wcase *c, uint64_t seed) {
    ec_conv_dims d = dims_of(c);
    char desc[200];
    snprintf(desc, sizeof desc, "%dx%dx%d -> %dx%dx%d pad t%d l%d b%d r%d act %d bias %d", c->h, c->w, c->cin,
             d.oh, d.ow, c->cout, c->pt, c->pl, c->pb, c->pr, c->act, c->bias);
    assert_true(d.oh >= 1 && d.ow >= 1);
    assert_true(ec_conv2d_winograd_ok(&d));
    /* the dispatch plans (and runs) the Winograd scratch */
    assert_int_equal(ec_conv2d_scratch_floats(&d), ec_conv3x3_wino_scratch_floats(&d));
    assert_int_equal(ec_conv2d_backward_scratch_floats(&d), ec_conv3x3_wino_backward_scratch_floats(&d));

    tu_rng r;
    tu_seed(&r, seed);
    const size_t n_in = (size_t)c->h * c->w * c->cin, n_out = (size_t)d.oh * d.ow * c->cout;
    const size_t n_w = (size_t)c->cout * 9 * c->cin;
    float *in = alloc_f(n_in), *b = c->bias ? alloc_f((size_t)c->cout) : NULL, *dpre = alloc_f(n_out);
    uint16_t *w = malloc(n_w * sizeof(uint16_t));
    assert_non_null(w);
    float ws = 1.5f / sqrtf(9.0f * (float)c->cin);
    tu_fill(&r, in, n_in, -2.0f, 2.0f);
    tu_fill_f16(&r, w, n_w, -ws, ws);
    if (b) tu_fill(&r, b, (size_t)c->cout, -1.0f, 1.0f);
    tu_fill(&r, dpre, n_out, -1.0f, 1.0f);

    float *rout = alloc_f(n_out), *rpre = alloc_f(n_out), *rdin = alloc_f(n_in);
    ref_conv2d_forward(rout, rpre, in, w, b, &d, 0);
    ref_conv2d_backward(rdin, dpre, w, &d, 0);

    float *out1 = NULL, *din1 = NULL;
    for (int threads = 1; threads <= 2; threads++) {
        ec_pool_set_threads(threads);
        /* forward, with and without preact */
        size_t ns = ec_conv3x3_wino_scratch_floats(&d);
        float *s = alloc_f(ns), *out = alloc_f(n_out), *pre = alloc_f(n_out), *out2 = alloc_f(n_out);
        fill_nan(s, ns); fill_nan(out, n_out); fill_nan(pre, n_out); fill_nan(out2, n_out);
        ec_conv2d_forward(out, in, w, b, &d, s, pre);
        fill_nan(s, ns);
        ec_conv3x3_wino_forward(out2, in, w, b, &d, s, NULL);
        double eo = tu_rel_l2(out, rout, n_out), ep = tu_rel_l2(pre, rpre, n_out);
        if (eo > g_max_fwd) g_max_fwd = eo;
        if (ep > g_max_fwd) g_max_fwd = ep;
        if (!all_finite(out, n_out) || !all_finite(pre, n_out) || !(eo <= WINO_TOL) || !(ep <= WINO_TOL) ||
            memcmp(out, out2, n_out * sizeof(float)) != 0) {
            print_error("winograd forward (%s, %d thr): rel_l2 out %.3g pre %.3g max abs %.3g, no-preact run %s\n",
                        desc, threads, eo, ep, tu_max_abs_diff(out, rout, n_out),
                        memcmp(out, out2, n_out * sizeof(float)) ? "differs" : "same");
            fail();
        }
        /* U computed once (at load) instead: scratch smaller by exactly U,
         * bit-identical output; U and the scratch's end checked untouched */
        {
            ec_conv_dims dp = d;
            const size_t nu = ec_conv3x3_wino_u_floats(c->cin, c->cout);
            float *U = aligned_alloc(64, (nu * sizeof(float) + 63) / 64 * 64);
            assert_non_null(U);
            ec_conv3x3_wino_pack_u(U, w, c->cin, c->cout);
            float *U2 = alloc_f(nu);
            memcpy(U2, U, nu * sizeof(float));
            dp.wino_pre = 1;
            dp.wino_u = U;
            const size_t np = ec_conv2d_scratch_floats(&dp);
            assert_int_equal(np + nu, ns);
            float *sp = alloc_f(np + 16), *outp = alloc_f(n_out);
            fill_nan(sp, np + 16); fill_nan(outp, n_out);
            ec_conv2d_forward(outp, in, w, b, &dp, sp, NULL);
            for (size_t i = np; i < np + 16; i++) assert_true(isnan(sp[i]));
            assert_memory_equal(U, U2, nu * sizeof(float));
            if (memcmp(out, outp, n_out * sizeof(float)) != 0) {
                print_error("winograd forward with U from load (%s, %d thr): differs\n", desc, threads);
                fail();
            }
            free(U); free(U2); free(sp); free(outp);
        }
        /* same result at any thread count (tasks do not depend on it) */
        if (!out1) {
            out1 = out;
        } else {
            assert_memory_equal(out1, out, n_out * sizeof(float));
            free(out);
        }
        free(s); free(pre); free(out2);

        /* backward */
        ns = ec_conv3x3_wino_backward_scratch_floats(&d);
        s = alloc_f(ns);
        float *din = alloc_f(n_in);
        fill_nan(s, ns); fill_nan(din, n_in);
        ec_conv2d_backward(din, dpre, w, &d, s);
        double eb = tu_rel_l2(din, rdin, n_in);
        if (eb > g_max_bwd) g_max_bwd = eb;
        if (!all_finite(din, n_in) || !(eb <= WINO_TOL)) {
            print_error("winograd backward (%s, %d thr): rel_l2 %.3g max abs %.3g\n", desc, threads, eb,
                        tu_max_abs_diff(din, rdin, n_in));
            fail();
        }
        if (!din1) {
            din1 = din;
        } else {
            assert_memory_equal(din1, din, n_in * sizeof(float));
            free(din);
        }
        free(s);
    }

    /* every instruction-set level the CPU has (transforms + GEMM blocks) */
    for (int isa = EC_ISA_SCALAR; isa <= ec_isa_max(); isa++) {
        size_t nf = ec_conv3x3_wino_scratch_floats(&d), nb = ec_conv3x3_wino_backward_scratch_floats(&d);
        float *sf = alloc_f(nf), *sb = alloc_f(nb), *o = alloc_f(n_out), *pr = alloc_f(n_out), *dn = alloc_f(n_in);
        fill_nan(sf, nf); fill_nan(sb, nb); fill_nan(o, n_out); fill_nan(pr, n_out); fill_nan(dn, n_in);
        ec_conv3x3_wino_forward_isa(o, in, w, b, &d, sf, pr, isa);
        ec_conv3x3_wino_backward_isa(dn, dpre, w, &d, sb, isa);
        double eo = tu_rel_l2(o, rout, n_out), ep = tu_rel_l2(pr, rpre, n_out), eb = tu_rel_l2(dn, rdin, n_in);
        if (eo > g_max_fwd) g_max_fwd = eo;
        if (eb > g_max_bwd) g_max_bwd = eb;
        if (!all_finite(o, n_out) || !all_finite(dn, n_in) || !(eo <= WINO_TOL) || !(ep <= WINO_TOL) ||
            !(eb <= WINO_TOL)) {
            print_error("winograd isa %d (%s): rel_l2 out %.3g pre %.3g din %.3g\n", isa, desc, eo, ep, eb);
            fail();
        }
        free(sf); free(sb); free(o); free(pr); free(dn);
    }

    /* the im2col fallback agrees too */
    size_t ns = ec_conv2d_im2col_scratch_floats(&d);
    float *s = alloc_f(ns), *o2 = alloc_f(n_out), *p2 = alloc_f(n_out), *dn2 = alloc_f(n_in);
    fill_nan(s, ns);
    ec_conv2d_im2col_forward(o2, in, w, b, &d, s, p2);
    ec_conv2d_im2col_backward(dn2, dpre, w, &d, s);
    assert_true(tu_rel_l2(out1, o2, n_out) <= WINO_TOL);
    assert_true(tu_rel_l2(din1, dn2, n_in) <= WINO_TOL);
    free(s); free(o2); free(p2); free(dn2);

    free(out1); free(din1);
    free(in); free(b); free(dpre); free(w); free(rout); free(rpre); free(rdin);
}

static void test_fixed(void **state) {
    (void)state;
    const wcase fixed[] = {
        /* one tile, smaller than a tile, odd sizes */
        {1, 1, 16, 16, 1, 1, 1, 1, ECW_ACT_NONE, 0},
        {3, 2, 17, 19, 1, 1, 1, 1, ECW_ACT_SILU, 1},
        {4, 4, 16, 24, 1, 1, 1, 1, ECW_ACT_RELU, 1},
        {7, 5, 20, 33, 1, 1, 1, 1, ECW_ACT_NONE, 1},
        /* valid padding: output smaller than the input */
        {9, 8, 24, 16, 0, 0, 0, 0, ECW_ACT_HSIGMOID, 1},
        /* asymmetric explicit padding, backward pad 2 - p */
        {7, 9, 16, 21, 2, 0, 0, 1, ECW_ACT_NONE, 1},
        {11, 6, 18, 16, 0, 2, 2, 0, ECW_ACT_RELU6, 0},
        /* padding larger than the kernel reach: zero rows / columns */
        {5, 6, 16, 17, 3, 3, 3, 3, ECW_ACT_SILU, 1},
        /* channels not multiples of 8 / 16 */
        {13, 10, 23, 41, 1, 1, 1, 1, ECW_ACT_HSWISH, 1},
        {6, 14, 57, 19, 1, 1, 1, 1, ECW_ACT_SIGMOID, 1},
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) check_case(&fixed[i], 100 + i);
    for (int act = 0; act < ECW_ACT_COUNT; act++) {
        wcase c = same(9, 11, 16, 18, act);
        check_case(&c, 200 + (uint64_t)act);
    }
}

/* The shapes of EfficientNetV2-S features.1-3 (scaled down in h, w) and
 * shapes with several sections of tasks. */
static void test_model_shapes(void **state) {
    (void)state;
    wcase a = same(38, 38, 24, 24, ECW_ACT_SILU);
    wcase b = same(19, 21, 48, 192, ECW_ACT_SILU);
    wcase c = same(10, 9, 64, 256, ECW_ACT_SILU);
    wcase d = same(61, 57, 16, 16, ECW_ACT_NONE);
    /* 3 blocks of output channels, the last one partial, over several sections */
    wcase e = same(29, 23, 45, 77, ECW_ACT_HSWISH);
    check_case(&a, 301);
    check_case(&b, 302);
    check_case(&c, 303);
    check_case(&d, 304);
    check_case(&e, 305);
}

static void test_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 9191);
    for (int i = 0; i < 40; i++) {
        wcase c;
        c.h = tu_int(&r, 1, 23);
        c.w = tu_int(&r, 1, 23);
        c.cin = tu_int(&r, EC_WINO_MIN_C, 45);
        c.cout = tu_int(&r, EC_WINO_MIN_C, 45);
        c.act = tu_int(&r, 0, ECW_ACT_COUNT - 1);
        c.bias = tu_int(&r, 0, 3) != 0;
        if (tu_int(&r, 0, 1)) {
            c = same(c.h, c.w, c.cin, c.cout, c.act);
        } else {
            c.pt = tu_int(&r, 0, 2); c.pb = tu_int(&r, 0, 2);
            c.pl = tu_int(&r, 0, 2); c.pr = tu_int(&r, 0, 2);
            if (c.h + c.pt + c.pb < 3) c.pb = 3 - c.h - c.pt;
            if (c.w + c.pl + c.pr < 3) c.pr = 3 - c.w - c.pl;
        }
        check_case(&c, 1000 + (uint64_t)i);
    }
}

/* What the dispatch sends where. */
static void test_dispatch(void **state) {
    (void)state;
    wcase c = same(8, 8, 16, 16, 0);
    ec_conv_dims d = dims_of(&c);
    assert_true(ec_conv2d_winograd_ok(&d));
    d.cin = EC_WINO_MIN_C - 1;
    assert_false(ec_conv2d_winograd_ok(&d));
    d = dims_of(&c);
    d.cout = EC_WINO_MIN_C - 1;
    assert_false(ec_conv2d_winograd_ok(&d));
    d = dims_of(&c);
    d.sh = 2;
    assert_false(ec_conv2d_winograd_ok(&d));
    d = dims_of(&c);
    d.kw = 5;
    assert_false(ec_conv2d_winograd_ok(&d));
    /* the scratch does not depend on the thread count */
    d = dims_of(&c);
    ec_pool_set_threads(1);
    size_t s1 = ec_conv2d_scratch_floats(&d);
    ec_pool_set_threads(2);
    assert_int_equal(s1, ec_conv2d_scratch_floats(&d));
}

/* The portable GEMM blocks (as on CPUs without AVX-512) on the same shapes. */
static void test_without_gemm_ok(void **state) {
    ec_gemm_enable(0);
    test_fixed(state);
    test_model_shapes(state);
    ec_gemm_enable(1);
}

static int report(void **state) {
    (void)state;
    printf("winograd: max rel L2 vs the double reference: forward %.3g, backward %.3g (bound %.1g)\n", g_max_fwd,
           g_max_bwd, WINO_TOL);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_model_shapes),
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_without_gemm_ok),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
