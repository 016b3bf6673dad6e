/* An in-memory .ecw writer (docs/FORMAT.md): the converter describes ops,
 * tensors (as double values, rounded here to f16 or f32), taps and labels;
 * ew_write lays out the sections, aligns them and fills both CRCs. */
#ifndef EFFCAM_ECW_WRITE_H
#define EFFCAM_ECW_WRITE_H
#include <stddef.h>
#include <stdint.h>

#include "effcam.h"

typedef struct ew_tensor {
    int dtype;          /* 1 f16, 2 f32 */
    int ndim;           /* 1..4 */
    int dims[4];
    const double *data; /* prod(dims) values */
} ew_tensor;

typedef struct ew_op {
    int type, act, act2;
    unsigned flags;
    int in0, in1;
    int kh, kw, sh, sw;
    int pad[4];         /* top, left, bottom, right */
    int cin, cout, cmid;
    int t[4];           /* tensor indices or -1 */
    const char *name;
} ew_op;

typedef struct ew_tap { const char *name; int value, kind; } ew_tap;

typedef struct ew_model {
    int input_h, input_w;
    float pre_mul[3], pre_add[3];
    int resize_policy, resize_filter, crop_num, crop_den;
    int default_tap;    /* index or -1 */
    int source;
    unsigned flags;
    const char *name;
    const ew_op *ops; int n_ops;
    const ew_tensor *tensors; int n_tensors;
    const ew_tap *taps; int n_taps;
    const char *const *labels; int n_labels;
} ew_model;

/* *out is malloc'ed (free()). */
effcam_status ew_write(const ew_model *m, uint8_t **out, size_t *size, effcam_error *err);

/* float64 -> IEEE half, round to nearest even (as numpy's astype(float16)). */
uint16_t ew_f64_to_f16(double x);
#endif
