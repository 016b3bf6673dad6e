/* Internal structures shared by the reader, planner and engine. */
#ifndef EFFCAM_INTERNAL_H
#define EFFCAM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "ecw_format.h"
#include "effcam.h"
#include "ops/ops.h"

#define EC_ALIGN 64u
#define EC_ALIGN_UP(n) (((n) + (EC_ALIGN - 1)) & ~(uint64_t)(EC_ALIGN - 1))

/* ---- status helpers (status.c) ------------------------------------------ */
/* Sets err (if non-NULL) and returns status. printf-style detail. */
effcam_status ec_fail(effcam_error *err, effcam_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void ec_ok(effcam_error *err);

/* ---- decoded records ---------------------------------------------------- */
typedef struct ec_op {
    int type, act, act2, flags;
    int in0, in1;
    int kh, kw, sh, sw;
    int pt, pl, pb, pr; /* explicit padding (ignored with PAD_SAME) */
    int cin, cout, cmid;
    int t[4];
    int wdt[2];       /* EC_WDT_* of the weight tensors t0 and t2 (se's W2),
                         from their records (fp16 if the index is invalid) */
    const char *name; /* "" if none */
    int readers;      /* op inputs that read this op's output (value i + 1);
                         counted at load (decoded model only) */
    int wino_pre;     /* a Winograd 3x3 conv whose forward weights are
                         transformed at load (ec_plan_req.prepack) */
    const float *wino_u; /* ... where (decoded model only) */
} ec_op;

typedef struct ec_tensor {
    int dtype, ndim;
    uint32_t dims[4];
    uint64_t offset, nbytes; /* offset from data_off */
    const void *data;        /* resolved pointer (decoded model only) */
    const char *name;
} ec_tensor;

typedef struct ec_tap {
    const char *name;
    int value, kind, scale_t, shift_t;
} ec_tap;

/* Section layout read from a header (all validated by ec_validate). */
typedef struct ec_layout {
    uint32_t version, flags;
    uint64_t file_bytes;
    uint32_t n_ops, n_tensors, n_taps, n_labels;
    uint64_t ops_off, tensors_off, taps_off, labels_off;
    uint64_t strings_off, strings_bytes, data_off, data_bytes;
    uint32_t input_h, input_w, input_c, channel_order;
    float pre_mul[3], pre_add[3];
    uint32_t resize_policy, resize_filter, crop_num, crop_den;
    uint32_t default_tap, source, name_str;
    uint32_t n_classes; /* cout of the last op */
    uint64_t n_params;
} ec_layout;

/* ---- reader (ecw_read.c) ------------------------------------------------ */
/* Structural validation of a whole file image; touches only the header and
 * tables unless check_body_crc. Fills *L. Allocates nothing. */
effcam_status ec_validate(const uint8_t *file, size_t bytes, int check_body_crc,
                          ec_layout *L, effcam_error *err);
/* Header only (first 256 bytes): magic, version, sizes; for load_file. */
effcam_status ec_read_header(const uint8_t *hdr, size_t bytes, ec_layout *L,
                             effcam_error *err);
/* Decoders for validated files. */
void ec_op_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_op *op);
void ec_tensor_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_tensor *t);
void ec_tap_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_tap *t);
const char *ec_string(const uint8_t *file, const ec_layout *L, uint32_t off); /* "" for NONE */
uint32_t ec_crc32(const uint8_t *p, size_t n); /* zlib's crc32(0, p, n) (crc32.c) */
/* zlib's crc32(c, p, n); fast: the carry-less multiply path where the CPU
 * has it (0: zlib's own, for the tests' comparisons). */
uint32_t ec_crc32_update(uint32_t c, const uint8_t *p, size_t n, int fast);
/* Find a tap by name; -1 if absent. */
int ec_find_tap(const uint8_t *file, const ec_layout *L, const char *name);

/* ---- graph geometry (graph.c) ------------------------------------------- */
typedef struct ec_shape { int h, w, c; } ec_shape;
/* Output shape and effective padding of op for an input shape. Returns
 * EFFCAM_E_DIMS if the op cannot run at that size. */
effcam_status ec_op_geometry(const ec_op *op, const ec_shape *in, ec_shape *out,
                             int *pt, int *pl, effcam_error *err);
/* Exact scratch floats the op's forward / backward kernel needs. */
size_t ec_op_scratch_floats(const ec_op *op, const ec_shape *in, const ec_shape *out);
/* Floats of the load-time Winograd weights of op (a 3x3 stride-1 conv that
 * ec_conv2d_winograd_ok takes at any input size), else 0. */
size_t ec_op_wino_u_floats(const ec_op *op);
size_t ec_op_backward_scratch_floats(const ec_op *op, const ec_shape *in, const ec_shape *out);
/* Does op's backward need its pre-activation saved? */
int ec_op_saves_preact(const ec_op *op);
void ec_conv_dims_of(const ec_op *op, const ec_shape *in, const ec_shape *out, int pt, int pl,
                     ec_conv_dims *d);
/* Kernel dims of a pwconv / dense and an se op for an input shape. */
void ec_pw_dims_of(const ec_op *op, const ec_shape *in, ec_pw_dims *d);
void ec_se_dims_of(const ec_op *op, const ec_shape *in, ec_se_dims *d);
const char *ec_op_type_name(int type);
/* Weight tensors of an op: 0, 1 (t0; wdt[0]) or 2 (se: t0 and t2; wdt[0],
 * wdt[1]). */
int ec_op_weight_slots(const ec_op *op);
const char *ec_act_name(int act);
uint64_t ec_op_params(const ec_op *op);

/* ---- planner (plan.c) --------------------------------------------------- */
/* A planned buffer: bytes (64-aligned), lifetime [first, last] in steps,
 * offset in the activation region. */
typedef struct ec_buf {
    uint64_t bytes, offset;
    int32_t first, last;
    uint16_t h, w; /* shape (values; the tap buffer copies its value's) */
    uint32_t c;
} ec_buf;

/* Buffer table layout (n = n_ops):
 *   [0, n]            values V_v (v = 0 input, v = i + 1 output of op i)
 *   n + 1 + EC_BUF_*  singletons below
 * GRADCAM mode adds, from ec_buf_saved(n):
 *   saved S_j  [n]    op j's pre-activation, or its SE saved values
 *   grads G_v  [n+1]  d score / d V_v
 *   temps T_j  [n]    op j's input gradient when it must be accumulated
 * Timeline: step 0 writes the input; op j runs at step j + 1; the target
 * gradient is seeded at n + 1; op j's backward runs at 2n + 1 - j; the CAM
 * is combined at 2n + 2; 2n + 3 is "after the call" (results kept). */
enum {
    EC_BUF_TAP = 0,   /* the tap's activation when it is not a value   */
    EC_BUF_RAW,       /* raw CAM [h_t * w_t]                           */
    EC_BUF_NORM,      /* post-processed CAM at feature resolution      */
    EC_BUF_WEIGHTS,   /* CAM channel weights / Score-CAM scores [k]    */
    EC_BUF_INPUT0,    /* Score-CAM: the unmasked input                 */
    EC_BUF_ACOPY,     /* Score-CAM: the tap activation                 */
    EC_BUF_EXTRA_COUNT
};
static inline uint32_t ec_buf_single(uint32_t n, int which) { return n + 1 + (uint32_t)which; }
static inline uint32_t ec_buf_saved(uint32_t n, uint32_t j) { return n + 1 + EC_BUF_EXTRA_COUNT + j; }
static inline uint32_t ec_buf_grad(uint32_t n, uint32_t v) { return n + 1 + EC_BUF_EXTRA_COUNT + n + v; }
static inline uint32_t ec_buf_temp(uint32_t n, uint32_t j) { return n + 1 + EC_BUF_EXTRA_COUNT + 2 * n + 1 + j; }
static inline int32_t ec_bstep(uint32_t n, uint32_t j) { return (int32_t)(2 * n + 1 - j); }
#define EC_STEP_CAM(n) ((int32_t)(2 * (n) + 2))
#define EC_STEP_END(n) ((int32_t)(2 * (n) + 3))

typedef struct ec_plan_req {
    int h, w;            /* input size (resolved) */
    effcam_mode mode;
    int tap;             /* tap index or -1 */
    int method;          /* effcam_cam_method (GRADCAM) */
    unsigned cam_flags;  /* EFFCAM_CAM_SMOOTH_* (GRADCAM) */
    int prepack;         /* ops decoded from the file: transform the Winograd
                            convs' weights at load (not EFFCAM_LOAD_COMPACT) */
} ec_plan_req;

/* Does the method need the backward pass? */
static inline int ec_method_needs_grad(int method) {
    return method != EFFCAM_CAM_EIGENCAM && method != EFFCAM_CAM_SCORECAM;
}

typedef struct ec_plan_out {
    uint64_t activation_bytes;
    uint64_t scratch_bytes;
    uint64_t prepacked_bytes; /* the load-time Winograd weights of the ops with wino_pre */
    uint32_t n_bufs;
} ec_plan_out;

uint32_t ec_plan_nbufs(const ec_layout *L, effcam_mode mode);
/* Plans every buffer. ops: decoded ops, or NULL to decode from file.
 * bufs: ec_plan_nbufs() entries. */
effcam_status ec_plan(const uint8_t *file, const ec_layout *L, const ec_op *ops,
                      const ec_plan_req *req, ec_buf *bufs, ec_plan_out *out,
                      effcam_error *err);

#include "cam/cam.h"

/* ---- handles ------------------------------------------------------------ */
struct effcam_model {
    const uint8_t *file; /* validated file image (arena copy, caller memory or mmap) */
    ec_layout L;
    ec_op *ops;          /* [n_ops]     */
    ec_tensor *tensors;  /* [n_tensors] */
    ec_tap *taps;        /* [n_taps]    */
    const char **labels; /* [n_labels]  */
    void *heap;          /* the library's one allocation, or NULL */
    void *map;           /* mmap of the file, or NULL */
    size_t map_bytes;
    effcam_ctx *ctx0;    /* the workspace loaded with the model */
};

struct effcam_ctx {
    const effcam_model *m;
    int h, w;                /* planned input size */
    effcam_mode mode;
    int tap;                 /* tap index or -1 */
    int method;              /* effcam_cam_method */
    int cam_ready;           /* effcam_gradcam ran since the last predict */
    int cam_class;
    int masked_pass;         /* Score-CAM / smoothing forward in progress */
    unsigned cam_flags;      /* EFFCAM_CAM_SMOOTH_* */
    int clobbered;           /* a flipped pass overwrote the prediction's buffers */
    ec_buf *bufs;            /* [n_bufs] */
    uint32_t n_bufs;
    float *logits, *probs;   /* [n_classes] */
    uint8_t *act;            /* activation region */
    uint64_t act_bytes;
    float *scratch;          /* scratch region */
    uint64_t scratch_bytes;
    uint64_t base_bytes;     /* ctx header + tables, before act */
    uint64_t high_water;     /* highest end (bytes from the ctx start) handed out */
    void *heap;              /* allocation owned by this ctx, or NULL */
    int have_result;
};

/* Workspace layout sizes. */
uint64_t ec_ctx_tables_bytes(const ec_layout *L, effcam_mode mode);
uint64_t ec_model_tables_bytes(const ec_layout *L);

/* ---- engine (engine.c, backward.c) ---------------------------------------- */
/* Runs the forward pass on the input already written to value 0. */
effcam_status ec_forward(effcam_ctx *ctx);
/* Runs op i alone (value i + 1 <- its inputs); preact / se_saved optional.
 * The benchmark's per-op profile times this. */
void ec_run_op(effcam_ctx *ctx, uint32_t i, float *preact, float *se_saved);
/* Grad-CAM: seeds d score / d logits, runs the backward pass to the tap and
 * leaves the gradient w.r.t. the tap in its G buffer (tap space). */
effcam_status ec_backward(effcam_ctx *ctx, int cls, int target);
/* its pieces, in its order (the bench times them one by one): the seed
 * d score / d logits; op j's backward, which runs for j from n_ops - 1 down
 * to the tap's value where ec_backward_runs_op(ctx, j) */
void ec_backward_seed(effcam_ctx *ctx, int cls, int target);
int ec_backward_runs_op(const effcam_ctx *ctx, uint32_t j);
void ec_backward_op(effcam_ctx *ctx, uint32_t j);
/* Pointer to the tap's activation A (its value or the tap buffer). */
float *ec_tap_activation(effcam_ctx *ctx);
/* Pointer to a planned buffer; records the high-water mark. */
float *ec_buf_ptr(effcam_ctx *ctx, uint32_t b);
float *ec_scratch_ptr(effcam_ctx *ctx, size_t floats);
void ec_value_shape(const effcam_ctx *ctx, int v, ec_shape *s);

#endif
