/* Method dispatch and exact scratch sizes (see cam.h). */
#include <string.h>

#include "cam/cam.h"

size_t ec_cam_scratch_floats(int method, int hw, int k) {
    if (hw < 1 || k < 1) return 0;
    switch (method) {
    case EFFCAM_CAM_GRADCAM:
    case EFFCAM_CAM_GRADCAMPP:
    case EFFCAM_CAM_XGRADCAM:
    case EFFCAM_CAM_SCORECAM:
        return (size_t)k; /* the channel weights */
    case EFFCAM_CAM_HIRESCAM:
    case EFFCAM_CAM_LAYERCAM:
        return 0;
    case EFFCAM_CAM_EIGENCAM:
        return ec_cam_eigencam_scratch_floats(hw, k);
    default:
        return 0;
    }
}

void ec_cam_combine(int method, const float *A, const float *G, int hw, int k,
                    float *raw, float *weights_out, float *scratch) {
    if (!A || !raw || hw < 1 || k < 1) return;
    float *w = scratch;
    switch (method) {
    case EFFCAM_CAM_GRADCAM:
        if (!G || !w) return;
        ec_cam_gradcam_weights(G, hw, k, w);
        break;
    case EFFCAM_CAM_GRADCAMPP:
        if (!G || !w) return;
        ec_cam_gradcampp_weights(A, G, hw, k, w);
        break;
    case EFFCAM_CAM_XGRADCAM:
        if (!G || !w) return;
        ec_cam_xgradcam_weights(A, G, hw, k, w);
        break;
    case EFFCAM_CAM_SCORECAM:
        if (!G || !w) return;
        ec_cam_softmax_weights(G, k, w);
        break;
    case EFFCAM_CAM_HIRESCAM:
    case EFFCAM_CAM_LAYERCAM:
        if (!G) return;
        if (method == EFFCAM_CAM_HIRESCAM) ec_cam_hirescam(A, G, hw, k, raw);
        else ec_cam_layercam(A, G, hw, k, raw);
        if (weights_out) memset(weights_out, 0, (size_t)k * sizeof(float));
        return;
    case EFFCAM_CAM_EIGENCAM:
        ec_cam_eigencam(A, hw, k, raw, weights_out, scratch);
        return;
    default:
        memset(raw, 0, (size_t)hw * sizeof(float));
        return;
    }
    ec_cam_weighted_sum(A, w, hw, k, raw);
    if (weights_out) memcpy(weights_out, w, (size_t)k * sizeof(float));
}
