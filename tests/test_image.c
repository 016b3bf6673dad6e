/* Image path: decoding vs libjpeg-turbo's / libpng's own full decode,
 * resize policies vs Pillow / torchvision, EXIF orientations, hostile files,
 * rendering, planning. Fixtures: tools/image_fixtures.py (ctest fixture
 * image_fixtures) into $EFFCAM_BUILD_DIR/image_fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "effcam_image.h"

static char g_fx[1024];
static char g_isic[1024];

static void *aalloc(size_t n) { return aligned_alloc(64, (n + 63) & ~(size_t)63); }

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    if (fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); fclose(f); return NULL; }
    fclose(f);
    *n = (size_t)sz;
    return b;
}

static int have_fixtures(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/manifest.txt", g_fx);
    FILE *f = fopen(p, "r");
    if (!f) { printf("SKIP: fixtures missing at %s (run tools/image_fixtures.py)\n", g_fx); return 0; }
    fclose(f);
    return 1;
}

/* ---- reference full decodes with the libraries' own APIs -------------------- */
struct rjerr { struct jpeg_error_mgr pub; jmp_buf jb; };
static void rj_exit(j_common_ptr c) { longjmp(((struct rjerr *)c->err)->jb, 1); }

static uint8_t *ref_jpeg(const char *path, int *w, int *h) {
    size_t n;
    uint8_t *data = read_all(path, &n);
    if (!data) return NULL;
    struct jpeg_decompress_struct c;
    struct rjerr e;
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = rj_exit;
    uint8_t *volatile out = NULL;
    if (setjmp(e.jb)) { jpeg_destroy_decompress(&c); free(data); free(out); return NULL; }
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, data, (unsigned long)n);
    jpeg_read_header(&c, TRUE);
    int cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
    c.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&c);
    *w = (int)c.output_width; *h = (int)c.output_height;
    int nc = c.output_components;
    out = malloc((size_t)*w * *h * 3);
    uint8_t *row = malloc((size_t)*w * nc);
    while (c.output_scanline < c.output_height) {
        int y = (int)c.output_scanline;
        jpeg_read_scanlines(&c, &row, 1);
        for (int x = 0; x < *w; x++) {
            if (!cmyk) memcpy(out + ((size_t)y * *w + x) * 3, row + x * 3, 3);
            else {
                unsigned k = row[4 * x + 3];
                if (!c.saw_Adobe_marker) k = 255 - k;
                for (int q = 0; q < 3; q++) {
                    unsigned v = row[4 * x + q];
                    if (!c.saw_Adobe_marker) v = 255 - v;
                    out[((size_t)y * *w + x) * 3 + q] = (uint8_t)((v * k + 127) / 255);
                }
            }
        }
    }
    jpeg_finish_decompress(&c);
    jpeg_destroy_decompress(&c);
    free(row); free(data);
    return out;
}

static uint8_t *ref_png(const char *path, int *w, int *h, const uint8_t bg[3]) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    png_structp p = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    uint8_t *volatile rgba = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(p))) { png_destroy_read_struct(&p, &info, NULL); fclose(f); free(rgba); free(rows); return NULL; }
    png_init_io(p, f);
    png_read_info(p, info);
    png_set_expand(p);
    png_set_scale_16(p);
    png_set_gray_to_rgb(p);
    png_set_add_alpha(p, 0xFF, PNG_FILLER_AFTER);
    png_set_interlace_handling(p);
    png_read_update_info(p, info);
    *w = (int)png_get_image_width(p, info); *h = (int)png_get_image_height(p, info);
    rgba = malloc((size_t)*w * *h * 4);
    rows = malloc(sizeof(png_bytep) * (size_t)*h);
    for (int y = 0; y < *h; y++) rows[y] = rgba + (size_t)y * *w * 4;
    png_read_image(p, rows);
    png_destroy_read_struct(&p, &info, NULL);
    fclose(f);
    uint8_t *out = malloc((size_t)*w * *h * 3);
    for (size_t i = 0; i < (size_t)*w * *h; i++) {
        unsigned a = rgba[4 * i + 3];
        for (int q = 0; q < 3; q++) out[3 * i + q] = (uint8_t)((rgba[4 * i + q] * a + bg[q] * (255u - a) + 127u) / 255u);
    }
    free(rgba); free(rows);
    return out;
}

static effcam_image *mk(int max_out_w, int max_out_h, int render, void **mem) {
    effcam_image_limits L = {0};
    L.max_out_width = max_out_w; L.max_out_height = max_out_h;
    if (render) { L.max_render_width = 4096; L.max_render_height = 4096; }
    effcam_image_plan plan;
    assert_int_equal(effcam_image_plan_bytes(&L, &plan), EFFCAM_OK);
    *mem = aalloc(plan.total_bytes);
    memset(*mem, 0xA5, plan.total_bytes);
    effcam_image *img = NULL;
    effcam_error err;
    assert_int_equal(effcam_image_init(&L, *mem, plan.total_bytes, &img, &err), EFFCAM_OK);
    return img;
}

/* ---- identity decodes: exact against the libraries --------------------------- */
static void check_identity(effcam_image *img, const char *path, const uint8_t bg[3], int *checked) {
    int rw = 0, rh = 0;
    int is_png = strstr(path, ".png") != NULL;
    uint8_t *ref = is_png ? ref_png(path, &rw, &rh, bg) : ref_jpeg(path, &rw, &rh);
    assert_non_null(ref);
    effcam_decode_opts o = {0};
    o.out_width = rw; o.out_height = rh;
    o.filter = EFFCAM_FILTER_BILINEAR;
    memcpy(o.background, bg, 3);
    o.flags = EFFCAM_IMG_NO_ORIENT | EFFCAM_IMG_NO_DCT;
    effcam_image_info info;
    effcam_error err;
    effcam_status st = effcam_image_decode_file(img, path, &o, &info, &err);
    if (st) printf("%s: %s (%s)\n", path, effcam_strerror(st), err.message);
    assert_int_equal(st, EFFCAM_OK);
    int th, tw;
    const float *t = effcam_image_tensor(img, &th, &tw);
    assert_int_equal(th, rh);
    assert_int_equal(tw, rw);
    size_t bad = 0;
    for (size_t i = 0; i < (size_t)rw * rh * 3; i++) if (t[i] != (float)ref[i]) bad++;
    if (bad) printf("%s: %zu of %zu values differ\n", path, bad, (size_t)rw * rh * 3);
    assert_int_equal(bad, 0);
    /* the same from memory */
    size_t n;
    uint8_t *data = read_all(path, &n);
    assert_int_equal(effcam_image_decode_memory(img, data, n, &o, &info, &err), EFFCAM_OK);
    t = effcam_image_tensor(img, &th, &tw);
    for (size_t i = 0; i < (size_t)rw * rh * 3; i++) if (t[i] != (float)ref[i]) bad++;
    assert_int_equal(bad, 0);
    free(data); free(ref);
    (*checked)++;
}

static const char *k_gen[] = {"j420.jpg", "j444.jpg", "j422.jpg", "jprog.jpg", "jgray.jpg", "jcmyk.jpg",
                              "prgb.png", "prgba.png", "pgray.png", "pgraya.png", "ppal.png", "ppaltrns.png",
                              "pbit1.png", "p16rgb.png", "p16gray.png", "p16rgba.png", "prgb_il.png",
                              "prgba_il.png", "p16rgb_il.png", "ppal4_il.png", "pgray2.png", "tiny_il.png"};

static void test_identity_generated(void **state) {
    (void)state;
    if (!have_fixtures()) { skip(); return; }
    void *mem;
    effcam_image *img = mk(1100, 1100, 0, &mem);
    const uint8_t bg[3] = {10, 200, 30};
    int checked = 0;
    for (size_t k = 0; k < sizeof k_gen / sizeof *k_gen; k++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/gen/%s", g_fx, k_gen[k]);
        check_identity(img, p, bg, &checked);
    }
    printf("identity (exact) on %d generated kinds\n", checked);
    effcam_image_free(img);
    free(mem);
}

static void test_identity_isic(void **state) {
    (void)state;
    if (!g_isic[0]) {
        printf("SKIP LOUDLY: EFFCAM_SHARED_DATA/isic not found; ISIC identity checks NOT run\n");
        skip();
        return;
    }
    void *mem;
    effcam_image *img = mk(1100, 1100, 0, &mem);
    const uint8_t bg[3] = {0, 0, 0};
    int checked = 0;
    for (int i = 0; i < 5; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/ISIC_%07d.jpg", g_isic, i);
        FILE *f = fopen(p, "rb");
        if (!f) continue;
        fclose(f);
        check_identity(img, p, bg, &checked);
    }
    printf("identity (exact) on %d ISIC photos\n", checked);
    assert_true(checked > 0);
    effcam_image_free(img);
    free(mem);
}

/* ---- manifest: Pillow / torchvision references --------------------------------- */
static void test_manifest(void **state) {
    (void)state;
    if (!have_fixtures()) { skip(); return; }
    char mp[1200];
    snprintf(mp, sizeof mp, "%s/manifest.txt", g_fx);
    FILE *f = fopen(mp, "r");
    void *mem;
    effcam_image *img = mk(400, 400, 0, &mem);
    char ip[1024], rp[1024];
    int pol, fil, ow, oh, flags, dct, b0, b1, b2;
    double tol;
    int n = 0, fails = 0;
    double worst = 0;
    while (fscanf(f, "%1023s %1023s %d %d %d %d %d %d %d %d %d %lf", ip, rp, &pol, &fil, &ow, &oh, &flags, &dct,
                  &b0, &b1, &b2, &tol) == 12) {
        effcam_decode_opts o = {0};
        o.out_width = ow; o.out_height = oh;
        o.policy = (effcam_resize_policy)pol; o.filter = (effcam_filter)fil;
        o.flags = (unsigned)flags; o.dct_min_ratio = dct;
        o.background[0] = (uint8_t)b0; o.background[1] = (uint8_t)b1; o.background[2] = (uint8_t)b2;
        effcam_image_info info;
        effcam_error err;
        effcam_status st = effcam_image_decode_file(img, ip, &o, &info, &err);
        if (st) { printf("FAIL %s: %s\n", ip, err.message); fails++; continue; }
        size_t rn;
        uint8_t *ref = read_all(rp, &rn);
        assert_non_null(ref);
        assert_int_equal(rn, (size_t)ow * oh * 3);
        const float *t = effcam_image_tensor(img, NULL, NULL);
        double sum[3] = {0, 0, 0};
        int mx = 0;
        for (size_t i = 0; i < rn; i++) {
            double d = t[i] - ref[i];
            if (d < 0) d = -d;
            sum[i % 3] += d;
            if (d > mx) mx = (int)d;
        }
        double mean = 0;
        for (int c = 0; c < 3; c++) { double m = sum[c] / (double)(rn / 3); if (m > mean) mean = m; }
        if (mean > worst) worst = mean;
        const char *base = strrchr(rp, '/');
        if (mean > tol) {
            printf("FAIL %s: mean |diff| %.4f > %.2f (max %d) dct=%d/8\n", base + 1, mean, tol, mx, info.dct_scale);
            fails++;
        } else if (getenv("EFFCAM_VERBOSE")) {
            printf("ok %s: mean %.4f max %d dct %d/8\n", base + 1, mean, mx, info.dct_scale);
        }
        free(ref);
        n++;
    }
    fclose(f);
    printf("manifest: %d checks, %d failures, worst channel mean |diff| %.4f\n", n, fails, worst);
    assert_int_equal(fails, 0);
    assert_true(n > 20);
    effcam_image_free(img);
    free(mem);
}

/* ---- hostile inputs --------------------------------------------------------- */
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (uint8_t)v; }

static void test_hostile(void **state) {
    (void)state;
    void *mem;
    effcam_image *img = mk(300, 300, 1, &mem);
    effcam_decode_opts o = {0};
    o.out_width = 300; o.out_height = 300; o.filter = EFFCAM_FILTER_LANCZOS;
    effcam_error err;
    effcam_image_info info;
    /* PNG claiming 100000 x 100000: refused at the header */
    uint8_t png[64] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    put32(png + 8, 13);
    memcpy(png + 12, "IHDR", 4);
    put32(png + 16, 100000); put32(png + 20, 100000);
    png[24] = 8; png[25] = 2;
    put32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    effcam_status st = effcam_image_decode_memory(img, png, 33, &o, &info, &err);
    printf("100000x100000 PNG: %s (%s)\n", effcam_strerror(st), err.message);
    assert_int_equal(st, EFFCAM_E_DIMS);
    /* 30000 x 30000 within the side limit, over the pixel limit */
    put32(png + 16, 15000); put32(png + 20, 15000);
    put32(png + 29, (uint32_t)crc32(0, png + 12, 17));
    st = effcam_image_decode_memory(img, png, 33, &o, &info, &err);
    printf("15000x15000 PNG: %s (%s)\n", effcam_strerror(st), err.message);
    assert_int_equal(st, EFFCAM_E_DIMS);
    /* JPEG SOF claiming 60000 x 60000 */
    if (have_fixtures()) {
        char p[1200];
        snprintf(p, sizeof p, "%s/gen/j420.jpg", g_fx);
        size_t n;
        uint8_t *j = read_all(p, &n);
        for (size_t i = 0; i + 9 < n; i++)
            if (j[i] == 0xFF && j[i + 1] == 0xC0) { j[i + 5] = 0xEA; j[i + 6] = 0x60; j[i + 7] = 0xEA; j[i + 8] = 0x60; break; }
        st = effcam_image_decode_memory(img, j, n, &o, &info, &err);
        printf("60000x60000 JPEG: %s (%s)\n", effcam_strerror(st), err.message);
        assert_int_equal(st, EFFCAM_E_DIMS);
        free(j);
        /* truncations and corruptions of every kind: error codes, no crash */
        int ok = 0, errs = 0;
        for (size_t k = 0; k < sizeof k_gen / sizeof *k_gen; k++) {
            snprintf(p, sizeof p, "%s/gen/%s", g_fx, k_gen[k]);
            uint8_t *d = read_all(p, &n);
            uint8_t *c = malloc(n);
            for (int cut = 0; cut < 12; cut++) {
                size_t m = n * (size_t)cut / 12;
                st = effcam_image_decode_memory(img, d, m, &o, &info, &err);
                if (st) errs++; else ok++;
                if (st == EFFCAM_OK) printf("truncated %s at %zu of %zu decoded without error\n", k_gen[k], m, n);
                assert_int_not_equal(st, EFFCAM_OK); /* a truncated file is an error */
            }
            uint32_t rng = 12345u + (uint32_t)k;
            for (int trial = 0; trial < 40; trial++) {
                memcpy(c, d, n);
                for (int b = 0; b < 1 + trial % 8; b++) {
                    rng = rng * 1103515245u + 12345u;
                    size_t pos = (rng >> 8) % n;
                    rng = rng * 1103515245u + 12345u;
                    c[pos] ^= (uint8_t)(1u << ((rng >> 16) % 8));
                }
                st = effcam_image_decode_memory(img, c, n, &o, &info, &err);
                if (st) errs++; else ok++;
            }
            free(c); free(d);
        }
        printf("hostile: %d decoded anyway, %d refused with an error code\n", ok, errs);
    }
    /* not an image at all, empty, NULL */
    st = effcam_image_decode_memory(img, "GIF89a", 6, &o, &info, &err);
    assert_int_equal(st, EFFCAM_E_IMAGE);
    st = effcam_image_decode_memory(img, "", 0, &o, &info, &err);
    assert_int_equal(st, EFFCAM_E_IMAGE);
    assert_int_equal(effcam_image_decode_memory(img, NULL, 0, &o, &info, &err), EFFCAM_E_ARG);
    assert_int_equal(effcam_image_decode_file(img, "/nonexistent.jpg", &o, &info, &err), EFFCAM_E_IO);
    o.out_width = 301;
    assert_int_equal(effcam_image_decode_memory(img, png, 33, &o, &info, &err), EFFCAM_E_DIMS);
    {
        effcam_image_limits L = {0};
        L.max_out_width = 300; L.max_out_height = 300; L.max_render_width = 4096; L.max_render_height = 4096;
        effcam_image_plan pl;
        effcam_image_plan_bytes(&L, &pl);
        printf("hostile: block high-water %zu of %zu planned\n", effcam_image_high_water(img), pl.total_bytes);
        assert_true(effcam_image_high_water(img) <= pl.total_bytes);
    }
    effcam_image_free(img);
    free(mem);
}

/* ---- probing ------------------------------------------------------------------- */
static void test_probe(void **state) {
    (void)state;
    if (!have_fixtures()) { skip(); return; }
    void *mem;
    effcam_image *img = mk(300, 300, 0, &mem);
    static const struct { const char *f; int w, h, o, dw, dh; } P[] = {
        {"orient6.jpg", 64, 96, 6, 96, 64}, {"orient3.jpg", 96, 64, 3, 96, 64}, {"prgba_il.png", 203, 157, 1, 203, 157},
        {"jprog.jpg", 203, 157, 1, 203, 157}};
    for (size_t i = 0; i < sizeof P / sizeof *P; i++) {
        char p[1200];
        snprintf(p, sizeof p, "%s/gen/%s", g_fx, P[i].f);
        size_t n;
        uint8_t *d = read_all(p, &n);
        effcam_image_info info;
        effcam_error err;
        for (int part = 0; part < 3; part++) {
            size_t m = part == 0 ? n : part == 1 ? (n < 1500 ? n : 1500) : 0;
            effcam_status st = part == 0 ? effcam_image_probe_file(img, p, &info, &err)
                                         : effcam_image_probe(img, d, part == 1 ? m : n, &info, &err);
            if (st) printf("probe %s (%zu bytes): %s\n", P[i].f, m, err.message);
            assert_int_equal(st, EFFCAM_OK);
            assert_int_equal(info.width, P[i].w);
            assert_int_equal(info.height, P[i].h);
            assert_int_equal(info.orientation, P[i].o);
            assert_int_equal(info.display_width, P[i].dw);
            assert_int_equal(info.display_height, P[i].dh);
        }
        free(d);
    }
    effcam_image_free(img);
    free(mem);
}

/* ---- planning ------------------------------------------------------------- */
static void test_plan(void **state) {
    (void)state;
    effcam_image_plan a, b;
    effcam_image_limits L = {0};
    assert_int_equal(effcam_image_plan_bytes(&L, &a), EFFCAM_OK);
    assert_int_equal(effcam_image_plan_bytes(NULL, &b), EFFCAM_OK);
    assert_int_equal(a.total_bytes, b.total_bytes);
    assert_int_equal(a.total_bytes, a.handle_bytes + a.tensor_bytes + ((a.work_bytes + 63) & ~(size_t)63));
    printf("default plan (model 300x300, no render): %zu bytes (handle %zu, tensor %zu, work %zu; "
           "jpeg %zu + progressive %zu, png %zu)\n", a.total_bytes, a.handle_bytes, a.tensor_bytes, a.work_bytes,
           a.jpeg_codec_bytes, a.jpeg_coef_bytes, a.png_codec_bytes);
    void *mem = aalloc(a.total_bytes);
    effcam_image *img = NULL;
    effcam_error err;
    assert_int_equal(effcam_image_init(&L, mem, a.total_bytes - 1, &img, &err), EFFCAM_E_BUFFER_SMALL);
    assert_int_equal(effcam_image_init(&L, (uint8_t *)mem + 8, a.total_bytes, &img, &err), EFFCAM_E_ARG);
    assert_int_equal(effcam_image_init(&L, mem, a.total_bytes, &img, &err), EFFCAM_OK);
    assert_true(effcam_image_high_water(img) <= a.total_bytes);
    effcam_image_free(img);
    free(mem);
    L.max_width = 100000;
    assert_int_equal(effcam_image_plan_bytes(&L, &a), EFFCAM_E_DIMS);
}

/* ---- rendering -------------------------------------------------------------- */
typedef struct membuf { uint8_t *p; size_t n, cap; } membuf;
static int mb_write(void *u, const void *d, size_t n) {
    membuf *m = u;
    if (m->n + n > m->cap) { m->cap = (m->n + n) * 2; m->p = realloc(m->p, m->cap); }
    memcpy(m->p + m->n, d, n);
    m->n += n;
    return 0;
}

static uint8_t *png_decode_mem(const membuf *m, int *w, int *h) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, m->p, m->n)) return NULL;
    im.format = PNG_FORMAT_RGB;
    uint8_t *b = malloc(PNG_IMAGE_SIZE(im));
    if (!png_image_finish_read(&im, NULL, b, 0, NULL)) { free(b); return NULL; }
    *w = (int)im.width; *h = (int)im.height;
    return b;
}

static void test_render(void **state) {
    (void)state;
    if (!have_fixtures()) { skip(); return; }
    void *mem;
    effcam_image *img = mk(300, 300, 1, &mem);
    float cam[4 * 5];
    for (int i = 0; i < 20; i++) cam[i] = (float)i / 19.f;
    effcam_render_opts ro = {0};
    ro.alpha = 0.f;
    ro.format = EFFCAM_OUT_PNG;
    effcam_error err;
    effcam_image_info info;
    /* EXIF orientations: alpha 0 overlay == the photo, the right way up */
    for (int o = 1; o <= 8; o++) {
        char p[1200], r[1200];
        snprintf(p, sizeof p, "%s/gen/orient%d.jpg", g_fx, o);
        snprintf(r, sizeof r, "%s/ref/orient%d_id.rgb", g_fx, o);
        membuf m = {0};
        effcam_status st = effcam_image_render_file(img, p, cam, 4, 5, &ro, mb_write, &m, &info, &err);
        if (st) printf("render orient %d: %s\n", o, err.message);
        assert_int_equal(st, EFFCAM_OK);
        int w, h;
        uint8_t *px = png_decode_mem(&m, &w, &h);
        assert_non_null(px);
        assert_int_equal(w, 96);
        assert_int_equal(h, 64);
        size_t rn;
        uint8_t *ref = read_all(r, &rn);
        assert_int_equal(rn, (size_t)w * h * 3);
        assert_memory_equal(px, ref, rn);
        free(px); free(ref); free(m.p);
    }
    printf("render: EXIF orientations 1..8 upright, exact\n");
    {
        /* again with a tiny band: many passes, each cropped to its columns */
        effcam_image_limits L2 = {0};
        L2.max_render_width = 96; L2.max_render_height = 96; L2.render_band_rows = 1;
        effcam_image_plan p2;
        effcam_image_plan_bytes(&L2, &p2);
        void *m2 = aalloc(p2.total_bytes);
        effcam_image *i2 = NULL;
        assert_int_equal(effcam_image_init(&L2, m2, p2.total_bytes, &i2, &err), EFFCAM_OK);
        for (int o = 1; o <= 8; o++) {
            char p[1200], r[1200];
            snprintf(p, sizeof p, "%s/gen/orient%d.jpg", g_fx, o);
            snprintf(r, sizeof r, "%s/ref/orient%d_id.rgb", g_fx, o);
            for (int rs = 0; rs < 2; rs++) {
                membuf m = {0};
                effcam_render_opts r2 = ro;
                if (rs) { r2.width = 48; r2.height = 32; r2.filter = EFFCAM_FILTER_BILINEAR; }
                effcam_status st = effcam_image_render_file(i2, p, cam, 4, 5, &r2, mb_write, &m, &info, &err);
                if (st) printf("banded render orient %d: %s\n", o, err.message);
                assert_int_equal(st, EFFCAM_OK);
                int w, h;
                uint8_t *px = png_decode_mem(&m, &w, &h);
                assert_non_null(px);
                if (!rs) {
                    size_t rn;
                    uint8_t *ref = read_all(r, &rn);
                    assert_int_equal(rn, (size_t)w * h * 3);
                    assert_memory_equal(px, ref, rn);
                    free(ref);
                } else {
                    /* same as the single-pass render of the same size */
                    membuf m1 = {0};
                    assert_int_equal(effcam_image_render_file(img, p, cam, 4, 5, &r2, mb_write, &m1, &info, &err), EFFCAM_OK);
                    int w1, h1;
                    uint8_t *px1 = png_decode_mem(&m1, &w1, &h1);
                    assert_int_equal(w1 * h1, w * h);
                    int mx = 0;
                    for (int k = 0; k < w * h * 3; k++) if (abs(px[k] - px1[k]) > mx) mx = abs(px[k] - px1[k]);
                    assert_true(mx <= 1);
                    free(px1); free(m1.p);
                }
                free(px); free(m.p);
            }
        }
        effcam_image_free(i2);
        free(m2);
        printf("render: banded (4-row passes, cropped columns) orientations exact too\n");
    }
    /* a photo with the users' settings, panel and JPEG output, a resized panel */
    const char *photo = NULL;
    char pp[1200];
    if (g_isic[0]) { snprintf(pp, sizeof pp, "%s/ISIC_0000000.jpg", g_isic); photo = pp; }
    else { snprintf(pp, sizeof pp, "%s/gen/j420.jpg", g_fx); photo = pp; }
    ro.alpha = 0.4f; ro.cmap = EFFCAM_CMAP_JET; ro.flags = EFFCAM_RENDER_NORMALIZE;
    for (int panel = 0; panel < 2; panel++)
        for (int fmt = 0; fmt < 2; fmt++)
            for (int sz = 0; sz < 2; sz++) {
                membuf m = {0};
                ro.flags = EFFCAM_RENDER_NORMALIZE | (panel ? EFFCAM_RENDER_PANEL : 0);
                ro.format = (effcam_out_format)fmt;
                ro.width = sz ? 300 : 0; ro.height = sz ? 300 : 0;
                ro.filter = EFFCAM_FILTER_BILINEAR;
                effcam_status st = effcam_image_render_file(img, photo, cam, 4, 5, &ro, mb_write, &m, &info, &err);
                if (st) printf("render: %s\n", err.message);
                assert_int_equal(st, EFFCAM_OK);
                printf("render panel=%d %s size=%dx%d: %zu bytes, block high-water %zu\n", panel, fmt ? "JPEG" : "PNG",
                       info.out_width, info.out_height, m.n, info.high_water);
                if (fmt == 0) {
                    int w, h;
                    uint8_t *px = png_decode_mem(&m, &w, &h);
                    assert_non_null(px);
                    assert_int_equal(w, info.out_width);
                    assert_int_equal(h, info.out_height);
                    free(px);
                } else {
                    assert_true(m.n > 100 && m.p[0] == 0xFF && m.p[1] == 0xD8);
                }
                if (getenv("EFFCAM_KEEP_RENDER")) {
                    char o[256];
                    snprintf(o, sizeof o, "/tmp/effcam_render_p%d_s%d.%s", panel, sz, fmt ? "jpg" : "png");
                    FILE *f = fopen(o, "wb"); fwrite(m.p, 1, m.n, f); fclose(f);
                }
                free(m.p);
            }
    /* every colormap against matplotlib's 256-entry tables (written by
     * tools/image_fixtures.py): entry i is what v in [i/256, (i+1)/256) maps to */
    char cp[1200];
    snprintf(cp, sizeof cp, "%s/cmaps.rgb", g_fx);
    size_t cn = 0;
    uint8_t *tab = read_all(cp, &cn);
    if (!tab) {
        const char *req = getenv("EFFCAM_REQUIRE_REFS");
        if (req && atoi(req)) fail_msg("%s missing: python3-matplotlib not installed?", cp);
        printf("SKIP: colormap check: %s missing (needs python3-matplotlib)\n", cp);
    } else {
        assert_int_equal(cn, 5 * 256 * 3);
        const effcam_colormap maps[5] = {EFFCAM_CMAP_JET, EFFCAM_CMAP_TURBO, EFFCAM_CMAP_VIRIDIS,
                                         EFFCAM_CMAP_INFERNO, EFFCAM_CMAP_GRAY};
        const char *mn[5] = {"jet", "turbo", "viridis", "inferno", "gray"};
        for (int m = 0; m < 5; m++) {
            int worst = 0;
            for (int i = 0; i < 256; i++) {
                uint8_t c[3];
                effcam_colormap_rgb(maps[m], (i + 0.5f) / 256.f, c);
                for (int k = 0; k < 3; k++) {
                    int d = abs(c[k] - tab[(m * 256 + i) * 3 + k]);
                    if (d > worst) worst = d;
                }
            }
            printf("colormap %s vs matplotlib: max |diff| %d/255 over 256 entries\n", mn[m], worst);
            assert_true(worst <= 1); /* jet: segment interpolation in double vs matplotlib's float */
        }
        free(tab);
    }
    effcam_image_free(img);
    free(mem);
}

int main(void) {
    const char *b = getenv("EFFCAM_BUILD_DIR");
    snprintf(g_fx, sizeof g_fx, "%s/image_fixtures", b ? b : ".");
    const char *s = getenv("EFFCAM_SHARED_DATA");
    if (s) {
        snprintf(g_isic, sizeof g_isic, "%s/isic", s);
        char p[1200];
        snprintf(p, sizeof p, "%s/ISIC_0000000.jpg", g_isic);
        FILE *f = fopen(p, "rb");
        if (f) fclose(f); else g_isic[0] = 0;
    }
    if (!g_isic[0]) printf("WARNING: ISIC photos not found (EFFCAM_SHARED_DATA=%s); photo tests are SKIPPED\n", s ? s : "(unset)");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_identity_generated),
        cmocka_unit_test(test_identity_isic),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
