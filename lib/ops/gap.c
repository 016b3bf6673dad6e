/* Global average pooling over h*w, NHWC: out[c] = mean_p in[p, c].
 * Summed in channel blocks with on-stack partial sums folded every GAP_CHUNK
 * rows (keeps float error small for large h*w without any scratch). */
#include <string.h>

#include "ops/ops.h"

#define GAP_CB 64
#define GAP_CHUNK 64

void ec_gap_forward(float *out, const float *in, int hw, int c) {
    const float inv = hw > 0 ? 1.0f / (float)hw : 0.0f;
    for (int c0 = 0; c0 < c; c0 += GAP_CB) {
        const int nc = c - c0 < GAP_CB ? c - c0 : GAP_CB;
        float tot[GAP_CB], part[GAP_CB];
        for (int k = 0; k < nc; k++) tot[k] = 0.0f;
        for (int p0 = 0; p0 < hw; p0 += GAP_CHUNK) {
            const int p1 = p0 + GAP_CHUNK < hw ? p0 + GAP_CHUNK : hw;
            for (int k = 0; k < nc; k++) part[k] = 0.0f;
            for (int p = p0; p < p1; p++) {
                const float *x = in + (size_t)p * c + c0;
                for (int k = 0; k < nc; k++) part[k] += x[k];
            }
            for (int k = 0; k < nc; k++) tot[k] += part[k];
        }
        for (int k = 0; k < nc; k++) out[c0 + k] = tot[k] * inv;
    }
}

void ec_gap_backward(float *din, const float *dout, int hw, int c) {
    const float inv = hw > 0 ? 1.0f / (float)hw : 0.0f;
    if (hw <= 0) return;
    float *row0 = din;
    for (int k = 0; k < c; k++) row0[k] = dout[k] * inv;
    for (int p = 1; p < hw; p++)
        memcpy(din + (size_t)p * c, row0, (size_t)c * sizeof(float));
}
