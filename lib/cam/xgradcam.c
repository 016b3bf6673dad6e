/* XGrad-CAM channel weights (Fu et al. 2020; see cam.h). */
#include "cam/cam.h"

#define EC_XGRADCAM_EPS 1e-7

void ec_cam_xgradcam_weights(const float *A, const float *G, int hw, int k,
                             float *w) {
    for (int c = 0; c < k; c++) {
        double sa = 0.0, sga = 0.0;
        for (int p = 0; p < hw; p++) {
            double a = A[(size_t)p * k + c];
            sa += a;
            sga += a * G[(size_t)p * k + c];
        }
        w[c] = (float)(sga / (sa + EC_XGRADCAM_EPS));
    }
}
