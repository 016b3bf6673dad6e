/* Grad-CAM family math (lib/cam) against the numpy / torch fixtures written
 * by tools/gen_cam_fixtures.py (tests/fixtures/cam), plus edge cases.
 * Every scratch buffer is malloc'ed with exactly *_scratch_floats() floats
 * and filled with NaN, so ASan catches overruns and a read of unwritten
 * scratch shows up as NaN in the results. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cam/cam.h"
#include "test_util.h"

#define RAW_TOL 1e-5  /* relative L2, raw maps and weights */
#define NORM_TOL 1e-5 /* max |d|, normalised maps, resized maps, masks */

/* ---- fixtures ---------------------------------------------------------- */
typedef struct fx_array { char key[96]; size_t off, n; } fx_array;
static float *g_blob;
static size_t g_blob_n;
static char *g_index;
static fx_array *g_arrays;
static int g_narrays;
static char g_dir[1024];

static const float *fx_get(const char *key, size_t *n) {
    if (n) *n = 0;
    for (int i = 0; i < g_narrays; i++)
        if (!strcmp(g_arrays[i].key, key)) {
            if (n) *n = g_arrays[i].n;
            return g_blob + g_arrays[i].off;
        }
    fail_msg("fixture array %s missing", key);
    return NULL;
}

static int load_fixtures(void **state) {
    (void)state;
    const char *src = tu_env("EFFCAM_SOURCE_DIR", NULL);
    if (src) snprintf(g_dir, sizeof g_dir, "%s/tests/fixtures/cam", src);
    else {
        snprintf(g_dir, sizeof g_dir, "%s", __FILE__);
        char *s = strrchr(g_dir, '/');
        if (s) strcpy(s, "/fixtures/cam"); else strcpy(g_dir, "fixtures/cam");
    }
    char path[1200];
    size_t bytes = 0;
    snprintf(path, sizeof path, "%s/cam.f32", g_dir);
    g_blob = tu_read_file(path, &bytes);
    if (!g_blob) { fprintf(stderr, "cannot read %s (run tools/gen_cam_fixtures.py)\n", path); return -1; }
    g_blob_n = bytes / 4;
    snprintf(path, sizeof path, "%s/index.txt", g_dir);
    size_t ib = 0;
    char *idx = tu_read_file(path, &ib);
    if (!idx) { fprintf(stderr, "cannot read %s\n", path); return -1; }
    g_index = realloc(idx, ib + 1);
    g_index[ib] = 0;
    int lines = 0;
    for (size_t i = 0; i < ib; i++) lines += g_index[i] == '\n';
    g_arrays = calloc((size_t)lines + 1, sizeof *g_arrays);
    for (char *l = g_index; l && *l;) {
        char *nl = strchr(l, '\n');
        fx_array a;
        unsigned long off, n;
        if (sscanf(l, "array %95s %lu %lu", a.key, &off, &n) == 3) {
            if (off + n > g_blob_n) { fprintf(stderr, "bad fixture %s\n", a.key); return -1; }
            a.off = off; a.n = n;
            g_arrays[g_narrays++] = a;
        }
        l = nl ? nl + 1 : NULL;
    }
    return g_narrays > 0 ? 0 : -1;
}

static int free_fixtures(void **state) {
    (void)state;
    free(g_blob); free(g_index); free(g_arrays);
    return 0;
}

/* Calls fn(line) for every index line starting with `kind `; returns count. */
static int for_lines(const char *kind, void (*fn)(const char *line)) {
    int count = 0;
    size_t kl = strlen(kind);
    for (const char *l = g_index; l && *l;) {
        const char *nl = strchr(l, '\n');
        if (!strncmp(l, kind, kl) && l[kl] == ' ') {
            char buf[4096];
            size_t len = nl ? (size_t)(nl - l) : strlen(l);
            if (len >= sizeof buf) len = sizeof buf - 1;
            memcpy(buf, l, len); buf[len] = 0;
            fn(buf);
            count++;
        }
        l = nl ? nl + 1 : NULL;
    }
    return count;
}

static float *scratch_alloc(size_t n) {
    float *s = malloc(n ? n * sizeof(float) : 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++) s[i] = NAN;
    return s;
}

static int method_id(const char *name) {
    static const char *names[] = {"gradcam", "gradcampp", "xgradcam", "hirescam",
                                  "layercam", "eigencam", "scorecam"};
    for (int i = 0; i < EFFCAM_CAM_METHOD_COUNT; i++)
        if (!strcmp(names[i], name)) return i;
    fail_msg("unknown method %s", name);
    return -1;
}

static int all_finite(const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) if (!isfinite(x[i])) return 0;
    return 1;
}

/* The comparisons, also used by the meta-test that shows they can fail. */
static int close_rel(const float *a, const float *b, size_t n, double tol, const char *what) {
    double e = tu_rel_l2(a, b, n);
    if (getenv("EFFCAM_TEST_VERBOSE")) fprintf(stderr, "  %-48s rel L2 %.3g\n", what, e);
    if (!(e <= tol) || !all_finite(a, n)) {
        fprintf(stderr, "%s: rel L2 %.3g > %.1g\n", what, e, tol);
        return 0;
    }
    return 1;
}
static int close_abs(const float *a, const float *b, size_t n, double tol, const char *what) {
    double e = tu_max_abs_diff(a, b, n);
    if (getenv("EFFCAM_TEST_VERBOSE")) fprintf(stderr, "  %-48s max |d| %.3g\n", what, e);
    if (!(e <= tol) || !all_finite(a, n)) {
        fprintf(stderr, "%s: max |d| %.3g > %.1g\n", what, e, tol);
        return 0;
    }
    return 1;
}

/* Rows of a [H][W] map kept by a fixture ('-' = all) into out; returns count. */
static size_t pick_rows(const float *full, int H, int W, const char *rows, float *out) {
    if (!strcmp(rows, "-")) { memcpy(out, full, (size_t)H * W * sizeof(float)); return (size_t)H * W; }
    size_t n = 0;
    for (const char *p = rows; *p;) {
        int r = atoi(p);
        assert_true(r >= 0 && r < H);
        memcpy(out + n, full + (size_t)r * W, (size_t)W * sizeof(float));
        n += (size_t)W;
        p = strchr(p, ',');
        if (!p) break;
        p++;
    }
    return n;
}

/* ---- methods ----------------------------------------------------------- */
static int g_failures;

static void check_method(const char *line) {
    char cs[32], mname[32], key[128];
    assert_int_equal(sscanf(line, "method %31s %31s", cs, mname), 2);
    int h = 0, w = 0, k = 0;
    char want[64];
    snprintf(want, sizeof want, "case %s ", cs);
    const char *c = strstr(g_index, want);
    assert_non_null(c);
    assert_int_equal(sscanf(c + strlen(want), "%d %d %d", &h, &w, &k), 3);
    int m = method_id(mname), hw = h * w;
    size_t n;
    snprintf(key, sizeof key, "%s.A", cs);
    const float *A = fx_get(key, &n);
    assert_int_equal(n, (size_t)hw * k);
    snprintf(key, sizeof key, m == EFFCAM_CAM_SCORECAM ? "%s.scores" : "%s.G", cs);
    const float *G = fx_get(key, NULL);
    snprintf(key, sizeof key, "%s.%s.raw", cs, mname);
    const float *eraw = fx_get(key, &n);
    assert_int_equal(n, (size_t)hw);
    snprintf(key, sizeof key, "%s.%s.w", cs, mname);
    const float *ew = fx_get(key, &n);
    assert_int_equal(n, (size_t)k);

    size_t ns = ec_cam_scratch_floats(m, hw, k);
    float *scratch = scratch_alloc(ns);
    float *raw = malloc((size_t)hw * sizeof(float)), *wts = malloc((size_t)k * sizeof(float));
    for (int i = 0; i < hw; i++) raw[i] = NAN;
    for (int i = 0; i < k; i++) wts[i] = NAN;
    ec_cam_combine(m, A, G, hw, k, raw, wts, scratch);
    char what[160];
    snprintf(what, sizeof what, "%s %s raw", cs, mname);
    if (!close_rel(raw, eraw, (size_t)hw, RAW_TOL, what)) g_failures++;
    snprintf(what, sizeof what, "%s %s weights", cs, mname);
    if (!close_rel(wts, ew, (size_t)k, RAW_TOL, what)) g_failures++;
    /* without weights_out: the same map */
    float *raw2 = malloc((size_t)hw * sizeof(float));
    for (size_t i = 0; i < ns; i++) scratch[i] = NAN;
    ec_cam_combine(m, A, G, hw, k, raw2, NULL, scratch);
    if (memcmp(raw, raw2, (size_t)hw * sizeof(float))) { fprintf(stderr, "%s: NULL weights_out differs\n", what); g_failures++; }
    free(raw2); free(raw); free(wts); free(scratch);
}

static void test_methods(void **state) {
    (void)state;
    g_failures = 0;
    int n = for_lines("method", check_method);
    assert_int_equal(n, 8 * EFFCAM_CAM_METHOD_COUNT);
    assert_int_equal(g_failures, 0);
}

/* ---- post-processing --------------------------------------------------- */
static void check_post(const char *line) {
    char cs[32], mname[32], recipe[32], rows[2048], key[160];
    int H, W;
    assert_int_equal(sscanf(line, "post %31s %31s %31s %d %d %2047s", cs, mname, recipe, &H, &W, rows), 6);
    char want[64];
    snprintf(want, sizeof want, "case %s ", cs);
    int h, w, k;
    assert_int_equal(sscanf(strstr(g_index, want) + strlen(want), "%d %d %d", &h, &w, &k), 3);
    snprintf(key, sizeof key, "%s.%s.raw", cs, mname);
    const float *raw = fx_get(key, NULL);
    size_t n;
    snprintf(key, sizeof key, "%s.%s.%s.%dx%d", cs, mname, recipe, H, W);
    const float *exp_ = fx_get(key, &n);
    float *scratch = scratch_alloc(ec_cam_post_scratch_floats(h, w));
    float *out = malloc((size_t)H * W * sizeof(float)), *pick = malloc((size_t)H * W * sizeof(float));
    if (!strcmp(recipe, "pytorch")) ec_cam_post_pytorch(raw, h, w, out, H, W, scratch);
    else ec_cam_post_divmax(raw, h, w, out, H, W, scratch);
    size_t np_ = pick_rows(out, H, W, rows, pick);
    assert_int_equal(np_, n);
    char what[200];
    snprintf(what, sizeof what, "post %s %s %s %dx%d", cs, mname, recipe, H, W);
    if (!close_abs(pick, exp_, n, NORM_TOL, what)) g_failures++;
    free(scratch); free(out); free(pick);
}

static void test_post(void **state) {
    (void)state;
    g_failures = 0;
    assert_true(for_lines("post", check_post) >= 20);
    assert_int_equal(g_failures, 0);
}

/* ---- resize ------------------------------------------------------------ */
static void check_resize(const char *line) {
    char name[32], rows[2048], key[64];
    int sh, sw, dh, dw, ac;
    assert_int_equal(sscanf(line, "resize %31s %d %d %d %d %d %2047s", name, &sh, &sw, &dh, &dw, &ac, rows), 7);
    size_t n;
    snprintf(key, sizeof key, "%s.src", name);
    const float *src = fx_get(key, &n);
    assert_int_equal(n, (size_t)sh * sw);
    snprintf(key, sizeof key, "%s.dst", name);
    const float *exp_ = fx_get(key, &n);
    float *out = malloc((size_t)dh * dw * sizeof(float)), *pick = malloc((size_t)dh * dw * sizeof(float));
    if (ac) ec_resize_bilinear_ac(src, sh, sw, out, dh, dw);
    else ec_resize_bilinear(src, sh, sw, out, dh, dw);
    assert_int_equal(pick_rows(out, dh, dw, rows, pick), n);
    char what[160];
    snprintf(what, sizeof what, "resize %s %dx%d->%dx%d ac=%d", name, sh, sw, dh, dw, ac);
    if (!close_abs(pick, exp_, n, NORM_TOL, what)) g_failures++;
    /* the strided form on an interleaved 2-channel copy gives the same */
    float *src2 = malloc((size_t)sh * sw * 2 * sizeof(float)), *out2 = malloc((size_t)dh * dw * 3 * sizeof(float));
    for (int i = 0; i < sh * sw; i++) { src2[2 * i] = -1e30f; src2[2 * i + 1] = src[i]; }
    ec_resize_bilinear_strided(src2 + 1, sh, sw, 2, out2, dh, dw, 3, ac);
    for (int i = 0; i < dh * dw; i++)
        if (out2[3 * i] != out[i]) { fprintf(stderr, "%s: strided differs at %d\n", what, i); g_failures++; break; }
    free(src2); free(out2); free(out); free(pick);
}

static void test_resize(void **state) {
    (void)state;
    g_failures = 0;
    assert_true(for_lines("resize", check_resize) >= 10);
    assert_int_equal(g_failures, 0);
}

/* ---- Score-CAM masks --------------------------------------------------- */
static void check_mask(const char *line) {
    char cs[32], key[96], want[64];
    int ch, H, W, h, w, k;
    assert_int_equal(sscanf(line, "mask %31s %d %d %d", cs, &ch, &H, &W), 4);
    snprintf(want, sizeof want, "case %s ", cs);
    assert_int_equal(sscanf(strstr(g_index, want) + strlen(want), "%d %d %d", &h, &w, &k), 3);
    snprintf(key, sizeof key, "%s.A", cs);
    const float *A = fx_get(key, NULL);
    size_t n;
    snprintf(key, sizeof key, "%s.mask%d.%dx%d", cs, ch, H, W);
    const float *exp_ = fx_get(key, &n);
    assert_int_equal(n, (size_t)H * W);
    float *mask = malloc(n * sizeof(float));
    ec_cam_scorecam_mask(A, h, w, k, ch, mask, H, W);
    if (!close_abs(mask, exp_, n, NORM_TOL, key)) g_failures++;
    /* apply: out = in * mask, also in place */
    const int C = 3;
    float *in = malloc(n * C * sizeof(float)), *out = malloc(n * C * sizeof(float));
    tu_rng r; tu_seed(&r, 5);
    tu_fill(&r, in, n * C, 0.0f, 255.0f);
    ec_cam_scorecam_apply(A, h, w, k, ch, in, out, H, W, C);
    for (size_t i = 0; i < n * C; i++)
        if (out[i] != in[i] * mask[i / C]) { fprintf(stderr, "%s apply differs at %zu\n", key, i); g_failures++; break; }
    ec_cam_scorecam_apply(A, h, w, k, ch, in, in, H, W, C);
    if (memcmp(in, out, n * C * sizeof(float))) { fprintf(stderr, "%s in-place apply differs\n", key); g_failures++; }
    free(in); free(out); free(mask);
}

static void test_scorecam_masks(void **state) {
    (void)state;
    g_failures = 0;
    assert_true(for_lines("mask", check_mask) >= 4);
    assert_int_equal(g_failures, 0);
}

/* ---- real activations from the shared Keras data ----------------------- */
/* EFFCAM_SHARED_DATA/keras, else (worktrees one level deeper than the main
 * checkout) EFFCAM_SOURCE_DIR/../../shared/data/keras. */
static const char *shared_keras(void) {
    static char dir[1200];
    char probe[1300];
    snprintf(dir, sizeof dir, "%s/keras", tu_env("EFFCAM_SHARED_DATA", "../shared/data"));
    snprintf(probe, sizeof probe, "%s/manifest.json", dir);
    FILE *f = fopen(probe, "rb");
    if (f) { fclose(f); return dir; }
    const char *src = tu_env("EFFCAM_SOURCE_DIR", NULL);
    if (src) {
        char alt[1200];
        snprintf(alt, sizeof alt, "%s/../../shared/data/keras", src);
        snprintf(probe, sizeof probe, "%s/manifest.json", alt);
        f = fopen(probe, "rb");
        if (f) { fclose(f); snprintf(dir, sizeof dir, "%s", alt); }
    }
    return dir;
}

static int g_keras_seen;
static void check_keras_eigen(const char *line) {
    char key[160], file[300], path[1600];
    int h, w, k;
    assert_int_equal(sscanf(line, "keras %159s %d %d %d %299s", key, &h, &w, &k, file), 5);
    snprintf(path, sizeof path, "%s/%s", shared_keras(), file);
    size_t bytes = 0;
    float *A = tu_read_file(path, &bytes);
    if (!A) return;
    g_keras_seen++;
    assert_int_equal(bytes, (size_t)h * w * k * 4);
    char rk[200];
    snprintf(rk, sizeof rk, "%s.raw", key);
    const float *exp_ = fx_get(rk, NULL);
    float *scratch = scratch_alloc(ec_cam_scratch_floats(EFFCAM_CAM_EIGENCAM, h * w, k));
    float *raw = malloc((size_t)h * w * sizeof(float));
    ec_cam_combine(EFFCAM_CAM_EIGENCAM, A, NULL, h * w, k, raw, NULL, scratch);
    if (!close_rel(raw, exp_, (size_t)h * w, RAW_TOL, key)) g_failures++;
    free(scratch); free(raw); free(A);
}

static void check_keras_divmax(const char *line) {
    char pre[300], path[1600];
    assert_int_equal(sscanf(line, "kerascam %299s", pre), 1);
    size_t nr = 0, nc = 0;
    snprintf(path, sizeof path, "%s/%s.raw_prob_top_conv.f32", shared_keras(), pre);
    float *raw = tu_read_file(path, &nr);
    snprintf(path, sizeof path, "%s/%s.cam_prob_top_conv.f32", shared_keras(), pre);
    float *cam = tu_read_file(path, &nc);
    if (raw && cam) {
        g_keras_seen++;
        assert_int_equal(nr, nc);
        ec_cam_divmax(raw, nr / 4);
        if (!close_abs(raw, cam, nr / 4, 1e-6, pre)) g_failures++;
    }
    free(raw); free(cam);
}

static void test_keras_real(void **state) {
    (void)state;
    g_failures = 0;
    g_keras_seen = 0;
    int records = for_lines("keras", check_keras_eigen);
    records += for_lines("kerascam", check_keras_divmax);
    if (records == 0 || g_keras_seen == 0) {
        tu_skip_note("test_keras_real", records ? "shared data (EFFCAM_SHARED_DATA/keras) not found"
                                                : "fixtures were generated without the shared data");
        skip();
    }
    assert_int_equal(g_keras_seen, records); /* all or nothing */
    assert_int_equal(g_failures, 0);
}

/* ---- edge cases -------------------------------------------------------- */
static void run(int m, const float *A, const float *G, int hw, int k, float *raw, float *w) {
    float *s = scratch_alloc(ec_cam_scratch_floats(m, hw, k));
    ec_cam_combine(m, A, G, hw, k, raw, w, s);
    free(s);
}

static void test_zero_gradients(void **state) {
    (void)state;
    enum { H = 5, W = 3, K = 4, HW = H * W };
    float A[HW * K], G[HW * K], raw[HW], w[K], out[20 * 12];
    tu_rng r; tu_seed(&r, 1);
    tu_fill(&r, A, HW * K, -1.0f, 2.0f);
    memset(G, 0, sizeof G);
    const int grad_methods[] = {EFFCAM_CAM_GRADCAM, EFFCAM_CAM_GRADCAMPP, EFFCAM_CAM_XGRADCAM,
                                EFFCAM_CAM_HIRESCAM, EFFCAM_CAM_LAYERCAM};
    for (int i = 0; i < 5; i++) {
        run(grad_methods[i], A, G, HW, K, raw, w);
        for (int p = 0; p < HW; p++) assert_true(raw[p] == 0.0f);
        for (int c = 0; c < K; c++) assert_true(w[c] == 0.0f);
        float sc[HW];
        ec_cam_post_pytorch(raw, H, W, out, 20, 12, sc);
        for (int p = 0; p < 240; p++) assert_true(out[p] == 0.0f);
        ec_cam_post_divmax(raw, H, W, out, 20, 12, sc);
        for (int p = 0; p < 240; p++) assert_true(out[p] == 0.0f);
    }
}

static void test_constant_maps(void **state) {
    (void)state;
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = 3.5f;
    ec_cam_minmax(x, 12);
    for (int i = 0; i < 12; i++) assert_true(x[i] == 0.0f);
    for (int i = 0; i < 12; i++) x[i] = 2.5f;
    ec_cam_divmax(x, 12);
    for (int i = 0; i < 12; i++) assert_true(x[i] == 1.0f);
    for (int i = 0; i < 12; i++) x[i] = -1.0f;
    ec_cam_divmax(x, 12);
    for (int i = 0; i < 12; i++) assert_true(x[i] == 0.0f);
    /* min-max of a ramp */
    for (int i = 0; i < 12; i++) x[i] = (float)i - 4.0f;
    ec_cam_minmax(x, 12);
    assert_true(x[0] == 0.0f);
    assert_true(fabsf(x[11] - 1.0f) < 1e-6f);
    ec_cam_relu(x, 12);
    /* Score-CAM mask of a constant channel: zeros, no NaN */
    float A[6 * 2], mask[9 * 7];
    for (int i = 0; i < 12; i++) A[i] = (i % 2) ? 7.0f : (float)i;
    ec_cam_scorecam_mask(A, 3, 2, 2, 1, mask, 9, 7);
    for (int i = 0; i < 63; i++) assert_true(mask[i] == 0.0f);
    /* resize to the same size is an exact copy; a constant stays constant */
    float src[35], dst[35], big[224 * 160];
    tu_rng r; tu_seed(&r, 2);
    tu_fill(&r, src, 35, -3.0f, 3.0f);
    ec_resize_bilinear(src, 7, 5, dst, 7, 5);
    assert_memory_equal(src, dst, sizeof src);
    for (int i = 0; i < 35; i++) src[i] = 0.25f;
    ec_resize_bilinear(src, 7, 5, big, 224, 160);
    for (int i = 0; i < 224 * 160; i++) assert_true(fabsf(big[i] - 0.25f) < 1e-7f);
}

static void test_k1_hw1(void **state) {
    (void)state;
    const float a = 1.75f, g = 0.3f;
    float raw, w;
    run(EFFCAM_CAM_GRADCAM, &a, &g, 1, 1, &raw, &w);
    assert_float_equal(w, g, 1e-7);
    assert_float_equal(raw, g * a, 1e-6);
    run(EFFCAM_CAM_GRADCAMPP, &a, &g, 1, 1, &raw, &w);
    double g2 = (double)g * g, alpha = g2 / (2 * g2 + (double)a * g2 * g + 1e-6);
    assert_float_equal(w, alpha * g, 1e-6);
    assert_float_equal(raw, alpha * g * a, 1e-6);
    run(EFFCAM_CAM_XGRADCAM, &a, &g, 1, 1, &raw, &w);
    assert_float_equal(w, (double)g * a / (a + 1e-7), 1e-6);
    run(EFFCAM_CAM_HIRESCAM, &a, &g, 1, 1, &raw, &w);
    assert_float_equal(raw, g * a, 1e-6);
    const float gn = -0.3f;
    run(EFFCAM_CAM_LAYERCAM, &a, &gn, 1, 1, &raw, &w);
    assert_true(raw == 0.0f);
    run(EFFCAM_CAM_GRADCAMPP, &a, &gn, 1, 1, &raw, &w); /* relu(G) = 0 */
    assert_true(w == 0.0f);
    const float s = 4.0f;
    run(EFFCAM_CAM_SCORECAM, &a, &s, 1, 1, &raw, &w);
    assert_true(w == 1.0f);
    assert_float_equal(raw, a, 1e-7);
    run(EFFCAM_CAM_EIGENCAM, &a, NULL, 1, 1, &raw, &w);
    assert_true(raw == 0.0f && w == 0.0f);
    /* 1x1 map through both pipelines */
    float out[6], sc[1];
    float pos = 0.5f;
    ec_cam_post_divmax(&pos, 1, 1, out, 2, 3, sc);
    for (int i = 0; i < 6; i++) assert_true(out[i] == 1.0f);
    ec_cam_post_pytorch(&pos, 1, 1, out, 2, 3, sc);
    for (int i = 0; i < 6; i++) assert_true(out[i] == 0.0f); /* constant map */
}

static void test_eigencam_properties(void **state) {
    (void)state;
    enum { HW = 24, K = 6 };
    float A[HW * K], B[HW * K], r1[HW], r2[HW], v1[K], v2[K];
    /* constant over space: nothing to project */
    for (int p = 0; p < HW; p++) for (int c = 0; c < K; c++) A[p * K + c] = (float)c;
    run(EFFCAM_CAM_EIGENCAM, A, NULL, HW, K, r1, v1);
    for (int p = 0; p < HW; p++) assert_true(r1[p] == 0.0f);
    for (int c = 0; c < K; c++) assert_true(v1[c] == 0.0f);
    /* rank one plus offset: the map is the centred spatial pattern, with
     * the sign the rule gives, and the same for both Gram sides */
    float u[HW], ch[K];
    tu_rng r; tu_seed(&r, 3);
    tu_fill(&r, u, HW, -1.0f, 1.0f);
    tu_fill(&r, ch, K, 0.5f, 1.5f); /* positive: mean . v > 0 along +ch */
    double um = 0;
    for (int p = 0; p < HW; p++) um += u[p];
    um /= HW;
    for (int p = 0; p < HW; p++) for (int c = 0; c < K; c++) A[p * K + c] = u[p] * ch[c] + 2.0f;
    run(EFFCAM_CAM_EIGENCAM, A, NULL, HW, K, r1, v1);
    double nch = 0;
    for (int c = 0; c < K; c++) nch += (double)ch[c] * ch[c];
    nch = sqrt(nch);
    for (int p = 0; p < HW; p++) assert_float_equal(r1[p], (u[p] - um) * nch, 1e-4);
    /* negating A leaves the map unchanged (v flips with the mean) */
    for (int i = 0; i < HW * K; i++) B[i] = -A[i];
    run(EFFCAM_CAM_EIGENCAM, B, NULL, HW, K, r2, v2);
    for (int p = 0; p < HW; p++) assert_float_equal(r2[p], r1[p], 1e-5);
    for (int c = 0; c < K; c++) assert_float_equal(v2[c], -v1[c], 1e-6);
    /* transposed shape (hw < k) goes through the other Gram matrix */
    float At[K * HW], rt[K];
    for (int p = 0; p < K; p++) for (int c = 0; c < HW; c++) At[p * HW + c] = ch[p] * u[c] + 1.0f;
    run(EFFCAM_CAM_EIGENCAM, At, NULL, K, HW, rt, NULL);
    double cm = 0, nu = 0;
    for (int p = 0; p < K; p++) cm += ch[p];
    cm /= K;
    for (int c = 0; c < HW; c++) nu += (double)u[c] * u[c];
    nu = sqrt(nu);
    double s = um >= 0 ? 1 : -1; /* mean . v > 0, v ~ u */
    for (int p = 0; p < K; p++) assert_float_equal(rt[p], s * (ch[p] - cm) * nu, 1e-4);
}

static void test_scratch_sizes(void **state) {
    (void)state;
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_GRADCAM, 35, 3), 3);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_GRADCAMPP, 35, 40), 40);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_XGRADCAM, 35, 40), 40);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_SCORECAM, 35, 40), 40);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_HIRESCAM, 35, 40), 0);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_LAYERCAM, 35, 40), 0);
    /* mu, v [k]; t [hw]; two m x m Gram buffers and two m vectors */
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_EIGENCAM, 35, 40), 2 * 40 + 35 + 2 * 35 * 35 + 2 * 35);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_EIGENCAM, 143, 40), 2 * 40 + 143 + 2 * 40 * 40 + 2 * 40);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_METHOD_COUNT, 35, 40), 0);
    assert_int_equal(ec_cam_scratch_floats(EFFCAM_CAM_GRADCAM, 0, 40), 0);
    assert_int_equal(ec_cam_post_scratch_floats(7, 5), 35);
    /* unknown method: zeros, nothing else touched */
    float A[6] = {1, 2, 3, 4, 5, 6}, raw[3] = {9, 9, 9}, w[2] = {7, 7};
    ec_cam_combine(99, A, A, 3, 2, raw, w, NULL);
    for (int i = 0; i < 3; i++) assert_true(raw[i] == 0.0f);
    assert_true(w[0] == 7.0f && w[1] == 7.0f);
}

/* The comparison helpers must reject a small but real error. */
static void test_checks_can_fail(void **state) {
    (void)state;
    size_t n;
    const float *e = fx_get("s2.gradcam.raw", &n);
    float *bad = malloc(n * sizeof(float));
    memcpy(bad, e, n * sizeof(float));
    assert_true(close_rel(bad, e, n, RAW_TOL, "identity"));
    bad[n / 2] *= 1.001f;
    bad[0] += 1e-3f * fabsf(bad[0]) + 1e-3f;
    assert_false(close_rel(bad, e, n, RAW_TOL, "expected failure (perturbed raw)"));
    bad[0] = NAN;
    assert_false(close_abs(bad, e, n, 1e30, "expected failure (NaN)"));
    free(bad);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_methods),
        cmocka_unit_test(test_post),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_scorecam_masks),
        cmocka_unit_test(test_keras_real),
        cmocka_unit_test(test_zero_gradients),
        cmocka_unit_test(test_constant_maps),
        cmocka_unit_test(test_k1_hw1),
        cmocka_unit_test(test_eigencam_properties),
        cmocka_unit_test(test_scratch_sizes),
        cmocka_unit_test(test_checks_can_fail),
    };
    return cmocka_run_group_tests(tests, load_fixtures, free_fixtures);
}
