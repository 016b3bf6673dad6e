/* A normal C program using effcam's public API:
 *   1. plan: the exact bytes the model + one workspace need, before anything
 *      is allocated;
 *   2. load into library memory (the library makes exactly one allocation);
 *   3. predict from RGB8 pixels of any size, read the top-k;
 *   4. a second workspace (effcam_ctx_init) sharing the same weights, for a
 *      concurrent request on another thread.
 *
 * Usage: example_predict MODEL [IMAGE.ppm]
 * IMAGE is a binary PPM (P6, maxval 255); without it a synthetic gradient is
 * used. (The effcam CLI decodes JPEG and PNG.) */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effcam.h"

static int fail(const char *what, effcam_status st, const effcam_error *err) {
    fprintf(stderr, "example_predict: %s: %s", what, effcam_strerror(st));
    if (err && err->message[0]) fprintf(stderr, " (%s)", err->message);
    fputc('\n', stderr);
    return 1;
}

/* Minimal P6 reader: enough for an example, not a general image decoder. */
static uint8_t *read_ppm(const char *path, int *h, int *w) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    int maxval = 0;
    uint8_t *px = NULL;
    if (fscanf(f, "P6 %d %d %d", w, h, &maxval) == 3 && maxval == 255 &&
        *w > 0 && *h > 0 && *w <= 16384 && *h <= 16384 && fgetc(f) != EOF) {
        size_t n = (size_t)*w * (size_t)*h * 3;
        px = malloc(n);
        if (px && fread(px, 1, n, f) != n) {
            free(px);
            px = NULL;
        }
    }
    fclose(f);
    return px;
}

static uint8_t *gradient(int h, int w) {
    uint8_t *px = malloc((size_t)h * (size_t)w * 3);
    if (!px) return NULL;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(255 * x / (w - 1));
            p[1] = (uint8_t)(255 * y / (h - 1));
            p[2] = (uint8_t)(((x / 16) + (y / 16)) % 2 ? 200 : 40);
        }
    return px;
}

typedef struct request {
    effcam_ctx *ctx;
    const uint8_t *rgb;
    int h, w;
    effcam_status st;
    int cls[5];
    float prob[5];
    int n;
} request;

static void *run_request(void *arg) {
    request *r = arg;
    r->st = effcam_predict_rgb8(r->ctx, r->rgb, r->h, r->w, 0);
    r->n = r->st == EFFCAM_OK ? effcam_top_k(r->ctx, 5, r->cls, r->prob) : 0;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s MODEL [IMAGE.ppm]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[1];
    effcam_error err;
    memset(&err, 0, sizeof err);

    /* What the workspace must do: predict at the model's own input size. */
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.mode = EFFCAM_MODE_PREDICT;

    /* 1. Plan: exact bytes, nothing allocated yet. */
    effcam_plan plan;
    effcam_status st = effcam_plan_file(model_path, &spec, 0, &plan, &err);
    if (st != EFFCAM_OK) return fail(model_path, st, &err);
    printf("plan at %dx%d: %zu bytes = model %zu + workspace %zu\n", plan.height,
           plan.width, plan.total_bytes, plan.model_bytes, plan.workspace_bytes);

    /* 2. Load: arena == NULL lets the library make its one allocation of
     *    plan.total_bytes (pass your own buffer to control where it lives). */
    effcam_model *model = NULL;
    effcam_ctx *ctx = NULL;
    st = effcam_load_file(model_path, &spec, 0, NULL, 0, &model, &ctx, &err);
    if (st != EFFCAM_OK) return fail(model_path, st, &err);

    effcam_info info;
    effcam_get_info(model, &info);
    printf("model '%s': %d classes, input %dx%d\n", info.name, info.num_classes,
           info.input_height, info.input_width);

    /* 3. Pixels: interleaved RGB8 of any size; the library stretches them to
     *    the planned size while writing its input buffer. */
    int h = 150, w = 200;
    uint8_t *rgb = argc == 3 ? read_ppm(argv[2], &h, &w) : gradient(h, w);
    if (!rgb) {
        fprintf(stderr, "example_predict: %s: cannot read a P6 PPM\n",
                argc == 3 ? argv[2] : "(gradient)");
        effcam_free(model);
        return 1;
    }
    st = effcam_predict_rgb8(ctx, rgb, h, w, 0 /* stride: 3 * w */);
    if (st != EFFCAM_OK) {
        free(rgb);
        effcam_free(model);
        return fail("predict", st, NULL);
    }
    int cls[5];
    float prob[5];
    int n = effcam_top_k(ctx, 5, cls, prob);
    printf("top-%d:\n", n);
    for (int i = 0; i < n; i++) {
        const char *label = effcam_label(model, cls[i]);
        printf("  %d. %6.2f%%  %s\n", i + 1, 100.0 * prob[i],
               label ? label : "(no label)");
    }

    /* 4. A second workspace for a concurrent request: the weights are shared
     *    and read-only, each request gets its own activations. */
    size_t ws_bytes = 0;
    st = effcam_workspace_bytes(model, &spec, &ws_bytes, &err);
    if (st != EFFCAM_OK) {
        free(rgb);
        effcam_free(model);
        return fail("workspace_bytes", st, &err);
    }
    effcam_ctx *ctx2 = NULL;
    st = effcam_ctx_init(model, &spec, NULL, 0, &ctx2, &err);
    if (st != EFFCAM_OK) {
        free(rgb);
        effcam_free(model);
        return fail("ctx_init", st, &err);
    }
    printf("second workspace: %zu bytes\n", ws_bytes);

    request a = {.ctx = ctx, .rgb = rgb, .h = h, .w = w};
    request b = {.ctx = ctx2, .rgb = rgb, .h = h, .w = w};
    pthread_t ta;
    int a_threaded = pthread_create(&ta, NULL, run_request, &a) == 0;
    if (!a_threaded) run_request(&a); /* no thread: run them one after the other */
    run_request(&b);                  /* request b on this thread, meanwhile */
    if (a_threaded) pthread_join(ta, NULL);
    if (a.st != EFFCAM_OK || b.st != EFFCAM_OK) {
        effcam_ctx_free(ctx2);
        effcam_free(model);
        free(rgb);
        return fail("concurrent predict", a.st != EFFCAM_OK ? a.st : b.st, NULL);
    }
    int same = a.n == b.n && a.n == n;
    for (int i = 0; same && i < n; i++)
        same = a.cls[i] == cls[i] && b.cls[i] == cls[i] && a.prob[i] == prob[i] &&
               b.prob[i] == prob[i];
    printf("two concurrent requests: %s\n",
           same ? "same top-k as the first predict" : "RESULTS DIFFER");

    effcam_ctx_free(ctx2);
    effcam_free(model);
    free(rgb);
    return same ? 0 : 1;
}
