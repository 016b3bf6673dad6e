/* Memory claims, tested as equalities:
 *  - the workspace high-water mark equals the planned bytes, and nothing
 *    past the plan is ever written (canary);
 *  - zero malloc/calloc/realloc/free during predict (counted), one
 *    allocation for a library-allocated load, none with caller memory;
 *  - a caller buffer one byte short fails at load, before anything is
 *    written;
 *  - concurrent workspaces on one shared model give identical results. */
#define _GNU_SOURCE
#include <pthread.h>
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
#include "test_util.h"

/* ---- allocation counting -------------------------------------------------
 * Normal builds interpose the allocator for the whole process (OpenBLAS and
 * libc included). Sanitizer builds cannot replace malloc, so they wrap the
 * library's calls at link time (-Wl,--wrap, see tests/CMakeLists.txt). */
static volatile int g_counting;
static volatile long g_allocs, g_frees;
#define COUNT_ALLOC() do { if (g_counting) __atomic_add_fetch(&g_allocs, 1, __ATOMIC_RELAXED); } while (0)
#define COUNT_FREE(p) do { if (g_counting && (p)) __atomic_add_fetch(&g_frees, 1, __ATOMIC_RELAXED); } while (0)

#ifdef EFFCAM_SANITIZE
void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void __real_free(void *);
void *__real_aligned_alloc(size_t, size_t);
int __real_posix_memalign(void **, size_t, size_t);
void *__wrap_malloc(size_t n) { COUNT_ALLOC(); return __real_malloc(n); }
void *__wrap_calloc(size_t a, size_t b) { COUNT_ALLOC(); return __real_calloc(a, b); }
void *__wrap_realloc(void *p, size_t n) { COUNT_ALLOC(); return __real_realloc(p, n); }
void __wrap_free(void *p) { COUNT_FREE(p); __real_free(p); }
void *__wrap_aligned_alloc(size_t a, size_t n) { COUNT_ALLOC(); return __real_aligned_alloc(a, n); }
int __wrap_posix_memalign(void **p, size_t a, size_t n) { COUNT_ALLOC(); return __real_posix_memalign(p, a, n); }
#define COUNTING_SCOPE "calls from libeffcam (link-time wrap; sanitizer build)"
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
void *malloc(size_t n) { COUNT_ALLOC(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { COUNT_ALLOC(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { COUNT_ALLOC(); return __libc_realloc(p, n); }
void free(void *p) { COUNT_FREE(p); __libc_free(p); }
void *aligned_alloc(size_t a, size_t n) { COUNT_ALLOC(); return __libc_memalign(a, n); }
void *memalign(size_t a, size_t n) { COUNT_ALLOC(); return __libc_memalign(a, n); }
int posix_memalign(void **p, size_t a, size_t n) { COUNT_ALLOC(); *p = __libc_memalign(a, n); return *p ? 0 : 12; }
#define COUNTING_SCOPE "every allocation in the process (interposed allocator)"
#endif

static void count_start(void) { g_allocs = g_frees = 0; g_counting = 1; }
static long count_stop(void) { g_counting = 0; return g_allocs + g_frees; }

static uint8_t *g_file;
static size_t g_size;
/* the same model with f32 weights, and with a mix of f16 and f32 weights */
static uint8_t *g_f32, *g_mixed;
static size_t g_f32_size, g_mixed_size;

static int setup(void **state) {
    (void)state;
    tb_build_tiny(42, 32, 32, 6, &g_file, &g_size);
    tb_build_tiny_weights(42, 32, 32, 6, TB_WEIGHTS_F32, &g_f32, &g_f32_size);
    tb_build_tiny_weights(42, 32, 32, 6, TB_WEIGHTS_MIXED, &g_mixed, &g_mixed_size);
    /* The process-wide thread pool is created once (first load or this
     * call); its thread creation is not part of any load's count. */
    effcam_set_threads(0);
    fprintf(stderr, "allocation counting covers %s\n", COUNTING_SCOPE);
    return 0;
}
static int teardown(void **state) { (void)state; free(g_file); free(g_f32); free(g_mixed); return 0; }

static float *input(int h, int w, uint64_t seed) {
    tu_rng r;
    tu_seed(&r, seed);
    float *x = malloc(sizeof(float) * (size_t)h * w * 3);
    tu_fill(&r, x, (size_t)h * w * 3, 0, 255);
    return x;
}

#define CANARY 4096
/* predict (and, in Grad-CAM mode, a Grad-CAM at tap) on one model file;
 * returns the plan's scratch bytes */
static size_t plan_equals_high_water_of(const uint8_t *file, size_t size, int h, int w, const char *tap, unsigned flags,
                                        effcam_mode mode) {
    effcam_spec spec = {.height = h, .width = w, .layer = tap, .mode = mode};
    effcam_plan p;
    effcam_error err;
    assert_int_equal(effcam_plan_memory(file, size, &spec, flags, &p, &err), EFFCAM_OK);
    assert_int_equal(p.total_bytes, p.model_bytes + p.workspace_bytes);
    assert_int_equal(p.model_bytes, p.model_tables_bytes + p.weights_bytes + p.prepacked_bytes);
    assert_int_equal(p.workspace_bytes, p.workspace_tables_bytes + p.activation_bytes + p.scratch_bytes);
    uint8_t *arena = aligned_alloc(64, p.total_bytes + CANARY);
    memset(arena, 0xA5, p.total_bytes + CANARY);
    effcam_model *m;
    effcam_ctx *ctx;
    count_start();
    assert_int_equal(effcam_load_memory(file, size, &spec, flags, arena, p.total_bytes, &m, &ctx, &err), EFFCAM_OK);
    float *x = input(h, w, (uint64_t)h * 1000 + w);
    count_start();
    assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
    assert_int_equal(effcam_predict_f32(ctx, x, h, w, 0), EFFCAM_OK);
    if (mode == EFFCAM_MODE_GRADCAM) assert_int_equal(effcam_gradcam(ctx, NULL, NULL, NULL, NULL), EFFCAM_OK);
    long n = count_stop();
    assert_int_equal(n, 0);
    size_t ws = 0;
    assert_int_equal(effcam_workspace_bytes(m, &spec, &ws, NULL), EFFCAM_OK);
    assert_int_equal(ws, p.workspace_bytes);
    size_t hw = effcam_workspace_high_water(ctx);
    if (hw != p.workspace_bytes)
        fprintf(stderr, "%dx%d tap %s mode %d: high water %zu, plan %zu\n", h, w, tap ? tap : "-", mode, hw, p.workspace_bytes);
    assert_int_equal(hw, p.workspace_bytes);
    for (size_t i = p.total_bytes; i < p.total_bytes + CANARY; i++)
        if (arena[i] != 0xA5) fail_msg("byte %zu past the %zu-byte plan was written", i, p.total_bytes);
    free(x);
    effcam_free(m);
    free(arena);
    return p.scratch_bytes;
}

static void plan_equals_high_water(int h, int w, const char *tap, unsigned flags) {
    plan_equals_high_water_of(g_file, g_size, h, w, tap, flags, EFFCAM_MODE_PREDICT);
}

static void test_plan_equals_high_water(void **state) {
    (void)state;
    const int sizes[][2] = {{32, 32}, {37, 53}, {9, 7}, {64, 48}, {17, 101}};
    const char *taps[] = {NULL, "top_conv", "block1", "top", "b1_se", "b1_project", "block1_pre"};
    for (size_t s = 0; s < 5; s++)
        for (size_t t = 0; t < 7; t++) {
            plan_equals_high_water(sizes[s][0], sizes[s][1], taps[t], 0);
            plan_equals_high_water(sizes[s][0], sizes[s][1], taps[t], EFFCAM_LOAD_IN_PLACE);
        }
}

/* f32 weights are read in place: the plan has no widening scratch for them,
 * and stays exact (predict and Grad-CAM), for all-f32 and mixed models. */
static void test_plan_f32_and_mixed_weights(void **state) {
    (void)state;
    const int sizes[][2] = {{32, 32}, {37, 53}, {9, 7}, {17, 101}};
    const char *taps[] = {NULL, "top_conv", "block1", "stem"};
    for (size_t s = 0; s < 4; s++)
        for (size_t t = 0; t < 4; t++)
            for (int mode = 0; mode < 2; mode++) {
                if (mode == EFFCAM_MODE_GRADCAM && !taps[t]) continue;
                effcam_mode md = mode ? EFFCAM_MODE_GRADCAM : EFFCAM_MODE_PREDICT;
                size_t s16 = plan_equals_high_water_of(g_file, g_size, sizes[s][0], sizes[s][1], taps[t], 0, md);
                size_t s32 = plan_equals_high_water_of(g_f32, g_f32_size, sizes[s][0], sizes[s][1], taps[t], 0, md);
                size_t smx = plan_equals_high_water_of(g_mixed, g_mixed_size, sizes[s][0], sizes[s][1], taps[t],
                                                       EFFCAM_LOAD_IN_PLACE, md);
                plan_equals_high_water_of(g_f32, g_f32_size, sizes[s][0], sizes[s][1], taps[t], EFFCAM_LOAD_IN_PLACE, md);
                if (s == 0 && t == 0)
                    fprintf(stderr, "32x32 predict scratch bytes: f16 weights %zu, mixed %zu, f32 %zu\n", s16, smx, s32);
                assert_true(s32 <= smx && smx <= s16);
            }
    /* the scratch peak at 32x32 is the stem conv2d: its widened weights are gone */
    size_t s16 = plan_equals_high_water_of(g_file, g_size, 32, 32, NULL, 0, EFFCAM_MODE_PREDICT);
    size_t s32 = plan_equals_high_water_of(g_f32, g_f32_size, 32, 32, NULL, 0, EFFCAM_MODE_PREDICT);
    assert_true(s32 < s16);
    /* weights in the model: f32 tensors take twice the bytes */
    effcam_plan p16, p32;
    assert_int_equal(effcam_plan_memory(g_file, g_size, NULL, 0, &p16, NULL), EFFCAM_OK);
    assert_int_equal(effcam_plan_memory(g_f32, g_f32_size, NULL, 0, &p32, NULL), EFFCAM_OK);
    assert_true(p32.weights_bytes > p16.weights_bytes);
}

/* Load-time Winograd weights (the default) vs EFFCAM_LOAD_COMPACT, on the
 * committed fixture (tests/fixtures/tiny_effnet.ecw: 3x3 stride-1 convs with
 * 16+ channels): plan == high water both ways, in both modes; the
 * prepacked bytes are the sum of the convs' U, in the model; and the two
 * loads give bit-identical logits and maps (the same transform, once or
 * per call). */
static void test_prepacked_winograd(void **state) {
    (void)state;
    const char *sd = getenv("EFFCAM_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/tiny_effnet.ecw", sd ? sd : ".");
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("%s: not found (a committed fixture)", path);
    fseek(f, 0, SEEK_END);
    const size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *file = aligned_alloc(64, (n + 63) / 64 * 64);
    assert_int_equal(fread(file, 1, n, f), n);
    fclose(f);
    effcam_info info;
    effcam_plan pd, pc;
    assert_int_equal(effcam_plan_memory(file, n, NULL, 0, &pd, NULL), EFFCAM_OK);
    assert_int_equal(effcam_plan_memory(file, n, NULL, EFFCAM_LOAD_COMPACT, &pc, NULL), EFFCAM_OK);
    assert_true(pd.prepacked_bytes > 0);
    assert_int_equal(pc.prepacked_bytes, 0);
    assert_int_equal(pd.model_bytes, pc.model_bytes + pd.prepacked_bytes);
    assert_true(pd.scratch_bytes <= pc.scratch_bytes); /* U left the scratch */
    const int sizes[][2] = {{64, 64}, {37, 53}, {33, 33}};
    const unsigned flags[] = {0, EFFCAM_LOAD_IN_PLACE, EFFCAM_LOAD_COMPACT, EFFCAM_LOAD_COMPACT | EFFCAM_LOAD_IN_PLACE};
    for (size_t s = 0; s < 3; s++)
        for (size_t k = 0; k < 4; k++) {
            plan_equals_high_water_of(file, n, sizes[s][0], sizes[s][1], NULL, flags[k], EFFCAM_MODE_PREDICT);
            plan_equals_high_water_of(file, n, sizes[s][0], sizes[s][1], NULL, flags[k], EFFCAM_MODE_GRADCAM);
        }
    /* the same results */
    effcam_spec spec = {.height = 37, .width = 53, .mode = EFFCAM_MODE_GRADCAM};
    effcam_model *m[2];
    effcam_ctx *c[2];
    const float *map[2];
    int mh[2], mw[2];
    float *x = input(37, 53, 99);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(effcam_load_memory(file, n, &spec, k ? EFFCAM_LOAD_COMPACT : 0, NULL, 0, &m[k], &c[k], NULL),
                         EFFCAM_OK);
        assert_int_equal(effcam_predict_f32(c[k], x, 37, 53, 0), EFFCAM_OK);
        assert_int_equal(effcam_gradcam(c[k], NULL, &map[k], &mh[k], &mw[k]), EFFCAM_OK);
    }
    assert_int_equal(effcam_get_info(m[0], &info), EFFCAM_OK);
    assert_memory_equal(effcam_logits(c[0]), effcam_logits(c[1]), sizeof(float) * (size_t)info.num_classes);
    assert_int_equal(mh[0], mh[1]);
    assert_int_equal(mw[0], mw[1]);
    assert_memory_equal(map[0], map[1], sizeof(float) * (size_t)mh[0] * (size_t)mw[0]);
    fprintf(stderr, "tiny_effnet: Winograd weights %zu bytes at load; scratch %zu (compact %zu)\n", pd.prepacked_bytes,
            pd.scratch_bytes, pc.scratch_bytes);
    for (int k = 0; k < 2; k++) effcam_free(m[k]);
    free(x);
    free(file);
}

static void test_allocation_counts(void **state) {
    (void)state;
    effcam_model *m;
    effcam_ctx *ctx;
    /* library-allocated: exactly one allocation */
    count_start();
    assert_int_equal(effcam_load_memory(g_file, g_size, NULL, 0, NULL, 0, &m, &ctx, NULL), EFFCAM_OK);
    long n = count_stop();
#ifndef EFFCAM_SANITIZE
    assert_int_equal(n, 1);
#else
    assert_int_equal(n, 1);
#endif
    float *x = input(32, 32, 9);
    count_start();
    for (int i = 0; i < 5; i++) assert_int_equal(effcam_predict_f32(ctx, x, 32, 32, 0), EFFCAM_OK);
    uint8_t px[50 * 70 * 3];
    memset(px, 77, sizeof px);
    assert_int_equal(effcam_predict_rgb8(ctx, px, 50, 70, 0), EFFCAM_OK);
    int cls[3];
    float pr[3];
    effcam_top_k(ctx, 3, cls, pr);
    assert_int_equal(count_stop(), 0);
    count_start();
    effcam_free(m);
    assert_int_equal(count_stop(), 1); /* the one free */
    free(x);
}

static void test_short_buffer(void **state) {
    (void)state;
    effcam_spec spec = {.height = 37, .width = 41, .layer = "top_conv"};
    effcam_plan p;
    assert_int_equal(effcam_plan_memory(g_file, g_size, &spec, 0, &p, NULL), EFFCAM_OK);
    uint8_t *arena = aligned_alloc(64, p.total_bytes + 64);
    memset(arena, 0x5A, p.total_bytes + 64);
    effcam_model *m = (effcam_model *)1;
    effcam_ctx *ctx = (effcam_ctx *)1;
    effcam_error err;
    assert_int_equal(effcam_load_memory(g_file, g_size, &spec, 0, arena, p.total_bytes - 1, &m, &ctx, &err), EFFCAM_E_BUFFER_SMALL);
    assert_int_equal(err.status, EFFCAM_E_BUFFER_SMALL);
    assert_true(strlen(err.message) > 0);
    assert_null(m);
    assert_null(ctx);
    for (size_t i = 0; i < p.total_bytes + 64; i++) assert_int_equal(arena[i], 0x5A);
    /* misaligned caller memory is refused too */
    assert_int_equal(effcam_load_memory(g_file, g_size, &spec, 0, arena + 1, p.total_bytes, &m, &ctx, &err), EFFCAM_E_ARG);
    /* exact size works */
    assert_int_equal(effcam_load_memory(g_file, g_size, &spec, 0, arena, p.total_bytes, &m, &ctx, &err), EFFCAM_OK);
    /* extra workspace one byte short */
    size_t ws;
    assert_int_equal(effcam_workspace_bytes(m, &spec, &ws, NULL), EFFCAM_OK);
    uint8_t *wmem = aligned_alloc(64, ws + 64);
    effcam_ctx *c2;
    assert_int_equal(effcam_ctx_init(m, &spec, wmem, ws - 1, &c2, &err), EFFCAM_E_BUFFER_SMALL);
    assert_int_equal(effcam_ctx_init(m, &spec, wmem, ws, &c2, &err), EFFCAM_OK);
    effcam_free(m);
    free(wmem);
    free(arena);
}

static void test_file_and_in_place(void **state) {
    (void)state;
    char path[] = "/tmp/effcam_test_memory_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    fwrite(g_file, 1, g_size, f);
    fclose(f);
    effcam_plan pf, pm, pfi;
    assert_int_equal(effcam_plan_file(path, NULL, 0, &pf, NULL), EFFCAM_OK);
    assert_int_equal(effcam_plan_memory(g_file, g_size, NULL, 0, &pm, NULL), EFFCAM_OK);
    assert_memory_equal(&pf, &pm, sizeof pf);
    assert_int_equal(effcam_plan_file(path, NULL, EFFCAM_LOAD_IN_PLACE, &pfi, NULL), EFFCAM_OK);
    assert_int_equal(pfi.weights_bytes, 0);
    assert_int_equal(pfi.workspace_bytes, pf.workspace_bytes);
    float *x = input(32, 32, 77);
    float logits[3][6];
    unsigned fl[3] = {0, EFFCAM_LOAD_IN_PLACE, EFFCAM_LOAD_NO_CHECKSUM};
    for (int k = 0; k < 3; k++) {
        effcam_model *m;
        effcam_ctx *ctx;
        effcam_error err;
        effcam_status st = effcam_load_file(path, NULL, fl[k], NULL, 0, &m, &ctx, &err);
        if (st) fail_msg("load_file flags %u: %s", fl[k], err.message);
        assert_int_equal(effcam_predict_f32(ctx, x, 32, 32, 0), EFFCAM_OK);
        memcpy(logits[k], effcam_logits(ctx), sizeof logits[k]);
        effcam_free(m);
    }
    assert_memory_equal(logits[0], logits[1], sizeof logits[0]);
    assert_memory_equal(logits[0], logits[2], sizeof logits[0]);
    effcam_error err;
    assert_int_equal(effcam_load_file("/nonexistent/model.ecw", NULL, 0, NULL, 0, &(effcam_model *){0}, NULL, &err), EFFCAM_E_IO);
    remove(path);
    free(x);
}

typedef struct { effcam_ctx *ctx; float *x; float out[6]; int rc; } job;
static void *worker(void *arg) {
    job *j = arg;
    for (int i = 0; i < 20; i++) j->rc |= effcam_predict_f32(j->ctx, j->x, 32, 32, 0);
    memcpy(j->out, effcam_logits(j->ctx), sizeof j->out);
    return NULL;
}

static void test_concurrent_workspaces(void **state) {
    (void)state;
    effcam_model *m;
    effcam_ctx *c0;
    assert_int_equal(effcam_load_memory(g_file, g_size, NULL, 0, NULL, 0, &m, &c0, NULL), EFFCAM_OK);
    job jobs[3];
    pthread_t th[3];
    float expect[3][6];
    for (int k = 0; k < 3; k++) {
        jobs[k].x = input(32, 32, 100 + k);
        jobs[k].rc = 0;
        assert_int_equal(effcam_predict_f32(c0, jobs[k].x, 32, 32, 0), EFFCAM_OK);
        memcpy(expect[k], effcam_logits(c0), sizeof expect[k]);
        assert_int_equal(effcam_ctx_init(m, NULL, NULL, 0, &jobs[k].ctx, NULL), EFFCAM_OK);
    }
    for (int k = 0; k < 3; k++) pthread_create(&th[k], NULL, worker, &jobs[k]);
    for (int k = 0; k < 3; k++) pthread_join(th[k], NULL);
    for (int k = 0; k < 3; k++) {
        assert_int_equal(jobs[k].rc, 0);
        assert_memory_equal(jobs[k].out, expect[k], sizeof expect[k]);
        effcam_ctx_free(jobs[k].ctx);
        free(jobs[k].x);
    }
    effcam_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_equals_high_water),
        cmocka_unit_test(test_plan_f32_and_mixed_weights),
        cmocka_unit_test(test_prepacked_winograd),
        cmocka_unit_test(test_allocation_counts),
        cmocka_unit_test(test_short_buffer),
        cmocka_unit_test(test_file_and_in_place),
        cmocka_unit_test(test_concurrent_workspaces),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
