/* Bilinear resize of one channel, no antialias (see cam.h). The source
 * coordinate is computed in float, as PyTorch's CPU kernel does. */
#include <math.h>

#include "cam/cam.h"

ec_lerp_axis ec_resize_axis(int src_size, int dst_size, int d,
                            int align_corners) {
    ec_lerp_axis a;
    float s;
    if (align_corners) {
        float scale = dst_size > 1 ? (float)(src_size - 1) / (float)(dst_size - 1) : 0.0f;
        s = scale * (float)d;
    } else {
        float scale = (float)src_size / (float)dst_size;
        s = scale * ((float)d + 0.5f) - 0.5f;
        if (s < 0.0f) s = 0.0f;
    }
    int i0 = (int)floorf(s);
    if (i0 > src_size - 1) i0 = src_size - 1;
    if (i0 < 0) i0 = 0;
    float l = s - (float)i0;
    if (l < 0.0f) l = 0.0f;
    if (l > 1.0f) l = 1.0f;
    a.i0 = i0;
    a.i1 = i0 < src_size - 1 ? i0 + 1 : i0;
    a.l = l;
    return a;
}

void ec_resize_bilinear_strided(const float *src, int sh, int sw,
                                size_t sstride, float *dst, int dh, int dw,
                                size_t dstride, int align_corners) {
    if (!src || !dst || sh < 1 || sw < 1 || dh < 1 || dw < 1) return;
    for (int y = 0; y < dh; y++) {
        ec_lerp_axis ay = ec_resize_axis(sh, dh, y, align_corners);
        const float *r0 = src + (size_t)ay.i0 * (size_t)sw * sstride;
        const float *r1 = src + (size_t)ay.i1 * (size_t)sw * sstride;
        float wy1 = ay.l, wy0 = 1.0f - ay.l;
        for (int x = 0; x < dw; x++) {
            ec_lerp_axis ax = ec_resize_axis(sw, dw, x, align_corners);
            float wx1 = ax.l, wx0 = 1.0f - ax.l;
            size_t o0 = (size_t)ax.i0 * sstride, o1 = (size_t)ax.i1 * sstride;
            float top = wx0 * r0[o0] + wx1 * r0[o1];
            float bot = wx0 * r1[o0] + wx1 * r1[o1];
            dst[((size_t)y * (size_t)dw + (size_t)x) * dstride] = wy0 * top + wy1 * bot;
        }
    }
}

void ec_resize_bilinear(const float *src, int sh, int sw, float *dst, int dh,
                        int dw) {
    ec_resize_bilinear_strided(src, sh, sw, 1, dst, dh, dw, 1, 0);
}

void ec_resize_bilinear_ac(const float *src, int sh, int sw, float *dst,
                           int dh, int dw) {
    ec_resize_bilinear_strided(src, sh, sw, 1, dst, dh, dw, 1, 1);
}
