#define _POSIX_C_SOURCE 200809L
/* Image path memory: large generated photos (6000x4000 and the widest the
 * plan allows) decode and render inside the planned block, the codecs'
 * working sets stay under the plan's bounds, and nothing calls malloc during
 * a request (counted by interposing malloc in non-sanitizer builds). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>

#include "effcam_image.h"

/* ---- allocation counting (glibc; not under ASan, which owns malloc) -------- */
#if !defined(EFFCAM_SANITIZE)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
extern void *__libc_memalign(size_t, size_t);
static volatile int g_count_on;
static volatile size_t g_nalloc, g_bytes;
void *malloc(size_t n) { if (g_count_on) { g_nalloc++; g_bytes += n; } return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (g_count_on) { g_nalloc++; g_bytes += a * b; } return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (g_count_on) { g_nalloc++; g_bytes += n; } return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *aligned_alloc(size_t al, size_t n) { if (g_count_on) { g_nalloc++; g_bytes += n; } return __libc_memalign(al, n); }
#define COUNTING 1
#else
static int g_count_on;
static size_t g_nalloc, g_bytes;
#define COUNTING 0
#endif

static void count_start(void) { g_nalloc = 0; g_bytes = 0; g_count_on = 1; }
static size_t count_stop(void) { g_count_on = 0; return g_nalloc; }

/* ---- generators ---------------------------------------------------------------- */
typedef struct buf { uint8_t *p; size_t n; } buf;

static void gen_row(uint8_t *row, int w, int y, int nc) {
    for (int x = 0; x < w; x++)
        for (int c = 0; c < nc; c++)
            row[x * nc + c] = (uint8_t)((x * (c + 1) + y * (3 - c) + ((x / 37 + y / 29) & 1) * 60) & 255);
}

/* JPEG: comps 1 (gray), 3 (YCbCr with sampling h0 x v0 on Y), 4 (CMYK). */
static int g_orient = 0;
static buf gen_jpeg(int w, int h, int comps, int hs, int vs, int progressive) {
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    unsigned long n = 0;
    unsigned char *out = NULL;
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = (JDIMENSION)w; c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 80, TRUE);
    if (comps == 3) { c.comp_info[0].h_samp_factor = hs; c.comp_info[0].v_samp_factor = vs; }
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    if (g_orient) {
        /* Exif, little-endian TIFF, IFD0 with one entry: Orientation */
        uint8_t ex[6 + 8 + 2 + 12 + 4] = {'E', 'x', 'i', 'f', 0, 0, 'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0,
                                          0x12, 0x01, 3, 0, 1, 0, 0, 0, (uint8_t)g_orient, 0, 0, 0, 0, 0, 0, 0};
        jpeg_write_marker(&c, JPEG_APP0 + 1, ex, sizeof ex);
    }
    uint8_t *row = malloc((size_t)w * comps);
    while (c.next_scanline < c.image_height) {
        gen_row(row, w, (int)c.next_scanline, comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    buf b = {out, n};
    return b;
}

static void pw(png_structp p, png_bytep d, size_t n) {
    buf *b = png_get_io_ptr(p);
    b->p = realloc(b->p, b->n + n);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void pf(png_structp p) { (void)p; }

static buf gen_png(int w, int h, int color, int depth, int interlace) {
    buf b = {NULL, 0};
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    png_set_write_fn(p, &b, pw, pf);
    png_set_compression_level(p, 1);
    png_set_IHDR(p, info, (png_uint_32)w, (png_uint_32)h, depth, color,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, 0, 0);
    png_write_info(p, info);
    int nc = color == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : color == PNG_COLOR_TYPE_RGB ? 3 : 1;
    size_t rb = (size_t)w * nc * (depth / 8);
    uint8_t *row = malloc(rb);
    int passes = interlace ? png_set_interlace_handling(p) : 1;
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < h; y++) {
            gen_row(row, (int)(rb), y, 1);
            png_write_row(p, row);
        }
    png_write_end(p, info);
    png_destroy_write_struct(&p, &info);
    free(row);
    return b;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int discard(void *u, const void *d, size_t n) { (void)d; *(size_t *)u += n; return 0; }

static void run_case(const char *name, buf b, effcam_image *img, const effcam_image_plan *pl, int render) {
    effcam_decode_opts o = {0};
    o.out_width = 300; o.out_height = 300; o.filter = EFFCAM_FILTER_LANCZOS;
    effcam_image_info info;
    effcam_error err;
    size_t fixed = pl->handle_bytes + pl->tensor_bytes;
    for (int dct = 0; dct < 2; dct++) {
        o.flags = dct ? 0 : EFFCAM_IMG_NO_DCT;
        double t0 = now();
        count_start();
        effcam_status st = effcam_image_decode_memory(img, b.p, b.n, &o, &info, &err);
        size_t na = count_stop();
        double dt = now() - t0;
        if (st) printf("%s: %s\n", name, err.message);
        assert_int_equal(st, EFFCAM_OK);
        printf("%-34s %5dx%-5d dct %d/8  work used %9zu of planned decode %9zu (block %zu)  mallocs %zu%s  %.3f s\n",
               name, info.width, info.height, info.dct_scale, info.high_water - fixed, pl->decode_bytes,
               pl->total_bytes, na, COUNTING ? "" : " (not counted)", dt);
        assert_int_equal(na, 0);
        assert_true(info.high_water <= pl->total_bytes);
    }
    if (render && pl->render_bytes) {
        effcam_render_opts ro = {0};
        ro.alpha = 0.4f; ro.format = EFFCAM_OUT_PNG; ro.png_level = 1;
        ro.flags = EFFCAM_RENDER_NORMALIZE;
        float cam[100];
        for (int i = 0; i < 100; i++) cam[i] = (float)(i % 10) / 9.f;
        size_t outn = 0;
        for (int fmt = 0; fmt < 2; fmt++) {
            ro.format = (effcam_out_format)fmt;
            outn = 0;
            double t0 = now();
            count_start();
            effcam_status st = effcam_image_render_memory(img, b.p, b.n, cam, 10, 10, &ro, discard, &outn, &info, &err);
            size_t na = count_stop();
            double dt = now() - t0;
            if (st) printf("%s render: %s\n", name, err.message);
            assert_int_equal(st, EFFCAM_OK);
            printf("%-34s render %s %dx%d at full size: %zu bytes out, block high-water %zu of %zu, mallocs %zu, %.2f s\n",
                   name, fmt ? "JPEG" : "PNG", info.out_width, info.out_height, outn, info.high_water, pl->total_bytes,
                   na, dt);
            assert_int_equal(na, 0);
        }
    }
}

static void test_large(void **state) {
    (void)state;
    effcam_image_limits L = {0};
    L.max_width = 6000; L.max_height = 6000; L.max_pixels = 24000000;
    L.max_progressive_pixels = 24000000;
    L.max_render_width = 6000; L.max_render_height = 6000;
    effcam_image_plan pl;
    assert_int_equal(effcam_image_plan_bytes(&L, &pl), EFFCAM_OK);
    printf("plan for 6000x6000 / 24 MP (progressive too), 300x300 tensor, 6000-wide render:\n"
           "  total %zu = handle %zu + tensor %zu + work %zu (decode %zu, render %zu; jpeg %zu + coef %zu, png %zu); "
           "outside (libjpeg create) %zu\n",
           pl.total_bytes, pl.handle_bytes, pl.tensor_bytes, pl.work_bytes, pl.decode_bytes, pl.render_bytes,
           pl.jpeg_codec_bytes, pl.jpeg_coef_bytes, pl.png_codec_bytes, pl.outside_bytes);
    void *mem = aligned_alloc(64, (pl.total_bytes + 63) & ~(size_t)63);
    effcam_image *img = NULL;
    effcam_error err;
    count_start();
    assert_int_equal(effcam_image_init(&L, mem, pl.total_bytes, &img, &err), EFFCAM_OK);
    size_t na = count_stop();
    printf("init: %zu mallocs, %zu bytes outside the block (libjpeg jpeg_create_*)%s\n", na, (size_t)g_bytes,
           COUNTING ? "" : " (not counted)");
    if (COUNTING) assert_true(g_bytes <= pl.outside_bytes);
    struct { const char *name; int w, h, comps, hs, vs, prog; } J[] = {
        {"JPEG 4:2:0 6000x4000", 6000, 4000, 3, 2, 2, 0},
        {"JPEG 4:4:4 6000x4000", 6000, 4000, 3, 1, 1, 0},
        {"JPEG 4:2:2 4000x6000", 4000, 6000, 3, 2, 1, 0},
        {"JPEG gray 6000x4000", 6000, 4000, 1, 1, 1, 0},
        {"JPEG CMYK 6000x4000", 6000, 4000, 4, 1, 1, 0},
        {"JPEG 4:2:0 progressive 6000x4000", 6000, 4000, 3, 2, 2, 1},
        {"JPEG 4:4:4 progressive 4000x3000", 4000, 3000, 3, 1, 1, 1},
    };
    for (size_t i = 0; i < sizeof J / sizeof *J; i++) {
        buf b = gen_jpeg(J[i].w, J[i].h, J[i].comps, J[i].hs, J[i].vs, J[i].prog);
        run_case(J[i].name, b, img, &pl, i == 0);
        free(b.p);
    }
    /* the common phone case: stored 6000x4000, EXIF orientation 6 */
    g_orient = 6;
    buf b6 = gen_jpeg(6000, 4000, 3, 2, 2, 0);
    g_orient = 0;
    run_case("JPEG 4:2:0 6000x4000 EXIF 6", b6, img, &pl, 1);
    free(b6.p);
    struct { const char *name; int w, h, color, depth, il; } P[] = {
        {"PNG RGB8 6000x4000", 6000, 4000, PNG_COLOR_TYPE_RGB, 8, 0},
        {"PNG RGBA16 6000x4000", 6000, 4000, PNG_COLOR_TYPE_RGB_ALPHA, 16, 0},
        {"PNG RGBA16 interlaced 6000x4000", 6000, 4000, PNG_COLOR_TYPE_RGB_ALPHA, 16, 1},
        {"PNG gray16 6000x4000", 6000, 4000, PNG_COLOR_TYPE_GRAY, 16, 0},
    };
    for (size_t i = 0; i < sizeof P / sizeof *P; i++) {
        buf b = gen_png(P[i].w, P[i].h, P[i].color, P[i].depth, P[i].il);
        run_case(P[i].name, b, img, &pl, i == 1);
        free(b.p);
    }
    effcam_image_free(img);
    free(mem);
}

/* A progressive JPEG over the coefficient budget is refused before decoding. */
static void test_progressive_refused(void **state) {
    (void)state;
    effcam_image_limits L = {0};
    L.max_progressive_pixels = 1000000;
    effcam_image_plan pl;
    effcam_image_plan_bytes(&L, &pl);
    void *mem = aligned_alloc(64, (pl.total_bytes + 63) & ~(size_t)63);
    effcam_image *img = NULL;
    assert_int_equal(effcam_image_init(&L, mem, pl.total_bytes, &img, NULL), EFFCAM_OK);
    buf b = gen_jpeg(2000, 1500, 3, 2, 2, 1);
    effcam_decode_opts o = {0};
    o.out_width = 300; o.out_height = 300;
    effcam_error err;
    effcam_status st = effcam_image_decode_memory(img, b.p, b.n, &o, NULL, &err);
    printf("progressive 2000x1500 with a 1 MP budget: %s (%s)\n", effcam_strerror(st), err.message);
    assert_int_equal(st, EFFCAM_E_DIMS);
    free(b.p);
    b = gen_jpeg(1000, 900, 3, 2, 2, 1);
    assert_int_equal(effcam_image_decode_memory(img, b.p, b.n, &o, NULL, &err), EFFCAM_OK);
    free(b.p);
    effcam_image_free(img);
    free(mem);
}

/* Widest images the default limits allow: the per-column bounds hold. */
static void test_wide(void **state) {
    (void)state;
    effcam_image_limits L = {0};
    L.max_render_width = 16384; L.max_render_height = 256;
    effcam_image_plan pl;
    effcam_image_plan_bytes(&L, &pl);
    void *mem = aligned_alloc(64, (pl.total_bytes + 63) & ~(size_t)63);
    effcam_image *img = NULL;
    assert_int_equal(effcam_image_init(&L, mem, pl.total_bytes, &img, NULL), EFFCAM_OK);
    struct { int comps, hs, vs; } K[] = {{3, 2, 2}, {3, 1, 1}, {4, 1, 1}, {3, 2, 1}, {3, 1, 2}, {1, 1, 1}};
    for (size_t i = 0; i < sizeof K / sizeof *K; i++) {
        buf b = gen_jpeg(16384, 64, K[i].comps, K[i].hs, K[i].vs, 0);
        char name[64];
        snprintf(name, sizeof name, "JPEG 16384 wide c%d %dx%d", K[i].comps, K[i].hs, K[i].vs);
        run_case(name, b, img, &pl, 1);
        free(b.p);
    }
    buf b = gen_png(16384, 64, PNG_COLOR_TYPE_RGB_ALPHA, 16, 1);
    run_case("PNG RGBA16 interlaced 16384 wide", b, img, &pl, 1);
    free(b.p);
    effcam_image_free(img);
    free(mem);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progressive_refused),
        cmocka_unit_test(test_wide),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
