/* ONNX (torch.onnx.export of torchvision EfficientNet / MobileNet
 * classifiers) -> .ecw, in C. See docs/CONVERT.md for what is supported. */
#ifndef EFFCAM_ONNX_TO_ECW_H
#define EFFCAM_ONNX_TO_ECW_H
#include <stddef.h>
#include <stdint.h>

#include "effcam.h"

typedef struct ec_convert_opts {
    float mean[3], std[3];   /* the normalisation the ONNX graph expects on
                                0..1 RGB input (default: ImageNet, as torchvision) */
    int f32_weights;         /* write f32 (dtype 2) weights instead of f16 */
    const char *const *labels; /* n_labels class names (0 or = classes) */
    int n_labels;
    const char *base_dir;    /* folder for external data; NULL refuses it */
    const char *name;        /* model name; NULL: the graph's name ("onnx" if none) */
    int input_h, input_w;    /* model input size; 0: from the graph input (else 224) */
} ec_convert_opts;

typedef struct ec_convert_info {
    int64_t opset;
    int n_ops, n_tensors, n_taps, n_classes;
    int head_softmax;
    char default_tap[128];
} ec_convert_info;

void ec_convert_defaults(ec_convert_opts *o);

/* Converts a serialised ONNX ModelProto. *out is malloc'ed (free()). info may be NULL. */
effcam_status ec_onnx_to_ecw(const uint8_t *onnx, size_t n, const ec_convert_opts *o, uint8_t **out, size_t *out_n,
                             ec_convert_info *info, effcam_error *err);
/* Reads in_path (external data relative to its folder; model name = the
 * file name without .onnx unless o->name), writes out_path. */
effcam_status ec_onnx_convert_file(const char *in_path, const char *out_path, const ec_convert_opts *o,
                                   ec_convert_info *info, effcam_error *err);
#endif
