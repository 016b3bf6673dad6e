/* The ONNX converter (tools/convert, `effcam convert`):
 *  - torchvision EfficientNet-B0 / V2-S, MobileNetV2 / V3-Small exported by
 *    torch.onnx.export (tools/gen_onnx_refs.py: opsets 11, 13, 17, BN kept,
 *    external data), converted in memory and run: logits vs PyTorch with the
 *    same fp16 weights (rel L2 <= 1e-4), taps features.N (rel L2 <= 1e-4),
 *    Grad-CAM at the default layer (raw map rel L2 <= 1e-3);
 *  - a tiny model built in C (tests/support/onnx_build.c) covering every
 *    supported pattern: converts, loads, predicts; typed float_data and
 *    external data give the same file as raw_data;
 *  - hostile ONNX: truncation at every length, bit flips, and one injected
 *    fault per case (wire types, huge lengths/dims, negative and overflowing
 *    dims, missing initializers, cycles, self-loops, unknown ops, wrong
 *    attribute types, external paths escaping the folder, short external
 *    files, ...): an error status and message, never a crash.
 * References: $EFFCAM_ONNX_REFS_DIR/manifest.json, required when
 * EFFCAM_REQUIRE_REFS=1 (tools/test.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "effcam.h"
#include "json_min.h"
#include "onnx_build.h"
#include "onnx_to_ecw.h"
#include "refcheck.h"
#include "test_util.h"

static int g_failures;
#define CHECK(cond, ...) do { if (!(cond)) { g_failures++; fprintf(stderr, "FAIL: " __VA_ARGS__); fprintf(stderr, "\n"); } } while (0)

static effcam_status load(const uint8_t *ecw, size_t n, int h, int w, effcam_mode mode, const char *layer, effcam_model **m,
                          effcam_ctx **ctx) {
    effcam_spec spec = {.height = h, .width = w, .mode = mode, .layer = layer};
    effcam_error err;
    effcam_status st = effcam_load_memory(ecw, n, &spec, 0, NULL, 0, m, ctx, &err);
    if (st) fprintf(stderr, "load (%s): %s (%s)\n", layer ? layer : "-", effcam_strerror(st), err.message);
    return st;
}

/* ---- the tiny model -------------------------------------------------------- */
static void test_tiny(void **state) {
    (void)state;
    uint8_t *onnx;
    size_t n;
    ob_tiny(OB_OK, 1, &onnx, &n, NULL, NULL);
    ec_convert_opts o;
    ec_convert_defaults(&o);
    const char *labels[5] = {"a", "b", "c", "d", "e"};
    o.labels = labels;
    o.n_labels = 5;
    uint8_t *ecw = NULL;
    size_t en;
    ec_convert_info info;
    effcam_error err;
    effcam_status st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, &info, &err);
    if (st) fail_msg("tiny: %s (%s)", effcam_strerror(st), err.message);
    fprintf(stderr, "tiny: %d ops, %d taps, default tap %s, softmax %d, opset %lld\n", info.n_ops, info.n_taps,
            info.default_tap, info.head_softmax, (long long)info.opset);
    /* conv+bn+silu, se, pwconv, add+relu6, act hswish (x*hardsigmoid after a fused act: a separate op), dwconv+hswish, gap, dense */
    assert_int_equal(info.n_ops, 8);
    assert_int_equal(info.head_softmax, 1);
    assert_int_equal(info.n_classes, 5);
    assert_string_equal(info.default_tap, "features.4");
    effcam_model *m;
    effcam_ctx *ctx;
    assert_int_equal(load(ecw, en, 16, 16, EFFCAM_MODE_GRADCAM, NULL, &m, &ctx), EFFCAM_OK);
    effcam_info mi;
    effcam_get_info(m, &mi);
    assert_int_equal(mi.source, 3);
    assert_int_equal(mi.head_softmax, 1);
    assert_string_equal(effcam_label(m, 4), "e");
    float x[16 * 16 * 3];
    tu_rng r;
    tu_seed(&r, 3);
    tu_fill(&r, x, 16 * 16 * 3, 0, 255);
    assert_int_equal(effcam_predict_f32(ctx, x, 16, 16, 0), EFFCAM_OK);
    const float *lg = effcam_logits(ctx);
    for (int i = 0; i < 5; i++) assert_true(lg[i] == lg[i]);
    const float *raw;
    int rh, rw;
    assert_int_equal(effcam_gradcam(ctx, NULL, &raw, &rh, &rw), EFFCAM_OK);
    assert_int_equal(rh, 8);
    effcam_free(m);
    const char *want_taps[] = {"features.0", "features.0.1", "features.1", "features.1.block.0", "features.2", "features.3",
                               "/features/features.4/HardSwish", "classifier.1", "avgpool"};
    assert_int_equal(load(ecw, en, 16, 16, EFFCAM_MODE_PREDICT, NULL, &m, &ctx), EFFCAM_OK);
    for (size_t i = 0; i < sizeof want_taps / sizeof *want_taps; i++) {
        int found = 0;
        for (int t = 0; t < mi.num_taps && !found; t++) found = effcam_tap_name(m, t) && !strcmp(effcam_tap_name(m, t), want_taps[i]);
        CHECK(found, "tiny: tap %s missing", want_taps[i]);
    }
    effcam_free(m);
    /* ReduceMean, Identity, Reshape, Dropout, MatMul + Add, Clip attributes: the same logits */
    {
        uint8_t *onnx3, *ecw3;
        size_t n3, en3;
        float l_ref[5];
        assert_int_equal(load(ecw, en, 16, 16, EFFCAM_MODE_PREDICT, NULL, &m, &ctx), EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(ctx, x, 16, 16, 0), EFFCAM_OK);
        memcpy(l_ref, effcam_logits(ctx), sizeof l_ref);
        effcam_free(m);
        ob_tiny(OB_VARIANT_MM, 1, &onnx3, &n3, NULL, NULL);
        ec_convert_info i3;
        st = ec_onnx_to_ecw(onnx3, n3, &o, &ecw3, &en3, &i3, &err);
        if (st) fail_msg("variant: %s (%s)", effcam_strerror(st), err.message);
        assert_int_equal(i3.n_ops, 8);
        assert_int_equal(load(ecw3, en3, 16, 16, EFFCAM_MODE_PREDICT, NULL, &m, &ctx), EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(ctx, x, 16, 16, 0), EFFCAM_OK);
        double e = tu_rel_l2(effcam_logits(ctx), l_ref, 5);
        fprintf(stderr, "tiny variant (ReduceMean/Reshape/MatMul+Add/Clip attributes) vs Gemm version: logits rel L2 %.2e\n", e);
        assert_true(e == 0);
        effcam_free(m);
        free(onnx3);
        free(ecw3);
    }
    /* float_data instead of raw_data: the same .ecw */
    uint8_t *onnx2, *ecw2;
    size_t n2, en2;
    ob_tiny(OB_TYPED_OK, 1, &onnx2, &n2, NULL, NULL);
    assert_int_equal(ec_onnx_to_ecw(onnx2, n2, &o, &ecw2, &en2, NULL, &err), EFFCAM_OK);
    assert_int_equal(en2, en);
    assert_memory_equal(ecw2, ecw, en);
    free(onnx2);
    free(ecw2);
    /* f32 weights: a valid file with dtype 2 weights (loads once the reader supports them) */
    o.f32_weights = 1;
    assert_int_equal(ec_onnx_to_ecw(onnx, n, &o, &ecw2, &en2, NULL, &err), EFFCAM_OK);
    assert_true(en2 > en);
    effcam_plan plan;
    effcam_spec spec = {0};
    st = effcam_plan_memory(ecw2, en2, &spec, 0, &plan, &err);
    fprintf(stderr, "tiny --f32-weights: %s%s%s\n", st ? "not loadable yet: " : "loads", st ? err.message : "", "");
    if (!st) { /* f32 weights supported: same model up to the fp16 rounding */
        float l16[5];
        assert_int_equal(load(ecw, en, 16, 16, EFFCAM_MODE_PREDICT, NULL, &m, &ctx), EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(ctx, x, 16, 16, 0), EFFCAM_OK);
        memcpy(l16, effcam_logits(ctx), sizeof l16);
        effcam_free(m);
        assert_int_equal(load(ecw2, en2, 16, 16, EFFCAM_MODE_PREDICT, NULL, &m, &ctx), EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(ctx, x, 16, 16, 0), EFFCAM_OK);
        double e = tu_rel_l2(effcam_logits(ctx), l16, 5);
        fprintf(stderr, "tiny --f32-weights vs fp16 weights: logits rel L2 %.2e\n", e);
        assert_true(e < 2e-2);
        effcam_free(m);
    }
    free(ecw2);
    /* label count must match */
    o.f32_weights = 0;
    o.n_labels = 3;
    assert_int_equal(ec_onnx_to_ecw(onnx, n, &o, &ecw2, &en2, NULL, &err), EFFCAM_E_ARG);
    free(onnx);
    free(ecw);
}

/* ---- hostile inputs --------------------------------------------------------- */
static char g_tmp[1024];

static void write_file(const char *dir, const char *name, const void *p, size_t n) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    if (n) assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static void test_faults(void **state) {
    (void)state;
    static const struct { int fault; effcam_status st; const char *msg; } cases[] = {
        {OB_WIRE_OPTYPE, EFFCAM_E_CORRUPT, "op_type"},
        {OB_WIRE_DIMS, EFFCAM_E_CORRUPT, "repeated field 1"},
        {OB_HUGE_LEN, EFFCAM_E_TRUNCATED, "declares"},
        {OB_VARINT_LONG, EFFCAM_E_CORRUPT, "varint"},
        {OB_HUGE_DIM, EFFCAM_E_DIMS, "dim"},
        {OB_NEG_DIM, EFFCAM_E_DIMS, "negative dim"},
        {OB_OVERFLOW_DIMS, EFFCAM_E_OVERFLOW, "2^31"},
        {OB_RAW_SHORT, EFFCAM_E_CORRUPT, "raw_data"},
        {OB_TYPED_COUNT, EFFCAM_E_CORRUPT, "values for"},
        {OB_MISSING_INIT, EFFCAM_E_CORRUPT, "nowhere.weight"},
        {OB_CYCLE, EFFCAM_E_CORRUPT, "later node"},
        {OB_SELF_LOOP, EFFCAM_E_CORRUPT, "node itself"},
        {OB_UNKNOWN_OP, EFFCAM_E_UNSUPPORTED, "FancyOp"},
        {OB_ATTR_TYPE, EFFCAM_E_CORRUPT, "group"},
        {OB_DUP_OUTPUT, EFFCAM_E_CORRUPT, "already produced"},
        {OB_GROUPED, EFFCAM_E_UNSUPPORTED, "grouped"},
        {OB_NO_GRAPH, EFFCAM_E_CORRUPT, "no graph"},
        {OB_TWO_INPUTS, EFFCAM_E_UNSUPPORTED, "more than one graph input"},
        {OB_CHANNELS, EFFCAM_E_CORRUPT, "input channels"},
        {OB_BN_NOT_AFTER_CONV, EFFCAM_E_UNSUPPORTED, "BatchNormalization"},
        {OB_DILATED, EFFCAM_E_UNSUPPORTED, "dilated"},
        {OB_CLIP_RANGE, EFFCAM_E_UNSUPPORTED, "Clip"},
        {OB_WIRE_GROUP, EFFCAM_E_CORRUPT, "AttributeProto.i"},
        {OB_EXT_ABS, EFFCAM_E_CORRUPT, "relative path"},
        {OB_EXT_DOTDOT, EFFCAM_E_CORRUPT, "relative path"},
        {OB_HEAD_RELU, EFFCAM_E_UNSUPPORTED, "activation"},
    };
    ec_convert_opts o;
    ec_convert_defaults(&o);
    o.base_dir = g_tmp;
    int n_cases = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint8_t *onnx, *ext, *ecw = NULL;
        size_t n, ext_n = 0, en = 0;
        ob_tiny(cases[i].fault, 1, &onnx, &n, &ext, &ext_n);
        effcam_error err = {0};
        effcam_status st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, NULL, &err);
        fprintf(stderr, "fault %2d: %-22s %s\n", cases[i].fault, effcam_strerror(st), err.message);
        CHECK(st == cases[i].st, "fault %d: status %d, expected %d", cases[i].fault, st, cases[i].st);
        CHECK(strstr(err.message, cases[i].msg) != NULL, "fault %d: message lacks '%s'", cases[i].fault, cases[i].msg);
        CHECK(ecw == NULL && en == 0, "fault %d: output set on error", cases[i].fault);
        free(ecw);
        free(onnx);
        free(ext);
        n_cases++;
    }
    /* external data: valid, missing, too short, no folder */
    uint8_t *onnx, *ext, *ecw = NULL, *ref_onnx, *ref_ecw;
    size_t n, ext_n, en, rn, ren;
    ob_tiny(OB_EXT_OK, 1, &onnx, &n, &ext, &ext_n);
    ob_tiny(OB_OK, 1, &ref_onnx, &rn, NULL, NULL);
    effcam_error err;
    assert_int_equal(ec_onnx_to_ecw(ref_onnx, rn, &o, &ref_ecw, &ren, NULL, &err), EFFCAM_OK);
    char path[2048];
    snprintf(path, sizeof path, "%s/w.bin", g_tmp);
    remove(path);
    effcam_status st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, NULL, &err);
    fprintf(stderr, "external missing: %s (%s)\n", effcam_strerror(st), err.message);
    CHECK(st == EFFCAM_E_IO && strstr(err.message, "w.bin"), "external missing");
    write_file(g_tmp, "w.bin", ext, ext_n - 4);
    st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, NULL, &err);
    fprintf(stderr, "external short: %s (%s)\n", effcam_strerror(st), err.message);
    CHECK(st == EFFCAM_E_TRUNCATED && strstr(err.message, "shorter"), "external short");
    write_file(g_tmp, "w.bin", ext, ext_n);
    st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, NULL, &err);
    CHECK(st == EFFCAM_OK && en == ren && !memcmp(ecw, ref_ecw, en), "external ok: %s", err.message);
    free(ecw);
    ecw = NULL;
    o.base_dir = NULL;
    st = ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, NULL, &err);
    fprintf(stderr, "external without a folder: %s (%s)\n", effcam_strerror(st), err.message);
    CHECK(st == EFFCAM_E_UNSUPPORTED, "external without folder");
    n_cases += 4;
    free(onnx);
    free(ext);
    /* truncation at every length */
    int trunc_ok = 0;
    for (size_t len = 0; len < rn; len++) {
        ecw = NULL;
        st = ec_onnx_to_ecw(ref_onnx, len, &o, &ecw, &en, NULL, &err);
        if (st == EFFCAM_OK) { trunc_ok++; free(ecw); }
        else CHECK(err.message[0] != 0, "truncated at %zu: empty message", len);
    }
    CHECK(trunc_ok == 0, "%d truncated files converted", trunc_ok);
    fprintf(stderr, "truncation: %zu lengths, all refused\n", rn);
    /* bit flips and random bytes: no crash (ASan/UBSan watch), error or a valid file */
    tu_rng r;
    tu_seed(&r, 77);
    uint8_t *mut = malloc(rn);
    int flips_ok = 0, flips = 3000;
    for (int k = 0; k < flips; k++) {
        memcpy(mut, ref_onnx, rn);
        int nf = tu_int(&r, 1, 4);
        for (int j = 0; j < nf; j++) {
            size_t at = (size_t)tu_int(&r, 0, (int)rn - 1);
            if (tu_int(&r, 0, 1)) mut[at] ^= (uint8_t)(1u << tu_int(&r, 0, 7));
            else mut[at] = (uint8_t)tu_int(&r, 0, 255);
        }
        ecw = NULL;
        st = ec_onnx_to_ecw(mut, rn, &o, &ecw, &en, NULL, &err);
        if (st == EFFCAM_OK) {
            flips_ok++;
            effcam_plan p;
            effcam_spec spec = {0};
            effcam_plan_memory(ecw, en, &spec, 0, &p, NULL); /* whatever it says, no crash */
            free(ecw);
        } else {
            CHECK(err.message[0] != 0, "mutation %d: empty message", k);
        }
    }
    fprintf(stderr, "mutations: %d, %d still convert\n", flips, flips_ok);
    free(mut);
    free(ref_onnx);
    free(ref_ecw);
    fprintf(stderr, "malformed ONNX: %d injected faults + %zu truncations + %d mutations\n", n_cases, rn, flips);
    assert_int_equal(g_failures, 0);
}

/* ---- the committed torch export (tools/gen_onnx_seeds.py) ----------------- */
static void test_fixture(void **state) {
    (void)state;
    char path[2048];
    snprintf(path, sizeof path, "%s/tests/fixtures/onnx/tiny_effnet_op13.onnx", tu_env("EFFCAM_SOURCE_DIR", "."));
    size_t n;
    uint8_t *onnx = tu_read_file(path, &n);
    assert_non_null(onnx);
    ec_convert_opts o;
    ec_convert_defaults(&o);
    uint8_t *ecw;
    size_t en;
    ec_convert_info info;
    effcam_error err;
    assert_int_equal(ec_onnx_to_ecw(onnx, n, &o, &ecw, &en, &info, &err), EFFCAM_OK);
    assert_int_equal(info.n_ops, 12);
    assert_int_equal(info.n_classes, 4);
    assert_string_equal(info.default_tap, "features.3");
    static const int sizes[2][2] = {{32, 32}, {37, 29}};
    for (int k = 0; k < 2; k++) {
        effcam_model *m;
        effcam_ctx *ctx;
        int h = sizes[k][0], w = sizes[k][1];
        assert_int_equal(load(ecw, en, h, w, EFFCAM_MODE_GRADCAM, "features.2", &m, &ctx), EFFCAM_OK);
        float *x = malloc(sizeof(float) * (size_t)h * w * 3);
        tu_rng r;
        tu_seed(&r, 9);
        tu_fill(&r, x, (size_t)h * w * 3, 0, 255);
        assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
        const float *raw;
        int rh, rw;
        assert_int_equal(effcam_gradcam(ctx, NULL, &raw, &rh, &rw), EFFCAM_OK);
        free(x);
        effcam_free(m);
    }
    free(ecw);
    /* a real torch export truncated at every length */
    int ok = 0;
    for (size_t len = 0; len < n; len++) {
        ecw = NULL;
        if (ec_onnx_to_ecw(onnx, len, &o, &ecw, &en, NULL, &err) == EFFCAM_OK) { ok++; free(ecw); }
        else if (!err.message[0]) ok += 1000;
    }
    fprintf(stderr, "fixture: %zu truncations, %d converted\n", n, ok);
    assert_int_equal(ok, 0);
    free(onnx);
    /* the CLI: effcam convert with labels, then effcam info */
    const char *bdir = getenv("EFFCAM_BUILD_DIR");
    if (bdir) {
        char cmd[8192], out[2048];
        snprintf(out, sizeof out, "%s/w.ecw", g_tmp);
        snprintf(cmd, sizeof cmd, "'%s/effcam' convert '%s' '%s' --labels cat,dog,cow,owl >/dev/null && '%s/effcam' info '%s' | grep -q owl",
                 bdir, path, out, bdir, out);
        assert_int_equal(system(cmd), 0);
        snprintf(cmd, sizeof cmd, "'%s/effcam' convert '%s' '%s' --labels a,b 2>/dev/null", bdir, path, out);
        assert_int_not_equal(system(cmd), 0);
        remove(out);
        /* .keras goes to tools/keras2ecw.py (posix_spawn of /usr/bin/python3) when the shared models exist */
        char keras[2048];
        snprintf(keras, sizeof keras, "%s/keras/kv1_tiny_c5_96x120.keras", tu_env("EFFCAM_SHARED_DATA", "../shared/data"));
        struct stat sb;
        if (stat(keras, &sb) == 0 && stat("/usr/bin/python3", &sb) == 0) {
            snprintf(cmd, sizeof cmd, "'%s/effcam' convert '%s' '%s' --labels a,b,c,d,e >/dev/null && '%s/effcam' info '%s' | grep -q keras",
                     bdir, keras, out, bdir, out);
            assert_int_equal(system(cmd), 0);
            snprintf(cmd, sizeof cmd, "EFFCAM_KERAS2ECW=/nonexistent '%s/effcam' convert '%s' '%s' 2>/dev/null", bdir, keras, out);
            assert_int_not_equal(system(cmd), 0);
            remove(out);
            fprintf(stderr, "effcam convert .keras: via keras2ecw.py ok\n");
        } else {
            tu_skip_note("effcam convert .keras", "no shared Keras model");
        }
    }
}

/* ---- torchvision exports vs PyTorch ----------------------------------------- */
static void test_torchvision(void **state) {
    (void)state;
    const char *dir = tu_env("EFFCAM_ONNX_REFS_DIR", "build/onnx_refs");
    char mpath[2048];
    snprintf(mpath, sizeof mpath, "%s/manifest.json", dir);
    jn *root = json_load(mpath);
    if (!root) {
        if (!strcmp(tu_env("EFFCAM_REQUIRE_REFS", "0"), "1")) fail_msg("%s missing (run tools/gen_onnx_refs.py)", mpath);
        tu_skip_note("ONNX references", "no manifest.json: run /usr/bin/python3 tools/gen_onnx_refs.py build/onnx_refs");
        skip();
    }
    g_failures = 0;
    const jn *models = json_get(root, "models");
    for (int mi = 0; mi < json_len(models); mi++) {
        const jn *M = json_at(models, mi);
        const char *id = json_str(json_get(M, "id"));
        char opath[2048];
        snprintf(opath, sizeof opath, "%s/%s", dir, json_str(json_get(M, "onnx")));
        size_t on;
        uint8_t *onnx = tu_read_file(opath, &on);
        CHECK(onnx != NULL, "%s: cannot read %s", id, opath);
        if (!onnx) continue;
        ec_convert_opts o;
        ec_convert_defaults(&o);
        char base[2048];
        snprintf(base, sizeof base, "%s", opath);
        *strrchr(base, '/') = 0;
        o.base_dir = base;
        uint8_t *ecw = NULL;
        size_t en;
        ec_convert_info info;
        effcam_error err;
        effcam_status st = ec_onnx_to_ecw(onnx, on, &o, &ecw, &en, &info, &err);
        free(onnx);
        CHECK(st == EFFCAM_OK, "%s: convert: %s (%s)", id, effcam_strerror(st), err.message);
        if (st) continue;
        const char *dtap = json_str(json_get(M, "default_tap"));
        CHECK(!strcmp(info.default_tap, dtap), "%s: default tap %s, expected %s", id, info.default_tap, dtap);
        int ncls = (int)json_num(json_get(M, "classes"));
        const jn *cases = json_get(M, "cases");
        for (int ci = 0; ci < json_len(cases); ci++) {
            const jn *C = json_at(cases, ci);
            const char *cid = json_str(json_get(C, "id"));
            int h = (int)json_num(json_at(json_get(C, "hw"), 0)), w = (int)json_num(json_at(json_get(C, "hw"), 1));
            float *x = rc_load_f32(dir, json_str(json_get(C, "input")), (size_t)h * w * 3, NULL);
            float *l16 = rc_load_f32(dir, json_str(json_get(C, "logits16")), (size_t)ncls, NULL);
            CHECK(x && l16, "%s %s: reference files missing", id, cid);
            effcam_model *m;
            effcam_ctx *ctx;
            if (x && l16 && !load(ecw, en, h, w, EFFCAM_MODE_PREDICT, NULL, &m, &ctx)) {
                CHECK(!effcam_predict_f32(ctx, x, h, w, 0), "%s %s: predict", id, cid);
                double e = tu_rel_l2(effcam_logits(ctx), l16, (size_t)ncls);
                int same = rc_argmax(effcam_logits(ctx), ncls) == rc_argmax(l16, ncls);
                fprintf(stderr, "%-28s opset %2d %-8s logits rel L2 %.2e top-1 %s\n", id, (int)info.opset, cid, e,
                        same ? "same" : "DIFFERENT");
                CHECK(e <= 1e-4 && same, "%s %s: logits", id, cid);
                effcam_free(m);
            }
            const jn *acts = json_get(C, "activations");
            for (int ai = 0; x && ai < json_len(acts); ai++) {
                const char *tap = json_key(acts, ai);
                size_t rn;
                float *ref = rc_load_f32(dir, json_str(json_at(acts, ai)), 0, &rn);
                if (!ref || load(ecw, en, h, w, EFFCAM_MODE_PREDICT, tap, &m, &ctx)) { CHECK(0, "%s %s: tap %s", id, cid, tap); free(ref); continue; }
                effcam_predict_f32(ctx, x, h, w, 0);
                const float *a;
                int th, tw, tc;
                st = effcam_tap_output(ctx, &a, &th, &tw, &tc);
                CHECK(!st && (size_t)th * tw * tc == rn, "%s %s: tap %s shape", id, cid, tap);
                if (!st && (size_t)th * tw * tc == rn) {
                    double e = tu_rel_l2(a, ref, rn);
                    fprintf(stderr, "%-28s opset %2d %-8s tap %-12s rel L2 %.2e\n", id, (int)info.opset, cid, tap, e);
                    CHECK(e <= 1e-4, "%s %s: tap %s", id, cid, tap);
                }
                effcam_free(m);
                free(ref);
            }
            /* Grad-CAM at the default layer (features.N), logit target of the reference class */
            size_t rawn, wn;
            float *rraw = rc_load_f32(dir, json_str(json_get(C, "cam_raw")), 0, &rawn);
            float *rw = rc_load_f32(dir, json_str(json_get(C, "cam_weights")), 0, &wn);
            if (x && rraw && rw && !load(ecw, en, h, w, EFFCAM_MODE_GRADCAM, NULL, &m, &ctx)) {
                effcam_predict_f32(ctx, x, h, w, 0);
                effcam_cam_opts co = {.class_index = (int)json_num(json_get(C, "class")), .target = EFFCAM_TARGET_LOGIT};
                const float *raw;
                int rh, rw2;
                st = effcam_gradcam(ctx, &co, &raw, &rh, &rw2);
                CHECK(!st && (size_t)rh * rw2 == rawn, "%s %s: gradcam", id, cid);
                if (!st && (size_t)rh * rw2 == rawn) {
                    const float *cw;
                    int cc;
                    effcam_cam_weights(ctx, &cw, &cc);
                    double e = tu_rel_l2(raw, rraw, rawn), ew = (size_t)cc == wn ? tu_rel_l2(cw, rw, wn) : 1;
                    fprintf(stderr, "%-28s opset %2d %-8s Grad-CAM %s raw rel L2 %.2e weights %.2e\n", id, (int)info.opset, cid,
                            dtap, e, ew);
                    CHECK(e <= 1e-3 && ew <= 1e-3, "%s %s: Grad-CAM", id, cid);
                }
                effcam_free(m);
            } else {
                CHECK(0, "%s %s: Grad-CAM references or load", id, cid);
            }
            free(rraw);
            free(rw);
            free(x);
            free(l16);
        }
        free(ecw);
    }
    json_free(root);
    assert_int_equal(g_failures, 0);
}

int main(void) {
    snprintf(g_tmp, sizeof g_tmp, "%s/onnx_test_tmp_%ld", tu_env("EFFCAM_BUILD_DIR", "/tmp"), (long)getpid());
    mkdir(g_tmp, 0755);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_torchvision),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char p[2048];
    snprintf(p, sizeof p, "%s/w.bin", g_tmp);
    remove(p);
    rmdir(g_tmp);
    return rc;
}
