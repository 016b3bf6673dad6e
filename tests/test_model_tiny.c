/* End-to-end on a C-built model (every op type, fused activations, TF-same
 * and explicit asymmetric padding, SE, residual, pre-BN / pre-activation
 * taps) against the independent double-precision interpreter, at the
 * model's size and at odd, non-square sizes. */
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
#include "internal.h" /* the plan's buffers: is the SE output folded? */
#include "ref_model.h"
#include "test_util.h"

static const int k_sizes[][2] = {{32, 32}, {37, 53}, {53, 37}, {9, 7}, {64, 48}, {5, 5}, {101, 3 * 33}};

/* weights: TB_WEIGHTS_* (the tiny model's weight dtypes) */
static void run_case_weights(uint64_t seed, int h, int w, const char *tap, int weights) {
    uint8_t *file;
    size_t size;
    tb_build_tiny_weights(seed, 32, 32, 6, weights, &file, &size);
    effcam_spec spec = {.height = h, .width = w, .layer = tap};
    effcam_model *m;
    effcam_ctx *ctx;
    effcam_error err;
    effcam_status st = effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, &err);
    if (st) fprintf(stderr, "load %dx%d: %s: %s\n", h, w, effcam_strerror(st), err.message);
    assert_int_equal(st, EFFCAM_OK);
    tu_rng r;
    tu_seed(&r, seed * 7 + (uint64_t)h * 131 + (uint64_t)w);
    size_t n = (size_t)h * w * 3;
    float *x = malloc(n * sizeof(float));
    tu_fill(&r, x, n, 0.0f, 255.0f);
    assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
    float ref[6];
    float *tref = NULL;
    int th = 0, tw = 0, tc = 0;
    assert_int_equal(ref_model_run(file, h, w, x, ref, tap, tap ? &tref : NULL, &th, &tw, &tc), 0);
    double e = tu_rel_l2(effcam_logits(ctx), ref, 6);
    if (e > 1e-5) fprintf(stderr, "%dx%d tap %s weights %d: logits rel L2 %.3g\n", h, w, tap ? tap : "-", weights, e);
    assert_true(e <= 1e-5);
    /* probabilities sum to 1 and follow the logits */
    const float *p = effcam_probs(ctx);
    double s = 0;
    for (int c = 0; c < 6; c++) s += p[c];
    assert_true(s > 0.99999 && s < 1.00001);
    int top[3];
    float tp[3];
    assert_int_equal(effcam_top_k(ctx, 3, top, tp), 3);
    assert_true(tp[0] >= tp[1] && tp[1] >= tp[2]);
    for (int c = 0; c < 6; c++) assert_true(effcam_logits(ctx)[c] <= effcam_logits(ctx)[top[0]]);
    if (tap) {
        const float *a;
        int ah, aw, ac;
        assert_int_equal(effcam_tap_output(ctx, &a, &ah, &aw, &ac), EFFCAM_OK);
        assert_int_equal(ah, th);
        assert_int_equal(aw, tw);
        assert_int_equal(ac, tc);
        double te = tu_rel_l2(a, tref, (size_t)th * tw * tc);
        if (te > 1e-5) fprintf(stderr, "%dx%d tap %s weights %d: rel L2 %.3g\n", h, w, tap, weights, te);
        assert_true(te <= 1e-5);
    }
    free(tref);
    free(x);
    effcam_free(m);
    free(file);
}

static void run_case(uint64_t seed, int h, int w, const char *tap) {
    run_case_weights(seed, h, w, tap, TB_WEIGHTS_F16);
}

static void test_sizes(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof k_sizes / sizeof k_sizes[0]; i++) run_case(1 + i, k_sizes[i][0], k_sizes[i][1], NULL);
}

static void test_taps(void **state) {
    (void)state;
    const char *taps[] = {"stem", "block1", "top_conv", "top_bn", "top", "pool", "b1_se", "b1_project", "block1_pre"};
    for (size_t t = 0; t < 9; t++) {
        run_case(11 + t, 32, 32, taps[t]);
        run_case(21 + t, 37, 29, taps[t]);
    }
}

/* The same model with f32 weights, and with a mix of f16 and f32 weight
 * tensors, against the interpreter (which reads each tensor's dtype). */
static void test_f32_and_mixed_weights(void **state) {
    (void)state;
    const char *taps[] = {NULL, "stem", "block1", "top_conv", "top_bn", "top", "pool", "b1_se", "b1_project"};
    for (int weights = TB_WEIGHTS_F32; weights <= TB_WEIGHTS_MIXED; weights++) {
        for (size_t i = 0; i < sizeof k_sizes / sizeof k_sizes[0]; i++)
            run_case_weights(31 + i, k_sizes[i][0], k_sizes[i][1], NULL, weights);
        for (size_t t = 0; t < 9; t++) run_case_weights(41 + t, 37, 29, taps[t], weights);
    }
    /* f32 weights are not rounded: the f16 and f32 models differ */
    uint8_t *f16, *f32;
    size_t n16, n32;
    tb_build_tiny_weights(5, 32, 32, 6, TB_WEIGHTS_F16, &f16, &n16);
    tb_build_tiny_weights(5, 32, 32, 6, TB_WEIGHTS_F32, &f32, &n32);
    assert_true(n32 > n16);
    float x[32 * 32 * 3], l16[6], l32[6];
    tu_rng r;
    tu_seed(&r, 6);
    tu_fill(&r, x, sizeof x / sizeof x[0], 0.0f, 255.0f);
    effcam_model *m;
    effcam_ctx *ctx;
    assert_int_equal(effcam_load_memory(f16, n16, NULL, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    assert_int_equal(effcam_predict_f32(ctx, x, 32, 32, 0), EFFCAM_OK);
    memcpy(l16, effcam_logits(ctx), sizeof l16);
    effcam_free(m);
    assert_int_equal(effcam_load_memory(f32, n32, NULL, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    assert_int_equal(effcam_predict_f32(ctx, x, 32, 32, 0), EFFCAM_OK);
    memcpy(l32, effcam_logits(ctx), sizeof l32);
    effcam_free(m);
    double d = tu_rel_l2(l32, l16, 6);
    fprintf(stderr, "tiny model, f32 vs f16 weights: logits rel L2 %.2e\n", d);
    assert_true(d > 0 && d < 1e-2);
    free(f16);
    free(f32);
}

/* The SE gate folded into the projection after it (plan.c, fold_se_gates):
 * the SE output is not materialised unless something reads it, the results
 * match the materialised path, and f32 projections are never folded. */
static int se_output_bytes(const uint8_t *file, size_t size, const char *tap, float *logits) {
    effcam_spec spec = {.height = 37, .width = 29, .layer = tap};
    effcam_model *m;
    effcam_ctx *ctx;
    assert_int_equal(effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    int se = -1;
    for (uint32_t i = 0; i < m->L.n_ops && se < 0; i++)
        if (m->ops[i].type == ECW_OP_SE) se = (int)i;
    assert_true(se >= 0);
    float x[37 * 29 * 3];
    tu_rng r;
    tu_seed(&r, 77);
    tu_fill(&r, x, sizeof x / sizeof x[0], 0.0f, 255.0f);
    assert_int_equal(effcam_predict_f32(ctx, x, 37, 29, 0), EFFCAM_OK);
    memcpy(logits, effcam_logits(ctx), 6 * sizeof(float));
    int bytes = (int)ctx->bufs[se + 1].bytes;
    effcam_free(m);
    return bytes;
}

static void test_se_gate_folded(void **state) {
    (void)state;
    uint8_t *f16, *f32;
    size_t n16, n32;
    tb_build_tiny_weights(8, 32, 32, 6, TB_WEIGHTS_F16, &f16, &n16);
    tb_build_tiny_weights(8, 32, 32, 6, TB_WEIGHTS_F32, &f32, &n32);
    float lf[6], lk[6], l32[6];
    const int folded = se_output_bytes(f16, n16, NULL, lf) == 0;
    const int kept = se_output_bytes(f16, n16, "b1_se", lk) > 0;
    const int f32_kept = se_output_bytes(f32, n32, NULL, l32) > 0;
    const double d = tu_rel_l2(lf, lk, 6);
    fprintf(stderr, "SE gate folded: %d (fp16 GEMM available: %d), with the SE output as tap: kept %d; f32: kept %d; "
                    "logits folded vs kept rel L2 %.2e\n",
            folded, ec_gemm_f16_isa_max() != EC_ISA_SCALAR, kept, f32_kept, d);
    assert_int_equal(folded, ec_gemm_f16_isa_max() != EC_ISA_SCALAR);
    assert_true(kept);
    assert_true(f32_kept);
    assert_true(d <= 1e-6);
    free(f16);
    free(f32);
}

/* The residual add folded into the projection before it (plan.c,
 * fold_residual_adds): b1_project's output is not materialised unless a tap
 * reads it, b1_add's output (the tap "block1") is written by b1_project,
 * and the logits are bit-identical to the two ops run apart (the tap
 * "b1_project" keeps them apart). f32 projections are never folded. */
/* Runs the model at 37x29 with the tap and mode; returns the bytes planned
 * for b1_project's output, fills logits and, if tap_values is not NULL, a
 * malloc'ed copy of the tap's values (PREDICT mode) and their count. */
static int project_output_bytes(const uint8_t *file, size_t size, const char *tap, effcam_mode mode,
                                float *logits, float **tap_values, size_t *n_values) {
    effcam_spec spec = {.height = 37, .width = 29, .layer = tap, .mode = mode};
    effcam_model *m;
    effcam_ctx *ctx;
    assert_int_equal(effcam_load_memory(file, size, &spec, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    int proj = -1;
    for (uint32_t i = 0; i < m->L.n_ops && proj < 0; i++)
        if (strcmp(m->ops[i].name, "b1_project") == 0) proj = (int)i;
    assert_true(proj >= 0);
    assert_int_equal(m->ops[proj + 1].type, ECW_OP_ADD);
    float x[37 * 29 * 3];
    tu_rng r;
    tu_seed(&r, 78);
    tu_fill(&r, x, sizeof x / sizeof x[0], 0.0f, 255.0f);
    assert_int_equal(effcam_predict_f32(ctx, x, 37, 29, 0), EFFCAM_OK);
    memcpy(logits, effcam_logits(ctx), 6 * sizeof(float));
    if (tap_values) {
        const float *d;
        int h, w, c;
        assert_int_equal(effcam_tap_output(ctx, &d, &h, &w, &c), EFFCAM_OK);
        *n_values = (size_t)h * w * c;
        *tap_values = malloc(*n_values * sizeof(float));
        assert_non_null(*tap_values);
        memcpy(*tap_values, d, *n_values * sizeof(float));
    }
    int bytes = (int)ctx->bufs[proj + 1].bytes;
    /* the add's output is planned from the projection's step on */
    if (bytes == 0) assert_int_equal(ctx->bufs[proj + 2].first, proj + 1);
    effcam_free(m);
    return bytes;
}

static void test_residual_add_folded(void **state) {
    (void)state;
    uint8_t *f16, *f32;
    size_t n16, n32;
    tb_build_tiny_weights(9, 32, 32, 6, TB_WEIGHTS_F16, &f16, &n16);
    tb_build_tiny_weights(9, 32, 32, 6, TB_WEIGHTS_F32, &f32, &n32);
    float lf[6], lk[6], lg[6], l32[6];
    const int gemm = ec_gemm_f16_isa_max() != EC_ISA_SCALAR;
    const int folded = project_output_bytes(f16, n16, NULL, EFFCAM_MODE_PREDICT, lf, NULL, NULL) == 0;
    const int kept = project_output_bytes(f16, n16, "b1_project", EFFCAM_MODE_PREDICT, lk, NULL, NULL) > 0;
    const int g_folded = project_output_bytes(f16, n16, "block1", EFFCAM_MODE_GRADCAM, lg, NULL, NULL) == 0;
    const int f32_kept = project_output_bytes(f32, n32, NULL, EFFCAM_MODE_PREDICT, l32, NULL, NULL) > 0;
    fprintf(stderr, "residual add folded: %d, in Grad-CAM mode at block1: %d (fp16 GEMM available: %d); "
                    "with the projection as tap: kept %d; f32: kept %d; logits folded == kept: %d\n",
            folded, g_folded, gemm, kept, f32_kept, memcmp(lf, lk, sizeof lf) == 0);
    assert_int_equal(folded, gemm);
    assert_int_equal(g_folded, gemm);
    assert_true(kept);
    assert_true(f32_kept);
    assert_memory_equal(lf, lk, sizeof lf);
    assert_memory_equal(lf, lg, sizeof lf);
    /* a pre-activation tap on the add's output keeps the add (it writes the
     * pre-activation): the tap equals the add's output, bit for bit */
    float lp[6], lo[6], *t_out, *t_pre;
    size_t n_out, n_pre;
    assert_true(project_output_bytes(f16, n16, "block1_pre", EFFCAM_MODE_PREDICT, lp, &t_pre, &n_pre) > 0);
    assert_memory_equal(lf, lp, sizeof lf);
    assert_int_equal(project_output_bytes(f16, n16, "block1", EFFCAM_MODE_PREDICT, lo, &t_out, &n_out) == 0, gemm);
    assert_int_equal(n_out, n_pre);
    assert_true(n_out > 0);
    assert_memory_equal(t_out, t_pre, n_out * sizeof(float));
    free(t_out);
    free(t_pre);
    free(f16);
    free(f32);
}

static void test_rgb8_matches_f32(void **state) {
    (void)state;
    uint8_t *file;
    size_t size;
    tb_build_tiny(3, 24, 40, 6, &file, &size);
    effcam_model *m;
    effcam_ctx *ctx;
    assert_int_equal(effcam_load_memory(file, size, NULL, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    /* same-size RGB8 must equal the f32 path exactly (the stretch is the identity) */
    uint8_t px[24 * 40 * 3];
    float fx[24 * 40 * 3];
    tu_rng r;
    tu_seed(&r, 5);
    for (size_t i = 0; i < sizeof px; i++) { px[i] = (uint8_t)tu_int(&r, 0, 255); fx[i] = px[i]; }
    assert_int_equal(effcam_predict_rgb8(ctx, px, 24, 40, 0), EFFCAM_OK);
    float a[6];
    memcpy(a, effcam_logits(ctx), sizeof a);
    assert_int_equal(effcam_predict_f32(ctx, fx, 24, 40, 0), EFFCAM_OK);
    assert_memory_equal(a, effcam_logits(ctx), sizeof a);
    /* a 2x upscaled image by pixel replication is close but through bilinear sampling; just run it */
    assert_int_equal(effcam_predict_rgb8(ctx, px, 12, 20, 0), EFFCAM_OK);
    assert_int_equal(effcam_predict_f32(ctx, fx, 23, 40, 0), EFFCAM_E_DIMS);
    effcam_free(m);
    free(file);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_taps),
        cmocka_unit_test(test_f32_and_mixed_weights),
        cmocka_unit_test(test_rgb8_matches_f32),
        cmocka_unit_test(test_se_gate_folded),
        cmocka_unit_test(test_residual_add_folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
