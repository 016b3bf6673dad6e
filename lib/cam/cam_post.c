/* Post-processing of raw CAM maps (see cam.h). */
#include <string.h>

#include "cam/cam.h"

void ec_cam_relu(float *x, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(x[i] > 0.0f)) x[i] = 0.0f; /* also maps NaN to 0 */
}

void ec_cam_minmax(float *x, size_t n) {
    if (!x || n == 0) return;
    float mn = x[0], mx = x[0];
    for (size_t i = 1; i < n; i++) {
        if (x[i] < mn) mn = x[i];
        if (x[i] > mx) mx = x[i];
    }
    /* As scale_cam_image: subtract the min, then divide by 1e-7 + the new max.
     * A constant map gives 0 / 1e-7 = 0 everywhere. */
    float den = (float)(1e-7 + (double)(mx - mn));
    for (size_t i = 0; i < n; i++) x[i] = (x[i] - mn) / den;
}

void ec_cam_divmax(float *x, size_t n) {
    if (!x || n == 0) return;
    ec_cam_relu(x, n);
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (!(mx > 0.0f)) {
        memset(x, 0, n * sizeof(float));
        return;
    }
    for (size_t i = 0; i < n; i++) x[i] = x[i] / mx;
}

size_t ec_cam_post_scratch_floats(int h, int w) {
    return h > 0 && w > 0 ? (size_t)h * (size_t)w : 0;
}

void ec_cam_post_pytorch(const float *raw, int h, int w, float *out, int H,
                         int W, float *scratch) {
    if (!raw || !out || !scratch || h < 1 || w < 1 || H < 1 || W < 1) return;
    size_t n = (size_t)h * (size_t)w;
    memcpy(scratch, raw, n * sizeof(float));
    ec_cam_relu(scratch, n);
    ec_cam_minmax(scratch, n);
    ec_resize_bilinear(scratch, h, w, out, H, W);
    /* aggregate_multi_layers: ReLU (a no-op on [0,1] values, kept for
     * fidelity), mean over the single layer, min-max again. */
    ec_cam_relu(out, (size_t)H * (size_t)W);
    ec_cam_minmax(out, (size_t)H * (size_t)W);
}

void ec_cam_post_divmax(const float *raw, int h, int w, float *out, int H,
                        int W, float *scratch) {
    if (!raw || !out || !scratch || h < 1 || w < 1 || H < 1 || W < 1) return;
    size_t n = (size_t)h * (size_t)w;
    memcpy(scratch, raw, n * sizeof(float));
    ec_cam_divmax(scratch, n);
    ec_resize_bilinear(scratch, h, w, out, H, W);
}
