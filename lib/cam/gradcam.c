/* Grad-CAM channel weights and the weighted channel sum (see cam.h). */
#include "cam/cam.h"

void ec_cam_gradcam_weights(const float *G, int hw, int k, float *w) {
    for (int c = 0; c < k; c++) {
        double s = 0.0;
        for (int p = 0; p < hw; p++) s += G[(size_t)p * k + c];
        w[c] = (float)(s / hw);
    }
}

void ec_cam_weighted_sum(const float *A, const float *w, int hw, int k,
                         float *raw) {
    for (int p = 0; p < hw; p++) {
        const float *a = A + (size_t)p * k;
        double s = 0.0;
        for (int c = 0; c < k; c++) s += (double)w[c] * a[c];
        raw[p] = (float)s;
    }
}
