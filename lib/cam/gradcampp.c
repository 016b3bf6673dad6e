/* Grad-CAM++ channel weights (Chattopadhyay et al. 2018, eq. 19 with the
 * exponential-free closed form pytorch-grad-cam uses; see cam.h). */
#include "cam/cam.h"

#define EC_GRADCAMPP_EPS 1e-6

void ec_cam_gradcampp_weights(const float *A, const float *G, int hw, int k,
                              float *w) {
    for (int c = 0; c < k; c++) {
        double sa = 0.0;
        for (int p = 0; p < hw; p++) sa += A[(size_t)p * k + c];
        double s = 0.0;
        for (int p = 0; p < hw; p++) {
            double g = G[(size_t)p * k + c];
            if (g == 0.0) continue; /* alpha = 0 where the gradient is 0 */
            if (g < 0.0) continue;  /* relu(G) = 0: contributes nothing */
            double g2 = g * g, g3 = g2 * g;
            double alpha = g2 / (2.0 * g2 + sa * g3 + EC_GRADCAMPP_EPS);
            s += alpha * g;
        }
        w[c] = (float)s;
    }
}
