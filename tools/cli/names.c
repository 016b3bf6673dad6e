#include <string.h>

#include "cli.h"

const char *cli_source_name(int source) {
    switch (source) {
    case 1: return "torchvision";
    case 2: return "keras";
    case 3: return "onnx";
    default: return "unknown";
    }
}

const char *cli_resize_name(int policy) {
    switch (policy) {
    case 0: return "stretch";
    case 1: return "shorter side + centre crop";
    case 2: return "letterbox";
    default: return "unknown";
    }
}

const char *cli_filter_name(int filter) {
    switch (filter) {
    case 0: return "bilinear";
    case 1: return "bicubic";
    case 2: return "lanczos";
    case 3: return "nearest";
    default: return "unknown";
    }
}

const char *cli_channel_order_name(int order) {
    return order == 1 ? "BGR" : order == 0 ? "RGB" : "unknown";
}

const char *cli_mode_name(effcam_mode mode) {
    return mode == EFFCAM_MODE_GRADCAM ? "gradcam" : "predict";
}

int cli_parse_mode(const char *s, effcam_mode *mode) {
    if (strcmp(s, "predict") == 0) { *mode = EFFCAM_MODE_PREDICT; return 0; }
    if (strcmp(s, "gradcam") == 0) { *mode = EFFCAM_MODE_GRADCAM; return 0; }
    return -1;
}

static const char *const method_names[EFFCAM_CAM_METHOD_COUNT] = {
    "gradcam", "gradcam++", "xgradcam", "hirescam", "layercam", "eigencam",
    "scorecam"};

const char *cli_method_name(effcam_cam_method m) {
    return (unsigned)m < EFFCAM_CAM_METHOD_COUNT ? method_names[m] : "unknown";
}

int cli_parse_method(const char *s, effcam_cam_method *m) {
    for (int i = 0; i < EFFCAM_CAM_METHOD_COUNT; i++)
        if (strcmp(s, method_names[i]) == 0) { *m = (effcam_cam_method)i; return 0; }
    if (strcmp(s, "gradcampp") == 0) { *m = EFFCAM_CAM_GRADCAMPP; return 0; }
    return -1;
}

double cli_mib(size_t bytes) { return (double)bytes / (1024.0 * 1024.0); }
