/* Score-CAM: softmax of the per-channel scores, and the channel masks the
 * engine multiplies the input by (see cam.h). */
#include <math.h>

#include "cam/cam.h"

#define EC_SCORECAM_EPS 1e-8

void ec_cam_softmax_weights(const float *scores, int k, float *w) {
    float mx = scores[0];
    for (int c = 1; c < k; c++)
        if (scores[c] > mx) mx = scores[c];
    double z = 0.0;
    for (int c = 0; c < k; c++) z += exp((double)scores[c] - mx);
    for (int c = 0; c < k; c++) w[c] = (float)(exp((double)scores[c] - mx) / z);
}

/* Bilinear align_corners=True sample of channel ch at output pixel (y, x). */
static float mask_at(const float *A, int w, int k, int ch, ec_lerp_axis ay,
                     ec_lerp_axis ax) {
    const float *a = A + ch;
    float v00 = a[((size_t)ay.i0 * w + ax.i0) * k], v01 = a[((size_t)ay.i0 * w + ax.i1) * k];
    float v10 = a[((size_t)ay.i1 * w + ax.i0) * k], v11 = a[((size_t)ay.i1 * w + ax.i1) * k];
    float top = (1.0f - ax.l) * v00 + ax.l * v01;
    float bot = (1.0f - ax.l) * v10 + ax.l * v11;
    return (1.0f - ay.l) * top + ay.l * bot;
}

/* min and max of the upsampled channel (two passes, no memory). */
static void mask_range(const float *A, int h, int w, int k, int ch, int H,
                       int W, float *mn, float *mx) {
    float lo = INFINITY, hi = -INFINITY;
    for (int y = 0; y < H; y++) {
        ec_lerp_axis ay = ec_resize_axis(h, H, y, 1);
        for (int x = 0; x < W; x++) {
            float v = mask_at(A, w, k, ch, ay, ec_resize_axis(w, W, x, 1));
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
    }
    *mn = lo;
    *mx = hi;
}

void ec_cam_scorecam_mask(const float *A, int h, int w, int k, int ch,
                          float *mask, int H, int W) {
    if (!A || !mask || h < 1 || w < 1 || k < 1 || ch < 0 || ch >= k || H < 1 || W < 1) return;
    float mn, mx;
    mask_range(A, h, w, k, ch, H, W, &mn, &mx);
    float den = (float)((double)(mx - mn) + EC_SCORECAM_EPS);
    for (int y = 0; y < H; y++) {
        ec_lerp_axis ay = ec_resize_axis(h, H, y, 1);
        for (int x = 0; x < W; x++)
            mask[(size_t)y * W + x] = (mask_at(A, w, k, ch, ay, ec_resize_axis(w, W, x, 1)) - mn) / den;
    }
}

void ec_cam_scorecam_apply(const float *A, int h, int w, int k, int ch,
                           const float *in, float *out, int H, int W, int C) {
    if (!A || !in || !out || h < 1 || w < 1 || k < 1 || ch < 0 || ch >= k || H < 1 || W < 1 || C < 1) return;
    float mn, mx;
    mask_range(A, h, w, k, ch, H, W, &mn, &mx);
    float den = (float)((double)(mx - mn) + EC_SCORECAM_EPS);
    for (int y = 0; y < H; y++) {
        ec_lerp_axis ay = ec_resize_axis(h, H, y, 1);
        for (int x = 0; x < W; x++) {
            float m = (mask_at(A, w, k, ch, ay, ec_resize_axis(w, W, x, 1)) - mn) / den;
            size_t o = ((size_t)y * W + x) * (size_t)C;
            for (int c = 0; c < C; c++) out[o + c] = in[o + c] * m;
        }
    }
}
