#include "refcheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

float *rc_load_f32(const char *dir, const char *name, size_t n, size_t *got) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t bytes;
    float *p = tu_read_file(path, &bytes);
    if (!p) return NULL;
    if (got) *got = bytes / 4;
    if (n && bytes != n * 4) {
        fprintf(stderr, "%s: %zu bytes, expected %zu\n", path, bytes, n * 4);
        free(p);
        return NULL;
    }
    return p;
}

effcam_status rc_predict(const char *ecw, int h, int w, const char *layer, const float *input, float *logits, float *probs,
                         int ncls, float **tap, size_t *tap_n) {
    effcam_spec spec = {.height = h, .width = w, .layer = layer};
    effcam_model *m;
    effcam_ctx *ctx;
    effcam_error err;
    effcam_status st = effcam_load_file(ecw, &spec, EFFCAM_LOAD_IN_PLACE, NULL, 0, &m, &ctx, &err);
    if (st) {
        fprintf(stderr, "%s: %s (%s)\n", ecw, effcam_strerror(st), err.message);
        return st;
    }
    st = effcam_predict_f32(ctx, input, h, w, 0);
    if (!st) {
        if (logits) memcpy(logits, effcam_logits(ctx), sizeof(float) * (size_t)ncls);
        if (probs) memcpy(probs, effcam_probs(ctx), sizeof(float) * (size_t)ncls);
        if (layer && tap) {
            const float *a;
            int th, tw, tc;
            st = effcam_tap_output(ctx, &a, &th, &tw, &tc);
            if (!st) {
                *tap_n = (size_t)th * tw * tc;
                *tap = malloc(sizeof(float) * *tap_n);
                memcpy(*tap, a, sizeof(float) * *tap_n);
            }
        }
    }
    effcam_free(m);
    return st;
}

effcam_status rc_gradcam(const char *ecw, int h, int w, const char *layer, int target, int cls, const float *input,
                         float **raw, size_t *raw_n, float **weights, size_t *weights_n) {
    effcam_spec spec = {.height = h, .width = w, .layer = layer, .mode = EFFCAM_MODE_GRADCAM};
    effcam_model *m;
    effcam_ctx *ctx;
    effcam_error err;
    effcam_status st = effcam_load_file(ecw, &spec, EFFCAM_LOAD_IN_PLACE, NULL, 0, &m, &ctx, &err);
    if (st) {
        fprintf(stderr, "%s: %s (%s)\n", ecw, effcam_strerror(st), err.message);
        return st;
    }
    st = effcam_predict_f32(ctx, input, h, w, 0);
    const float *r;
    int rh, rw;
    effcam_cam_opts o = {.class_index = cls, .target = (effcam_cam_target)target};
    if (!st) st = effcam_gradcam(ctx, &o, &r, &rh, &rw);
    if (!st) {
        *raw_n = (size_t)rh * rw;
        *raw = malloc(sizeof(float) * *raw_n);
        memcpy(*raw, r, sizeof(float) * *raw_n);
        const float *wt;
        int k;
        if (weights && effcam_cam_weights(ctx, &wt, &k) == EFFCAM_OK) {
            *weights_n = (size_t)k;
            *weights = malloc(sizeof(float) * (size_t)k);
            memcpy(*weights, wt, sizeof(float) * (size_t)k);
        }
    }
    effcam_free(m);
    return st;
}

int rc_argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

static void nrm(const float *a, float *o, size_t n) {
    float lo = 1e30f, hi = -1e30f;
    for (size_t i = 0; i < n; i++) { o[i] = a[i] > 0 ? a[i] : 0; lo = o[i] < lo ? o[i] : lo; hi = o[i] > hi ? o[i] : hi; }
    for (size_t i = 0; i < n; i++) o[i] = hi > lo ? (o[i] - lo) / (hi - lo) : 0;
}

double rc_norm_maxdiff(const float *a, const float *b, size_t n) {
    float *x = malloc(sizeof(float) * n), *y = malloc(sizeof(float) * n);
    nrm(a, x, n);
    nrm(b, y, n);
    double m = tu_max_abs_diff(x, y, n);
    free(x);
    free(y);
    return m;
}
