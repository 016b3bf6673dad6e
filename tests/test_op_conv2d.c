/* conv2d kernel vs the naive double reference, plus gradient checks.
 * Scratch is malloc'ed at exactly ec_conv2d_*scratch_floats() floats and
 * filled with NaN, outputs are pre-filled with NaN: an overrun trips ASan,
 * a read of unwritten scratch or a missed output element shows up as NaN.
 * Every check runs with fp16 weights and again with fp32 weights (g_wdt). */
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

typedef struct conv_case {
    int h, w, cin, cout, kh, kw, sh, sw;
    int pt, pl, pb, pr;
    int act;
    int bias; /* 0: NULL bias */
} conv_case;

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

static ec_conv_dims make_dims(const conv_case *c) {
    ec_conv_dims d;
    memset(&d, 0, sizeof d);
    d.h = c->h; d.w = c->w; d.cin = c->cin; d.cout = c->cout;
    d.kh = c->kh; d.kw = c->kw; d.sh = c->sh; d.sw = c->sw;
    d.pt = c->pt; d.pl = c->pl; d.act = c->act;
    d.wdt = g_wdt;
    d.oh = (c->h + c->pt + c->pb - c->kh) / c->sh + 1;
    d.ow = (c->w + c->pl + c->pr - c->kw) / c->sw + 1;
    return d;
}

static void describe(char *buf, size_t n, const conv_case *c, const ec_conv_dims *d) {
    snprintf(buf, n,
             "in %dx%dx%d -> out %dx%dx%d k %dx%d s %dx%d pad t%d l%d b%d r%d act %d bias %d weights %s",
             c->h, c->w, c->cin, d->oh, d->ow, c->cout, c->kh, c->kw, c->sh, c->sw,
             c->pt, c->pl, c->pb, c->pr, c->act, c->bias, d->wdt == EC_WDT_F32 ? "f32" : "f16");
}

/* TF "same": pad_total = max((o-1)*s + k - i, 0), the extra goes bottom/right. */
static conv_case same_case(int h, int w, int cin, int cout, int kh, int kw,
                           int sh, int sw, int act) {
    conv_case c = {h, w, cin, cout, kh, kw, sh, sw, 0, 0, 0, 0, act, 1};
    int oh, ow;
    ref_same_pad(h, kh, sh, &oh, &c.pt);
    ref_same_pad(w, kw, sw, &ow, &c.pl);
    c.pb = (oh - 1) * sh + kh - h - c.pt;
    c.pr = (ow - 1) * sw + kw - w - c.pl;
    if (c.pb < 0) c.pb = 0; /* ow computed by make_dims stays = ceil(w/s) */
    if (c.pr < 0) c.pr = 0;
    return c;
}

static void check_tile_rows(const ec_conv_dims *d, const char *desc) {
    int t = ec_conv2d_tile_rows(d);
    size_t k = (size_t)d->kh * d->kw * d->cin;
    if (t < 1 || t > d->oh || (t > 1 && (size_t)t * d->ow * k * sizeof(float) > EC_CONV_TILE_BYTES)) {
        print_error("tile_rows %d out of range for %s\n", t, desc);
        fail();
    }
    /* deterministic */
    assert_int_equal(t, ec_conv2d_tile_rows(d));
}

typedef struct conv_data {
    ec_conv_dims d;
    size_t n_in, n_out, n_w;
    float *in, *b;
    void *w; /* cd->d.wdt */
} conv_data;

static void make_data(conv_data *cd, const conv_case *c, uint64_t seed) {
    tu_rng r;
    tu_seed(&r, seed);
    cd->d = make_dims(c);
    cd->n_in = (size_t)c->h * c->w * c->cin;
    cd->n_out = (size_t)cd->d.oh * cd->d.ow * c->cout;
    cd->n_w = (size_t)c->cout * c->kh * c->kw * c->cin;
    cd->in = alloc_f(cd->n_in);
    cd->b = c->bias ? alloc_f((size_t)c->cout) : NULL;
    float ws = 1.5f / sqrtf((float)(c->kh * c->kw * c->cin));
    tu_fill(&r, cd->in, cd->n_in, -2.0f, 2.0f);
    cd->w = tu_weights(&r, cd->d.wdt, cd->n_w, -ws, ws);
    if (cd->b) tu_fill(&r, cd->b, (size_t)c->cout, -1.0f, 1.0f);
}

static void free_data(conv_data *cd) {
    free(cd->in);
    free(cd->w);
    free(cd->b);
}

static void run_forward(const conv_data *cd, const float *in, float *out, float *pre) {
    size_t ns = ec_conv2d_scratch_floats(&cd->d);
    float *scratch = alloc_f(ns);
    fill_nan(scratch, ns);
    ec_conv2d_forward(out, in, cd->w, cd->b, &cd->d, scratch, pre);
    free(scratch);
}

static void check_forward(const conv_case *c, uint64_t seed) {
    char desc[256];
    conv_data cd;
    make_data(&cd, c, seed);
    describe(desc, sizeof desc, c, &cd.d);
    assert_true(cd.d.oh >= 1 && cd.d.ow >= 1);
    check_tile_rows(&cd.d, desc);

    float *out = alloc_f(cd.n_out), *pre = alloc_f(cd.n_out);
    float *out2 = alloc_f(cd.n_out);
    float *rout = alloc_f(cd.n_out), *rpre = alloc_f(cd.n_out);
    fill_nan(out, cd.n_out);
    fill_nan(pre, cd.n_out);
    fill_nan(out2, cd.n_out);
    run_forward(&cd, cd.in, out, pre);
    run_forward(&cd, cd.in, out2, NULL);
    ref_conv2d_forward(rout, rpre, cd.in, cd.w, cd.b, &cd.d, 0);

    double e_out = tu_rel_l2(out, rout, cd.n_out);
    double e_pre = tu_rel_l2(pre, rpre, cd.n_out);
    int ok = all_finite(out, cd.n_out) && all_finite(pre, cd.n_out) &&
             e_out <= FWD_TOL && e_pre <= FWD_TOL &&
             memcmp(out, out2, cd.n_out * sizeof(float)) == 0;
    if (!ok) {
        print_error("conv2d forward mismatch (%s): rel_l2 out %.3g pre %.3g, "
                    "max abs %.3g, preact-NULL run %s\n",
                    desc, e_out, e_pre, tu_max_abs_diff(out, rout, cd.n_out),
                    memcmp(out, out2, cd.n_out * sizeof(float)) ? "differs" : "same");
        fail();
    }
    free(out); free(pre); free(out2); free(rout); free(rpre);
    free_data(&cd);
}

/* din from the kernel vs (a) the naive transpose over every element and
 * (b) central differences of L = sum(dpre .* preact) through the real
 * forward kernel at sampled input elements. */
static void check_backward(const conv_case *c, uint64_t seed, int n_samples) {
    char desc[256];
    conv_data cd;
    make_data(&cd, c, seed);
    describe(desc, sizeof desc, c, &cd.d);
    tu_rng r;
    tu_seed(&r, seed ^ 0xABCDEFull);

    float *dpre = alloc_f(cd.n_out);
    tu_fill(&r, dpre, cd.n_out, -1.0f, 1.0f);
    float *din = alloc_f(cd.n_in), *rdin = alloc_f(cd.n_in);
    fill_nan(din, cd.n_in);
    size_t ns = ec_conv2d_backward_scratch_floats(&cd.d);
    float *scratch = alloc_f(ns);
    fill_nan(scratch, ns);
    ec_conv2d_backward(din, dpre, cd.w, &cd.d, scratch);
    free(scratch);
    ref_conv2d_backward(rdin, dpre, cd.w, &cd.d, 0);

    double e = tu_rel_l2(din, rdin, cd.n_in);
    if (!all_finite(din, cd.n_in) || !(e <= FWD_TOL)) {
        print_error("conv2d backward vs reference (%s): rel_l2 %.3g max abs %.3g\n",
                    desc, e, tu_max_abs_diff(din, rdin, cd.n_in));
        fail();
    }

    double gscale = 0;
    for (size_t i = 0; i < cd.n_in; i++) gscale += (double)din[i] * din[i];
    gscale = sqrt(gscale / (double)cd.n_in);

    float *x = alloc_f(cd.n_in), *out = alloc_f(cd.n_out);
    float *pp = alloc_f(cd.n_out), *pm = alloc_f(cd.n_out);
    memcpy(x, cd.in, cd.n_in * sizeof(float));
    for (int s = 0; s < n_samples; s++) {
        size_t i;
        if (s == 0) i = 0;
        else if (s == 1) i = cd.n_in - 1;                       /* bottom-right corner */
        else if (s == 2) i = (size_t)(c->w - 1) * c->cin;        /* top-right pixel */
        else if (s == 3) i = (size_t)(c->h - 1) * c->w * c->cin; /* bottom-left pixel */
        else i = (size_t)(tu_next(&r) % cd.n_in);
        const float eps = 0.05f;
        float x0 = x[i];
        float xp = x0 + eps, xm = x0 - eps;
        x[i] = xp;
        run_forward(&cd, x, out, pp);
        x[i] = xm;
        run_forward(&cd, x, out, pm);
        x[i] = x0;
        double dl = 0;
        for (size_t j = 0; j < cd.n_out; j++) dl += (double)dpre[j] * ((double)pp[j] - (double)pm[j]);
        double fd = dl / ((double)xp - (double)xm);
        double an = din[i];
        if (!(fabs(fd - an) <= FD_TOL * (fabs(an) + gscale))) {
            print_error("conv2d gradient check (%s): input %zu fd %.7g backward %.7g (scale %.3g)\n",
                        desc, i, fd, an, gscale);
            fail();
        }
    }
    free(x); free(out); free(pp); free(pm);
    free(dpre); free(din); free(rdin);
    free_data(&cd);
}

/* ---- shapes ------------------------------------------------------------ */

static conv_case fixed_cases[] = {
    /* odd sizes, 3x3 same, stride 1 */
    {7, 5, 4, 6, 3, 3, 1, 1, 1, 1, 1, 1, ECW_ACT_NONE, 1},
    /* 1x1 input */
    {1, 1, 3, 8, 1, 1, 1, 1, 0, 0, 0, 0, ECW_ACT_RELU, 1},
    {1, 1, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, ECW_ACT_SILU, 1},
    /* 1x1 kernels: direct path, with and without bias; stride 2 (im2col) */
    {6, 7, 16, 24, 1, 1, 1, 1, 0, 0, 0, 0, ECW_ACT_SILU, 0},
    {9, 9, 8, 12, 1, 1, 2, 2, 0, 0, 0, 0, ECW_ACT_NONE, 1},
    /* 1x1 stride 1 with a cropped last row (oh < h): still direct */
    {6, 5, 4, 3, 1, 1, 1, 1, 0, 0, -1, 0, ECW_ACT_NONE, 1},
    /* 1x1 kernel with padding: im2col path */
    {4, 5, 3, 4, 1, 1, 1, 1, 1, 2, 0, 1, ECW_ACT_RELU6, 1},
    /* non-square kernels */
    {13, 29, 6, 5, 1, 3, 1, 1, 0, 1, 0, 1, ECW_ACT_HSWISH, 1},
    {13, 29, 6, 5, 3, 1, 1, 1, 1, 0, 1, 0, ECW_ACT_SIGMOID, 1},
    {11, 10, 3, 4, 1, 3, 1, 2, 0, 1, 0, 1, ECW_ACT_NONE, 1},
    /* torch-style symmetric pad, stride 2, cin = 3 stem */
    {13, 29, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1, ECW_ACT_SILU, 1},
    /* few input channels (conv2d_direct.c): the b0 / v2_s stems (32, 24
     * channels: two vectors, the second partial), 40 channels (a second
     * block of one vector), cin 1 and 4, 5x5 stride 1, TF-style padding */
    {37, 43, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1, ECW_ACT_SILU, 1},
    {31, 26, 3, 24, 3, 3, 2, 2, 0, 0, 1, 1, ECW_ACT_SILU, 0},
    {17, 23, 3, 40, 3, 3, 1, 1, 1, 1, 1, 1, ECW_ACT_HSWISH, 1},
    {19, 17, 1, 33, 5, 5, 1, 1, 2, 2, 2, 2, ECW_ACT_RELU, 1},
    {12, 21, 4, 7, 5, 3, 2, 1, 2, 1, 2, 1, ECW_ACT_NONE, 1},
    /* valid padding, unused trailing rows/cols */
    {8, 8, 5, 6, 3, 3, 2, 2, 0, 0, 0, 0, ECW_ACT_RELU, 1},
    {9, 8, 5, 6, 3, 3, 1, 1, 0, 0, 0, 0, ECW_ACT_HSIGMOID, 1},
    /* odd asymmetric explicit padding */
    {7, 9, 4, 5, 3, 3, 1, 2, 2, 0, 0, 1, ECW_ACT_NONE, 1},
    /* padding as large as the kernel: whole output rows see only zeros */
    {5, 6, 2, 3, 3, 3, 1, 1, 3, 3, 3, 3, ECW_ACT_SILU, 1},
    /* even kernels */
    {10, 9, 3, 4, 2, 2, 1, 1, 0, 0, 1, 1, ECW_ACT_NONE, 1},
    {10, 9, 3, 4, 4, 4, 2, 2, 1, 1, 2, 2, ECW_ACT_RELU, 1},
    /* one very wide row: the im2col tile is a single output row */
    {4, 200, 96, 8, 3, 3, 1, 1, 1, 1, 1, 1, ECW_ACT_SILU, 1},
};

static conv_case same_cases(int i) {
    switch (i) {
    case 0: return same_case(14, 28, 3, 16, 3, 3, 2, 2, ECW_ACT_SILU);  /* stem, odd pad_total */
    case 1: return same_case(17, 16, 5, 7, 5, 5, 2, 2, ECW_ACT_NONE);   /* 5x5 s2, pad 4 / 3 */
    case 2: return same_case(13, 29, 3, 32, 3, 3, 2, 2, ECW_ACT_RELU6); /* stem on odd size */
    case 3: return same_case(12, 11, 4, 6, 4, 4, 1, 1, ECW_ACT_HSWISH); /* even k, pad 1/2 */
    case 4: return same_case(9, 7, 6, 6, 5, 5, 1, 1, ECW_ACT_SIGMOID);
    case 5: return same_case(2, 3, 3, 4, 5, 5, 2, 2, ECW_ACT_NONE);     /* kernel > input */
    case 6: return same_case(8, 10, 3, 8, 1, 3, 2, 2, ECW_ACT_NONE);    /* 1x3 s2 */
    default: return same_case(75, 75, 24, 16, 3, 3, 1, 1, ECW_ACT_SILU); /* many tiles */
    }
}
#define N_SAME 8

static conv_case random_case(tu_rng *r) {
    static const int ks[] = {1, 2, 3, 5};
    conv_case c;
    c.h = tu_int(r, 1, 19);
    c.w = tu_int(r, 1, 19);
    c.cin = tu_int(r, 1, 12);
    c.cout = tu_int(r, 1, 20);
    c.kh = ks[tu_int(r, 0, 3)];
    c.kw = tu_int(r, 0, 3) == 0 ? ks[tu_int(r, 0, 3)] : c.kh;
    c.sh = tu_int(r, 1, 2);
    c.sw = tu_int(r, 0, 3) == 0 ? 3 - c.sh : c.sh;
    c.act = tu_int(r, 0, ECW_ACT_COUNT - 1);
    c.bias = tu_int(r, 0, 4) != 0;
    int mode = tu_int(r, 0, 2);
    if (mode == 0) {
        conv_case s = same_case(c.h, c.w, c.cin, c.cout, c.kh, c.kw, c.sh, c.sw, c.act);
        c.pt = s.pt; c.pl = s.pl; c.pb = s.pb; c.pr = s.pr;
    } else if (mode == 1) {
        c.pt = c.pb = c.kh / 2;
        c.pl = c.pr = c.kw / 2;
    } else {
        c.pt = tu_int(r, 0, c.kh - 1); c.pb = tu_int(r, 0, c.kh - 1);
        c.pl = tu_int(r, 0, c.kw - 1); c.pr = tu_int(r, 0, c.kw - 1);
    }
    /* need at least one output row / column */
    if (c.h + c.pt + c.pb < c.kh) c.pb = c.kh - c.h - c.pt;
    if (c.w + c.pl + c.pr < c.kw) c.pr = c.kw - c.w - c.pl;
    return c;
}

/* ---- tests ------------------------------------------------------------- */

static void test_forward_fixed(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof fixed_cases / sizeof fixed_cases[0]; i++)
        check_forward(&fixed_cases[i], 100 + i);
    for (int i = 0; i < N_SAME; i++) {
        conv_case c = same_cases(i);
        check_forward(&c, 200 + (uint64_t)i);
    }
}

static void test_forward_every_act(void **state) {
    (void)state;
    for (int act = 0; act < ECW_ACT_COUNT; act++) {
        conv_case a = same_case(11, 13, 5, 9, 3, 3, 2, 2, act);
        check_forward(&a, 300 + (uint64_t)act);
        conv_case b = same_case(9, 6, 3, 12, 3, 3, 1, 1, act);
        b.bias = 0;
        check_forward(&b, 320 + (uint64_t)act);
        conv_case c = {5, 7, 6, 10, 1, 1, 1, 1, 0, 0, 0, 0, act, 1}; /* direct path */
        check_forward(&c, 340 + (uint64_t)act);
    }
}

static void test_forward_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 4242);
    for (int i = 0; i < 120; i++) {
        conv_case c = random_case(&r);
        check_forward(&c, 1000 + (uint64_t)i);
    }
}

static void test_multi_tile(void **state) {
    (void)state;
    /* cout below EC_WINO_MIN_C: the im2col path (3x3 stride-1 convs with
     * more channels go to Winograd, tests/test_op_winograd.c) */
    conv_case c = same_case(75, 75, 24, EC_WINO_MIN_C - 4, 3, 3, 1, 1, ECW_ACT_NONE);
    ec_conv_dims d = make_dims(&c);
    assert_false(ec_conv2d_winograd_ok(&d));
    int t = ec_conv2d_tile_rows(&d);
    /* this shape must be split into several tiles, or the test is moot */
    assert_true(t >= 1 && t < d.oh);
    assert_true((size_t)t * d.ow * 216 * sizeof(float) <= EC_CONV_TILE_BYTES);
    /* scratch = widened / packed weights (fp16 only) + one im2col tile */
    size_t wf = g_wdt == EC_WDT_F32 ? 0 : ec_gemm_packed_floats(216, c.cout);
    assert_int_equal(ec_conv2d_scratch_floats(&d), wf + (size_t)t * d.ow * 216);
    assert_int_equal(ec_conv2d_backward_scratch_floats(&d), wf + (size_t)t * d.ow * 216);
    check_forward(&c, 77);
    /* a stride-2 shape with several tiles */
    conv_case c2 = same_case(96, 80, 24, 8, 5, 5, 2, 2, ECW_ACT_RELU);
    ec_conv_dims d2 = make_dims(&c2);
    assert_true(ec_conv2d_tile_rows(&d2) < d2.oh);
    check_forward(&c2, 78);
    check_backward(&c, 79, 8);
    check_backward(&c2, 80, 8);
}

static void test_backward_fixed(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof fixed_cases / sizeof fixed_cases[0]; i++)
        check_backward(&fixed_cases[i], 500 + i, 10);
    for (int i = 0; i < N_SAME - 1; i++) { /* the 75x75 case runs in test_multi_tile */
        conv_case c = same_cases(i);
        check_backward(&c, 600 + (uint64_t)i, 10);
    }
}

static void test_backward_random(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 777);
    for (int i = 0; i < 40; i++) {
        conv_case c = random_case(&r);
        check_backward(&c, 2000 + (uint64_t)i, 6);
    }
}

/* The depthwise mode of the reference (for the dwconv tests) must equal the
 * dense reference with block-diagonal weights, forward and backward. */
static void test_ref_depthwise_consistent(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 4321);
    for (int it = 0; it < 12; it++) {
        conv_case c = random_case(&r);
        c.cout = c.cin;
        ec_conv_dims d = make_dims(&c);
        size_t n_in = (size_t)c.h * c.w * c.cin, n_out = (size_t)d.oh * d.ow * c.cout;
        size_t n_dw = (size_t)c.kh * c.kw * c.cin, n_full = n_dw * c.cin;
        float *in = alloc_f(n_in), *b = alloc_f((size_t)c.cin), *dpre = alloc_f(n_out);
        uint16_t *wd = malloc(n_dw * sizeof(uint16_t)), *wf = calloc(n_full, sizeof(uint16_t));
        assert_true(wd && wf);
        tu_fill(&r, in, n_in, -1.0f, 1.0f);
        tu_fill(&r, b, (size_t)c.cin, -1.0f, 1.0f);
        tu_fill(&r, dpre, n_out, -1.0f, 1.0f);
        tu_fill_f16(&r, wd, n_dw, -1.0f, 1.0f);
        for (int ky = 0; ky < c.kh; ky++)
            for (int kx = 0; kx < c.kw; kx++)
                for (int ch = 0; ch < c.cin; ch++)
                    wf[(((size_t)ch * c.kh + ky) * c.kw + kx) * c.cin + ch] =
                        wd[((size_t)ky * c.kw + kx) * c.cin + ch];
        float *o1 = alloc_f(n_out), *o2 = alloc_f(n_out), *p1 = alloc_f(n_out), *p2 = alloc_f(n_out);
        float *g1 = alloc_f(n_in), *g2 = alloc_f(n_in);
        ref_conv2d_forward(o1, p1, in, wd, b, &d, 1);
        ref_conv2d_forward(o2, p2, in, wf, b, &d, 0);
        ref_conv2d_backward(g1, dpre, wd, &d, 1);
        ref_conv2d_backward(g2, dpre, wf, &d, 0);
        assert_memory_equal(o1, o2, n_out * sizeof(float));
        assert_memory_equal(p1, p2, n_out * sizeof(float));
        assert_memory_equal(g1, g2, n_in * sizeof(float));
        free(in); free(b); free(dpre); free(wd); free(wf);
        free(o1); free(o2); free(p1); free(p2); free(g1); free(g2);
    }
}

/* The same checks with fp32 weights, used in place (no widening scratch). */
static void test_f32_weights(void **state) {
    g_wdt = EC_WDT_F32;
    conv_case c = {6, 7, 16, 24, 1, 1, 1, 1, 0, 0, 0, 0, ECW_ACT_SILU, 0}; /* direct */
    ec_conv_dims d = make_dims(&c);
    assert_int_equal(ec_conv2d_scratch_floats(&d), 0);
    assert_int_equal(ec_conv2d_backward_scratch_floats(&d), 0);
    test_forward_fixed(state);
    test_forward_every_act(state);
    test_forward_random(state);
    test_multi_tile(state);
    test_backward_fixed(state);
    test_backward_random(state);
    g_wdt = EC_WDT_F16;
}

/* OpenBLAS (as on CPUs without AVX-512) and 2 threads on the same shapes. */
static void test_paths_threads(void **state) {
    for (int own = 0; own <= 1; own++)
        for (int threads = 1; threads <= 2; threads++) {
            ec_gemm_enable(own);
            ec_pool_set_threads(threads);
            test_forward_fixed(state);
            test_forward_random(state);
            test_multi_tile(state);
            test_backward_fixed(state);
        }
    ec_gemm_enable(1);
    ec_pool_set_threads(1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths_threads),
        cmocka_unit_test(test_forward_fixed),
        cmocka_unit_test(test_forward_every_act),
        cmocka_unit_test(test_forward_random),
        cmocka_unit_test(test_multi_tile),
        cmocka_unit_test(test_backward_fixed),
        cmocka_unit_test(test_backward_random),
        cmocka_unit_test(test_ref_depthwise_consistent),
        cmocka_unit_test(test_f32_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
