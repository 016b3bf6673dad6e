/* Checks the effcam CLI end to end: runs the built binary
 * ($EFFCAM_BUILD_DIR/effcam) on a small model and on images written here
 * (PNG via libpng, JPEG via libjpeg), plus broken ones: truncated JPEG and
 * PNG, a text file named .jpg, a PNG claiming 100000x100000 pixels. Checks
 * exit codes (0 ok, 1 runtime error, 2 usage; never a crash) and output.
 *
 * The model is tests/fixtures/tiny_effnet.ecw if present, else one written
 * by tests/cli_model.py (python3 + numpy); without either the test skips. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

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
    assert_int_equal(run("'%s' info '%s' --json", g_bin, g_model), 0);
    assert_non_null(strstr(g_out, "\"num_classes\": "));
    assert_non_null(strstr(g_out, "\"ops\": [{"));
}

static void test_plan(void **state) {
    (void)state;
    NEED_READY();
    const char *variants[] = {"", "--in-place", "--size 96x80", "--size 40 --in-place",
                              "--mode gradcam", "--mode gradcam --in-place --size 72x72"};
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
        unsigned long long total, model, mt, wt, ws, wst, act, scr;
        assert_int_equal(json_u64(g_out, "total_bytes", &total), 0);
        assert_int_equal(json_u64(g_out, "model_bytes", &model), 0);
        assert_int_equal(json_u64(g_out, "model_tables_bytes", &mt), 0);
        assert_int_equal(json_u64(g_out, "weights_bytes", &wt), 0);
        assert_int_equal(json_u64(g_out, "workspace_bytes", &ws), 0);
        assert_int_equal(json_u64(g_out, "workspace_tables_bytes", &wst), 0);
        assert_int_equal(json_u64(g_out, "activation_bytes", &act), 0);
        assert_int_equal(json_u64(g_out, "scratch_bytes", &scr), 0);
        assert_true(bytes == total);
        assert_true(total == model + ws);
        assert_true(model == mt + wt);
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
        cmocka_unit_test(test_bad_model),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
