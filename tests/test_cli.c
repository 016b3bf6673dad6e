/* Checks the effcam CLI end to end: runs the built binary
 * ($EFFCAM_BUILD_DIR/effcam) on a small model and on images written here
 * (PNG via libpng, JPEG via libjpeg), plus broken ones: truncated JPEG and
 * PNG, a text file named .jpg, a PNG claiming 100000x100000 pixels. Checks
 * exit codes (0 ok, 1 runtime error, 2 usage; never a crash) and output.
 *
 * The model is tests/fixtures/tiny_effnet.ecw if present, else one written
 * by tests/cli_model.py (python3 + numpy); without either the test skips. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* wait4 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "ecw_build.h"
#include "test_util.h"

static char g_bin[1024];
static char g_dir[256];
static char g_model[1200];
static char g_out[1 << 16];
static int g_ready;

static const char *path_in(const char *name) {
    static char buf[8][1400];
    static int k;
    char *p = buf[k++ & 7];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

/* Runs a shell command, stdout + stderr into g_out. Returns the exit code,
 * or 128 + signal when the process was killed (a crash). */
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[4200];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    assert_non_null(p);
    size_t n = fread(g_out, 1, sizeof g_out - 1, p);
    g_out[n] = '\0';
    int status = pclose(p);
    /* the shell reports a signal-killed child as 128 + signal */
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (rc != 0) fprintf(stderr, "[%s] -> %d\n%s", cmd, rc, g_out);
    return rc;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void make_pixels(uint8_t *px, int w, int h, int seed) {
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + (y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w - 1));
            p[1] = (uint8_t)((y * 255 / (h - 1) + seed * 80) & 255);
            p[2] = (uint8_t)(((x / 8 + y / 8) & 1) ? 200 : 30);
        }
}

static int write_png(const char *path, int w, int h, int seed, int gray_alpha) {
    uint8_t *px = malloc((size_t)w * h * 3);
    if (!px) return -1;
    make_pixels(px, w, h, seed);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    int ok;
    if (gray_alpha) {
        /* grayscale + alpha: the CLI must convert it to RGB8 */
        uint8_t *ga = malloc((size_t)w * h * 2);
        for (int i = 0; ga && i < w * h; i++) {
            ga[2 * i] = px[3 * i + 1];
            ga[2 * i + 1] = (uint8_t)(i & 255);
        }
        img.format = PNG_FORMAT_GA;
        ok = ga && png_image_write_to_file(&img, path, 0, ga, 0, NULL);
        free(ga);
    } else {
        img.format = PNG_FORMAT_RGB;
        ok = png_image_write_to_file(&img, path, 0, px, 0, NULL);
    }
    free(px);
    return ok ? 0 : -1;
}

static int write_jpeg(const char *path, int w, int h, int seed) {
    uint8_t *px = malloc((size_t)w * h * 3);
    FILE *f = fopen(path, "wb");
    if (!px || !f) { free(px); if (f) fclose(f); return -1; }
    make_pixels(px, w, h, seed);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 92, TRUE);
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    fclose(f);
    free(px);
    return 0;
}

static void truncate_copy(const char *src, const char *dst, double frac) {
    size_t n = 0;
    uint8_t *d = tu_read_file(src, &n);
    assert_non_null(d);
    write_bytes(dst, d, (size_t)(n * frac));
    free(d);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* A valid PNG header claiming 100000 x 100000 RGB pixels, a tiny IDAT. */
static void write_huge_png(const char *path) {
    uint8_t buf[256];
    size_t n = 0;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    n = 8;
    uint8_t ihdr[13];
    put_be32(ihdr, 100000);
    put_be32(ihdr + 4, 100000);
    ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = ihdr[11] = ihdr[12] = 0;
    uint8_t idat_raw[64] = {0}, idat[128];
    uLongf idat_n = sizeof idat;
    assert_int_equal(compress(idat, &idat_n, idat_raw, sizeof idat_raw), Z_OK);
    const struct { const char *type; const uint8_t *d; size_t len; } chunks[3] = {
        {"IHDR", ihdr, 13}, {"IDAT", idat, idat_n}, {"IEND", NULL, 0}};
    for (int i = 0; i < 3; i++) {
        put_be32(buf + n, (uint32_t)chunks[i].len);
        memcpy(buf + n + 4, chunks[i].type, 4);
        if (chunks[i].len) memcpy(buf + n + 8, chunks[i].d, chunks[i].len);
        uLong crc = crc32(0, buf + n + 4, (uInt)(4 + chunks[i].len));
        put_be32(buf + n + 8 + chunks[i].len, (uint32_t)crc);
        n += 12 + chunks[i].len;
    }
    write_bytes(path, buf, n);
}

static int setup(void **state) {
    (void)state;
    const char *bd = tu_env("EFFCAM_BUILD_DIR", ".");
    const char *sd = tu_env("EFFCAM_SOURCE_DIR", "..");
    snprintf(g_bin, sizeof g_bin, "%s/effcam", bd);
    if (access(g_bin, X_OK) != 0) {
        fprintf(stderr, "test_cli: %s is not built\n", g_bin);
        return -1;
    }
    strcpy(g_dir, "/tmp/effcam_test_cli_XXXXXX");
    if (!mkdtemp(g_dir)) return -1;

    snprintf(g_model, sizeof g_model, "%s/tests/fixtures/tiny_effnet.ecw", sd);
    if (access(g_model, R_OK) != 0) {
        snprintf(g_model, sizeof g_model, "%s", path_in("cli_model.ecw"));
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s '%s/tests/cli_model.py' '%s' 2>&1",
                 tu_env("EFFCAM_PYTHON", "/usr/bin/python3"), sd, g_model);
        if (system(cmd) != 0 || access(g_model, R_OK) != 0) {
            tu_skip_note("test_cli", "no tests/fixtures/tiny_effnet.ecw and "
                                     "tests/cli_model.py could not write one");
            return 0; /* g_ready stays 0: every test skips */
        }
    }
    if (write_png(path_in("a.png"), 50, 40, 0, 0) || write_png(path_in("ga.png"), 33, 21, 1, 1) ||
        write_jpeg(path_in("b.jpg"), 64, 48, 2))
        return -1;
    truncate_copy(path_in("b.jpg"), path_in("trunc.jpg"), 0.5);
    truncate_copy(path_in("b.jpg"), path_in("trunc_head.jpg"), 0.02);
    truncate_copy(path_in("a.png"), path_in("trunc.png"), 0.5);
    const char *text = "this is not a picture\n";
    write_bytes(path_in("text.jpg"), text, strlen(text));
    write_bytes(path_in("empty.png"), "", 0);
    write_huge_png(path_in("huge.png"));
    g_ready = 1;
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (g_dir[0] && !getenv("EFFCAM_KEEP_TMP")) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
        if (system(cmd) != 0) fprintf(stderr, "test_cli: could not remove %s\n", g_dir);
    }
    return 0;
}

#define NEED_READY() do { if (!g_ready) skip(); } while (0)

/* The unsigned integer after "key": in a JSON object. */
static int json_u64(const char *json, const char *key, unsigned long long *v) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    return p && sscanf(p + strlen(pat), "%llu", v) == 1 ? 0 : -1;
}

static void test_usage(void **state) {
    (void)state;
    NEED_READY();
    assert_int_equal(run("'%s' --version", g_bin), 0);
    assert_non_null(strstr(g_out, "effcam 0."));
    assert_int_equal(run("'%s' --help", g_bin), 0);
    assert_non_null(strstr(g_out, "predict"));
    assert_int_equal(run("'%s' predict --help", g_bin), 0);
    assert_non_null(strstr(g_out, "--top"));
    assert_int_equal(run("'%s' plan --help", g_bin), 0);
    assert_int_equal(run("'%s' info --help", g_bin), 0);
    assert_int_equal(run("'%s'", g_bin), 2);
    assert_int_equal(run("'%s' frobnicate", g_bin), 2);
    assert_int_equal(run("'%s' plan", g_bin), 2);
    assert_int_equal(run("'%s' plan '%s' --mode sideways", g_bin, g_model), 2);
    assert_int_equal(run("'%s' plan '%s' --size 0x5", g_bin, g_model), 2);
    assert_int_equal(run("'%s' predict '%s'", g_bin, g_model), 2);
    assert_int_equal(run("'%s' predict '%s' '%s' --top", g_bin, g_model, path_in("a.png")), 2);
    assert_int_equal(run("'%s' predict '%s' '%s' --top 0", g_bin, g_model, path_in("a.png")), 2);
    assert_int_equal(run("'%s' info '%s' --bogus", g_bin, g_model), 2);
}

static void test_info(void **state) {
    (void)state;
    NEED_READY();
    assert_int_equal(run("'%s' info '%s'", g_bin, g_model), 0);
    assert_non_null(strstr(g_out, "taps"));
    assert_non_null(strstr(g_out, "dense"));
    assert_non_null(strstr(g_out, "weights:       f16, "));
    assert_int_equal(run("'%s' info '%s' --json", g_bin, g_model), 0);
    assert_non_null(strstr(g_out, "\"num_classes\": "));
    assert_non_null(strstr(g_out, "\"ops\": [{"));
    assert_non_null(strstr(g_out, "\"weight_dtype\": \"f16\""));
    assert_non_null(strstr(g_out, "\"weight_bytes_f32\": 0,"));
    /* f32 and mixed weights: the dtype(s) and bytes of each (the tiny test
     * model: 3,524 weights, 14,096 bytes as f32) */
    const int kinds[2] = {TB_WEIGHTS_F32, TB_WEIGHTS_MIXED};
    for (int k = 0; k < 2; k++) {
        uint8_t *file;
        size_t size;
        tb_build_tiny_weights(3, 32, 32, 6, kinds[k], &file, &size);
        FILE *f = fopen(path_in("weights.ecw"), "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(file, 1, size, f), size);
        fclose(f);
        free(file);
        assert_int_equal(run("'%s' info '%s'", g_bin, path_in("weights.ecw")), 0);
        if (k == 0) {
            assert_non_null(strstr(g_out, "weights:       f32, 14096 bytes"));
        } else {
            assert_non_null(strstr(g_out, "weights:       mixed: f16 "));
            assert_non_null(strstr(g_out, " f16+f32\n")); /* the se op: W1 f32, W2 f16 */
        }
        assert_int_equal(run("'%s' info '%s' --json", g_bin, path_in("weights.ecw")), 0);
        assert_non_null(strstr(g_out, k ? "\"weight_dtype\": \"mixed\"" : "\"weight_dtype\": \"f32\""));
    }
}

static void test_plan(void **state) {
    (void)state;
    NEED_READY();
    const char *variants[] = {"", "--in-place", "--size 96x80", "--size 40 --in-place",
                              "--mode gradcam", "--mode gradcam --in-place --size 72x72", "--compact",
                              "--mode gradcam --compact --in-place", "--prepack", "--mode gradcam --prepack"};
    /* a build without Grad-CAM refuses the mode (exit 1): skip those */
    int gradcam = run("'%s' plan '%s' --mode gradcam --bytes", g_bin, g_model) == 0;
    if (!gradcam) {
        assert_non_null(strstr(g_out, "effcam: "));
        tu_skip_note("test_cli plan --mode gradcam", "not supported by this build");
    }
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        if (!gradcam && strstr(variants[i], "gradcam")) continue;
        assert_int_equal(run("'%s' plan '%s' %s --bytes", g_bin, g_model, variants[i]), 0);
        unsigned long long bytes = 0;
        char *end;
        bytes = strtoull(g_out, &end, 10);
        assert_true(end != g_out && (*end == '\n' || *end == '\0'));
        assert_true(bytes > 0);

        assert_int_equal(run("'%s' plan '%s' %s --json", g_bin, g_model, variants[i]), 0);
        unsigned long long total, model, mt, wt, pp, ws, wst, act, scr;
        assert_int_equal(json_u64(g_out, "total_bytes", &total), 0);
        assert_int_equal(json_u64(g_out, "model_bytes", &model), 0);
        assert_int_equal(json_u64(g_out, "model_tables_bytes", &mt), 0);
        assert_int_equal(json_u64(g_out, "weights_bytes", &wt), 0);
        assert_int_equal(json_u64(g_out, "prepacked_bytes", &pp), 0);
        assert_int_equal(json_u64(g_out, "workspace_bytes", &ws), 0);
        assert_int_equal(json_u64(g_out, "workspace_tables_bytes", &wst), 0);
        assert_int_equal(json_u64(g_out, "activation_bytes", &act), 0);
        assert_int_equal(json_u64(g_out, "scratch_bytes", &scr), 0);
        assert_true(bytes == total);
        assert_true(total == model + ws);
        assert_true(model == mt + wt + pp);
        if (!strstr(variants[i], "--prepack")) assert_true(pp == 0); /* the CLI's default: compact */
        assert_true(ws == wst + act + scr);
        if (strstr(variants[i], "--in-place")) assert_true(wt == 0);
        if (strstr(variants[i], "96x80")) {
            assert_non_null(strstr(g_out, "\"height\": 96"));
            assert_non_null(strstr(g_out, "\"width\": 80"));
        }
        assert_int_equal(run("'%s' plan '%s' %s", g_bin, g_model, variants[i]), 0);
        assert_non_null(strstr(g_out, "MiB"));
    }
}

static void check_top1(const char *line, int k) {
    const char *t = strstr(line, "\"top\": [{\"class\": ");
    assert_non_null(t);
    int cls = -1;
    assert_int_equal(sscanf(t + strlen("\"top\": [{\"class\": "), "%d", &cls), 1);
    assert_true(cls >= 0);
    const char *p = strstr(t, "\"prob\": ");
    assert_non_null(p);
    double prob = -1;
    assert_int_equal(sscanf(p + 8, "%lf", &prob), 1);
    assert_true(prob > 0.0 && prob <= 1.0);
    /* k entries, probabilities descending */
    int n = 0;
    double last = 2.0;
    for (const char *q = strstr(t, "\"prob\": "); q; q = strstr(q + 1, "\"prob\": ")) {
        const char *nl = strchr(t, '\n');
        if (nl && q > nl) break;
        double v;
        assert_int_equal(sscanf(q + 8, "%lf", &v), 1);
        assert_true(v <= last + 1e-7);
        last = v;
        n++;
    }
    assert_int_equal(n, k);
}

static void test_predict(void **state) {
    (void)state;
    NEED_READY();
    const char *imgs[] = {"a.png", "ga.png", "b.jpg"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run("'%s' predict '%s' '%s' --json --top 2", g_bin, g_model,
                             path_in(imgs[i])), 0);
        check_top1(g_out, 2);
        assert_int_equal(run("'%s' predict '%s' '%s' --in-place --size 48x56", g_bin,
                             g_model, path_in(imgs[i])), 0);
        assert_non_null(strstr(g_out, " 1. "));
    }
    /* weights copied or used in place (mmap): the same numbers */
    char copied[4096];
    assert_int_equal(run("'%s' predict '%s' '%s' --json --top 3", g_bin, g_model,
                         path_in("b.jpg")), 0);
    snprintf(copied, sizeof copied, "%s", strstr(g_out, "\"top\""));
    assert_int_equal(run("'%s' predict '%s' '%s' --json --top 3 --in-place", g_bin,
                         g_model, path_in("b.jpg")), 0);
    assert_non_null(strstr(g_out, "\"top\""));
    assert_string_equal(strstr(g_out, "\"top\""), copied);
    /* several images, one model load: one JSON line each */
    assert_int_equal(run("'%s' predict '%s' '%s' '%s' '%s' --json --top 1", g_bin, g_model,
                         path_in("a.png"), path_in("b.jpg"), path_in("a.png")), 0);
    int lines = 0;
    for (const char *p = g_out; (p = strchr(p, '\n')); p++) lines++;
    assert_int_equal(lines, 3);
    /* same image first and third: identical top (no state leaks) */
    char first[2048] = "", third[2048] = "";
    const char *s3 = strchr(g_out, '\n');
    assert_non_null(s3);
    s3 = strchr(s3 + 1, '\n');
    assert_non_null(s3);
    assert_int_equal(sscanf(g_out, "%2047[^\n]", first), 1);
    assert_int_equal(sscanf(s3 + 1, "%2047[^\n]", third), 1);
    const char *m1 = strstr(first, "\"top\""), *m3 = strstr(third, "\"top\"");
    assert_non_null(m1);
    assert_non_null(m3);
    assert_string_equal(m1, m3);
}

static void test_broken_images(void **state) {
    (void)state;
    NEED_READY();
    const char *bad[] = {"trunc.jpg", "trunc_head.jpg", "trunc.png", "text.jpg",
                         "empty.png", "huge.png", "does_not_exist.png"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *f = path_in(bad[i]);
        assert_int_equal(run("'%s' predict '%s' '%s'", g_bin, g_model, f), 1);
        char want[1600];
        snprintf(want, sizeof want, "effcam: %s: ", f);
        assert_non_null(strstr(g_out, want));
    }
    /* the huge PNG is refused by the pixel limit, before allocating */
    assert_int_equal(run("'%s' predict '%s' '%s'", g_bin, g_model, path_in("huge.png")), 1);
    assert_non_null(strstr(g_out, "100000x100000"));
    /* a bad image among good ones: the good ones are still classified */
    assert_int_equal(run("'%s' predict '%s' '%s' '%s' '%s' --json", g_bin, g_model,
                         path_in("a.png"), path_in("text.jpg"), path_in("b.jpg")), 1);
    assert_non_null(strstr(g_out, "\"error\": "));
    int tops = 0;
    for (const char *p = g_out; (p = strstr(p, "\"top\": ")); p++) tops++;
    assert_int_equal(tops, 2);
}

/* Width and height from a PNG's IHDR, or a JPEG's header (libjpeg). */
static int image_dims(const char *path, int *w, int *h) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t head[24];
    size_t n = fread(head, 1, sizeof head, f);
    int rc = -1;
    if (n == 24 && !memcmp(head, "\x89PNG", 4)) {
        *w = (int)((uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 | head[19]);
        *h = (int)((uint32_t)head[20] << 24 | (uint32_t)head[21] << 16 | (uint32_t)head[22] << 8 | head[23]);
        rc = 0;
    } else if (n >= 2 && head[0] == 0xFF && head[1] == 0xD8) {
        rewind(f);
        struct jpeg_decompress_struct d;
        struct jpeg_error_mgr e;
        d.err = jpeg_std_error(&e);
        jpeg_create_decompress(&d);
        jpeg_stdio_src(&d, f);
        if (jpeg_read_header(&d, TRUE) == JPEG_HEADER_OK) {
            *w = (int)d.image_width;
            *h = (int)d.image_height;
            rc = 0;
        }
        jpeg_destroy_decompress(&d);
    }
    fclose(f);
    return rc;
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* effcam gradcam end to end: every output kind at the photo's size, every
 * method, both targets, smoothing, the JSON plan fields, and the errors. */
static void test_gradcam(void **state) {
    (void)state;
    NEED_READY();
    const char *imgs[] = {"a.png", "b.jpg", "ga.png"};
    const int iw[] = {50, 64, 33}, ih[] = {40, 48, 21};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(run("'%s' gradcam '%s' '%s' --out '%s' --heatmap '%s' --panel '%s' --raw '%s' --json",
                             g_bin, g_model, path_in(imgs[i]), path_in("ov.png"), path_in("heat.jpg"),
                             path_in("panel.png"), path_in("cam.f32")), 0);
        unsigned long long chh = 0, cww = 0, hw = 1, pl = 0;
        assert_int_equal(json_u64(g_out, "cam_height", &chh), 0);
        assert_int_equal(json_u64(g_out, "cam_width", &cww), 0);
        assert_int_equal(json_u64(g_out, "workspace_high_water", &hw), 0);
        assert_int_equal(json_u64(g_out, "workspace_planned", &pl), 0);
        assert_true(hw == pl); /* the plan is exact through the CLI too */
        int w = 0, h = 0;
        assert_int_equal(image_dims(path_in("ov.png"), &w, &h), 0);
        assert_int_equal(w, iw[i]);
        assert_int_equal(h, ih[i]);
        assert_int_equal(image_dims(path_in("heat.jpg"), &w, &h), 0);
        assert_int_equal(w, iw[i]);
        assert_int_equal(h, ih[i]);
        assert_int_equal(image_dims(path_in("panel.png"), &w, &h), 0);
        assert_int_equal(w, 3 * iw[i]);
        assert_int_equal(h, ih[i]);
        assert_int_equal(file_size(path_in("cam.f32")), (long)(chh * cww * 4));
    }
    const char *methods[] = {"gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigencam", "scorecam"};
    for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
        assert_int_equal(run("'%s' gradcam '%s' '%s' --method %s --target prob --post divmax --out '%s' --json",
                             g_bin, g_model, path_in("b.jpg"), methods[k], path_in("m.png")), 0);
        assert_non_null(strstr(g_out, "\"method\": "));
        assert_true(file_size(path_in("m.png")) > 0);
    }
    assert_int_equal(run("'%s' gradcam '%s' '%s' --smooth --class 0 --cmap turbo --alpha 0.6 --copy --out '%s' --json",
                         g_bin, g_model, path_in("a.png"), path_in("s.jpg")), 0);
    assert_non_null(strstr(g_out, "\"explained_class\": 0"));
    int w = 0, h = 0;
    assert_int_equal(image_dims(path_in("s.jpg"), &w, &h), 0);
    assert_int_equal(w, 50);
    /* errors: unknown layer / broken photo (1), bad option values (2) */
    assert_int_equal(run("'%s' gradcam '%s' '%s' --layer no_such_tap --out '%s'", g_bin, g_model,
                         path_in("a.png"), path_in("x.png")), 1);
    assert_non_null(strstr(g_out, "effcam: "));
    assert_int_equal(run("'%s' gradcam '%s' '%s' --out '%s'", g_bin, g_model, path_in("trunc.jpg"),
                         path_in("x.png")), 1);
    assert_int_equal(run("'%s' gradcam '%s' '%s' --out '%s'", g_bin, g_model, path_in("huge.png"),
                         path_in("x.png")), 1);
    assert_int_equal(run("'%s' gradcam '%s' '%s' --method sideways", g_bin, g_model, path_in("a.png")), 2);
    assert_int_equal(run("'%s' gradcam '%s' '%s' --alpha 7", g_bin, g_model, path_in("a.png")), 2);
    assert_int_equal(run("'%s' gradcam '%s'", g_bin, g_model), 2);
}

/* Runs argv with stdout to `out_path`; returns the exit code and the child's
 * peak RSS (KiB, from wait4). fork, not posix_spawn: a vfork-style child
 * shares this process's memory map until exec, and Linux carries that map's
 * peak (the 72 MB of pixels written above) into the child's ru_maxrss. */
static int spawn_rss(char *const argv[], const char *out_path, long *maxrss_kb) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0) _exit(126);
        close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) != pid) return -1;
    *maxrss_kb = ru.ru_maxrss;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static unsigned long long file_u64(const char *path, const char *key) {
    static char buf[8192];
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    unsigned long long v = 0;
    if (json_u64(buf, key, &v) != 0) fail_msg("no \"%s\" in %s: %s", key, path, buf);
    return v;
}

/* A 6000x4000 JPEG through predict + Grad-CAM + a full-size overlay: the
 * process's peak RSS against the plan. The model is efficientnet_v2_s
 * (7 classes, 300x300) from the PyTorch references when they exist, else
 * the small test model. The photo's own memory is the planned image block:
 * the peak RSS may grow from a 640x480 photo to the 6000x4000 one by at most
 * the growth of that block; and the absolute peak is reported next to
 * plan + mapped weights (the rest is the process: code, libc, OpenBLAS). */
static void test_big_photo_rss(void **state) {
    (void)state;
    NEED_READY();
    char model[1400];
    snprintf(model, sizeof model, "%s/efficientnet_v2_s_c7.ecw", tu_env("EFFCAM_REFS_DIR", "."));
    const char *size = "300x300";
    if (access(model, R_OK) != 0) {
        if (getenv("EFFCAM_REQUIRE_REFS") && atoi(getenv("EFFCAM_REQUIRE_REFS")))
            fail_msg("%s missing (EFFCAM_REQUIRE_REFS=1)", model);
        tu_skip_note("test_cli big photo", "no efficientnet_v2_s_c7.ecw in EFFCAM_REFS_DIR: using the small model");
        snprintf(model, sizeof model, "%s", g_model);
        size = "64x64";
    }
    assert_int_equal(write_jpeg(path_in("big.jpg"), 6000, 4000, 3), 0);
    assert_int_equal(write_jpeg(path_in("small.jpg"), 640, 480, 3), 0);
    long rss[2] = {0, 0};
    unsigned long long img[2], arena[2];
    const char *names[2] = {"small.jpg", "big.jpg"};
    for (int k = 0; k < 2; k++) {
        char in[1400], ov[1400];
        snprintf(in, sizeof in, "%s", path_in(names[k]));
        snprintf(ov, sizeof ov, "%s", path_in(k ? "big_overlay.png" : "small_overlay.png"));
        char *argv[] = {g_bin, "gradcam", model, in, "--size", (char *)size, "--out", ov, "--json", NULL};
        assert_int_equal(spawn_rss(argv, path_in("rss.json"), &rss[k]), 0);
        img[k] = file_u64(path_in("rss.json"), "image_bytes");
        arena[k] = file_u64(path_in("rss.json"), "arena_bytes");
        assert_true(file_u64(path_in("rss.json"), "workspace_high_water") ==
                    file_u64(path_in("rss.json"), "workspace_planned"));
        int w = 0, h = 0;
        assert_int_equal(image_dims(ov, &w, &h), 0);
        assert_int_equal(w, k ? 6000 : 640);
        assert_int_equal(h, k ? 4000 : 480);
    }
    /* what `effcam plan --photo` promises for any photo up to 6000x4000 */
    assert_int_equal(run("'%s' plan '%s' --size %s --mode gradcam --in-place --photo 4000x6000 --json",
                         g_bin, model, size), 0);
    unsigned long long request = 0, file = 0, pimg = 0;
    assert_int_equal(json_u64(g_out, "request_bytes", &request), 0);
    assert_int_equal(json_u64(g_out, "file_bytes", &file), 0);
    assert_int_equal(json_u64(g_out, "image_bytes", &pimg), 0);
    assert_true(img[1] <= pimg);         /* the CLI's fitted block is within the plan */
    assert_true(arena[1] + pimg == request);
    long grow_kb = rss[1] - rss[0];
    long plan_grow_kb = (long)((img[1] - img[0]) / 1024);
    printf("big photo: 6000x4000 JPEG, %s at %s, gradcam + full-size overlay\n"
           "  peak RSS %ld KiB (640x480 photo: %ld KiB); growth %ld KiB, planned image growth %ld KiB\n"
           "  planned: arena %llu + image %llu (plan --photo: %llu) + mapped weights %llu = %llu bytes (%llu KiB);"
           " the rest of the peak: %lld KiB\n",
           model, size, rss[1], rss[0], grow_kb, plan_grow_kb, arena[1], img[1], pimg, file,
           arena[1] + img[1] + file, (arena[1] + img[1] + file) / 1024,
           (long long)rss[1] - (long long)((arena[1] + img[1] + file) / 1024));
#if defined(EFFCAM_SANITIZE)
    tu_skip_note("test_cli big photo RSS bound", "ASan's shadow memory and quarantine make RSS meaningless here; "
                                                 "the bound is asserted in the Release build");
#else
    assert_true(grow_kb <= plan_grow_kb);
#endif
}

static void test_bad_model(void **state) {
    (void)state;
    NEED_READY();
    const char *text = path_in("text.jpg");
    assert_int_equal(run("'%s' info '%s'", g_bin, text), 1);
    assert_non_null(strstr(g_out, "effcam: "));
    assert_int_equal(run("'%s' plan '%s' --bytes", g_bin, text), 1);
    assert_int_equal(run("'%s' predict '%s' '%s'", g_bin, text, path_in("a.png")), 1);
    assert_int_equal(run("'%s' plan '%s'", g_bin, path_in("no_such_model.ecw")), 1);
    /* a truncated model */
    truncate_copy(g_model, path_in("half.ecw"), 0.5);
    assert_int_equal(run("'%s' predict '%s' '%s'", g_bin, path_in("half.ecw"), path_in("a.png")), 1);
    assert_int_equal(run("'%s' plan '%s' --layer no_such_tap --mode gradcam", g_bin, g_model), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_plan),
        cmocka_unit_test(test_predict),
        cmocka_unit_test(test_broken_images),
        cmocka_unit_test(test_gradcam),
        cmocka_unit_test(test_big_photo_rss),
        cmocka_unit_test(test_bad_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
