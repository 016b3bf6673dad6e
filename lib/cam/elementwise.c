/* HiResCAM and LayerCAM: per-position weights, no channel weights. */
#include "cam/cam.h"

void ec_cam_hirescam(const float *A, const float *G, int hw, int k, float *raw) {
    for (int p = 0; p < hw; p++) {
        const float *a = A + (size_t)p * k, *g = G + (size_t)p * k;
        double s = 0.0;
        for (int c = 0; c < k; c++) s += (double)g[c] * a[c];
        raw[p] = (float)s;
    }
}

void ec_cam_layercam(const float *A, const float *G, int hw, int k, float *raw) {
    for (int p = 0; p < hw; p++) {
        const float *a = A + (size_t)p * k, *g = G + (size_t)p * k;
        double s = 0.0;
        for (int c = 0; c < k; c++)
            if (g[c] > 0.0f) s += (double)g[c] * a[c];
        raw[p] = (float)s;
    }
}
