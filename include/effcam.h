/*
 * effcam: EfficientNet-family classifiers and Grad-CAM in a memory footprint
 * known exactly before the first byte is allocated.
 *
 * Public API. One prefix (effcam_), opaque handles, a status enum with
 * effcam_strerror(). The library never exits, aborts or prints.
 *
 * Memory model
 *   model     = a validated view of an .ecw file: small decoded tables, plus
 *               the file bytes (copied into the arena, or used in place from
 *               caller memory / a read-only mmap). Read-only after load and
 *               shareable between threads.
 *   workspace = one request's memory (effcam_ctx): activations, scratch and
 *               the plan tables, sized exactly by the planner for an input
 *               size and a mode. One workspace per concurrent request.
 *   arena     = model + one workspace in one block: what effcam_load_*()
 *               takes (caller memory) or allocates (one malloc).
 *
 * After load, effcam_predict_*() never calls malloc or free.
 */
#ifndef EFFCAM_H
#define EFFCAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EFFCAM_VERSION_MAJOR 0
#define EFFCAM_VERSION_MINOR 1
#define EFFCAM_VERSION_PATCH 0

typedef enum effcam_status {
    EFFCAM_OK = 0,
    EFFCAM_E_ARG,          /* invalid argument (NULL, out of range)          */
    EFFCAM_E_IO,           /* a file could not be opened, read or mapped     */
    EFFCAM_E_MAGIC,        /* not an effcam model file                       */
    EFFCAM_E_VERSION,      /* unsupported format version or byte order       */
    EFFCAM_E_TRUNCATED,    /* the data ends before a section it declares     */
    EFFCAM_E_CORRUPT,      /* inconsistent field: offsets, sizes, graph      */
    EFFCAM_E_CHECKSUM,     /* header or body checksum mismatch               */
    EFFCAM_E_UNSUPPORTED,  /* unknown op, activation, dtype or mode          */
    EFFCAM_E_DIMS,         /* input or layer dimensions out of range         */
    EFFCAM_E_OVERFLOW,     /* size arithmetic would overflow                 */
    EFFCAM_E_NOMEM,        /* the library's one allocation failed            */
    EFFCAM_E_BUFFER_SMALL, /* caller-provided memory is smaller than planned */
    EFFCAM_E_IMAGE,        /* an image could not be decoded                  */
    EFFCAM_E_LAYER,        /* unknown layer / tap name                       */
    EFFCAM_E_MODE,         /* the workspace was not planned for this request */
    EFFCAM_E_STATE,        /* call out of order (e.g. results before run)    */
    EFFCAM_STATUS_COUNT
} effcam_status;

/* A static English string for a status code; never NULL. */
const char *effcam_strerror(effcam_status status);

/* Optional detail for the caller to show: status plus a message naming the
 * offending field / op / value. Every function taking one fills it on error. */
typedef struct effcam_error {
    effcam_status status;
    char message[256];
} effcam_error;

typedef struct effcam_model effcam_model; /* read-only after load */
typedef struct effcam_ctx effcam_ctx;     /* one request's workspace */

typedef enum effcam_mode {
    EFFCAM_MODE_PREDICT = 0, /* forward pass only                          */
    EFFCAM_MODE_GRADCAM = 1  /* forward + backward from the head to a layer */
} effcam_mode;

/* Grad-CAM family methods (EFFCAM_MODE_GRADCAM). */
typedef enum effcam_cam_method {
    EFFCAM_CAM_GRADCAM = 0,
    EFFCAM_CAM_GRADCAMPP,
    EFFCAM_CAM_XGRADCAM,
    EFFCAM_CAM_HIRESCAM,
    EFFCAM_CAM_LAYERCAM,
    EFFCAM_CAM_EIGENCAM,
    EFFCAM_CAM_SCORECAM,
    EFFCAM_CAM_METHOD_COUNT
} effcam_cam_method;

/* What a workspace must be able to do. Zero-initialise, then set fields. */
typedef struct effcam_spec {
    int height, width;   /* input size; 0 = the model's own size              */
    effcam_mode mode;    /* predict or gradcam                                 */
    const char *layer;   /* tap name. GRADCAM: layer to explain (NULL: the
                            model's default). PREDICT: if set, that tap's
                            activation stays readable after predict.           */
    effcam_cam_method method; /* GRADCAM only                                  */
    unsigned cam_flags;  /* GRADCAM: EFFCAM_CAM_SMOOTH_* (planned: they keep
                            the input for the extra passes)                    */
} effcam_spec;

/* Test-time smoothing: extra passes explain transformed copies of the input
 * (same class, same input size, so within the same plan), each map is
 * brought back to the original frame and the raw maps are averaged.
 *   FLIP:  the horizontally mirrored image;
 *   SCALE: the image zoomed about its centre by 0.9 and 1.1 (content shrunk,
 *          border replicated / content enlarged, borders out of view: a map
 *          cell is averaged over the passes that see it).
 * Both: every combination (6 passes). Gradient methods and Eigen-CAM. The
 * channel weights reported are the last pass's. */
#define EFFCAM_CAM_SMOOTH_FLIP  1u
#define EFFCAM_CAM_SMOOTH_SCALE 2u

/* Load flags. */
#define EFFCAM_LOAD_IN_PLACE    1u /* use the file bytes where they are (caller
                                      memory, or a read-only mmap for *_file);
                                      they must outlive the model            */
#define EFFCAM_LOAD_NO_CHECKSUM 2u /* skip the body checksum (still validated) */
#define EFFCAM_LOAD_COMPACT     4u /* no load-time Winograd weights: the 3x3
                                      stride-1 convs transform their weights
                                      on every call, in the scratch (less
                                      memory: plan.prepacked_bytes is 0, the
                                      scratch may grow; slower, ~6% for
                                      EfficientNetV2-S with 2 threads)       */

/* Exact bytes, computed before anything is allocated. The parts add up:
 *   total_bytes     = model_bytes + workspace_bytes
 *   model_bytes     = model_tables_bytes + weights_bytes + prepacked_bytes
 *   workspace_bytes = workspace_tables_bytes + activation_bytes + scratch_bytes */
typedef struct effcam_plan {
    size_t total_bytes;            /* one arena for effcam_load_*()          */
    size_t model_bytes;            /* the model handle                       */
    size_t model_tables_bytes;     /* decoded op/tensor/tap tables           */
    size_t weights_bytes;          /* the file copied in (0 when in place)   */
    size_t prepacked_bytes;        /* Winograd-transformed 3x3 conv weights,
                                      fp32, computed at load (0 with
                                      EFFCAM_LOAD_COMPACT)                   */
    size_t workspace_bytes;        /* one request (effcam_ctx)               */
    size_t workspace_tables_bytes; /* ctx header, shapes, offsets            */
    size_t activation_bytes;       /* peak of live activations (placed)      */
    size_t scratch_bytes;          /* largest per-op scratch                 */
    size_t file_bytes;             /* size of the .ecw                       */
    int height, width;             /* the input size planned for             */
} effcam_plan;

/* ---- planning: allocates nothing ------------------------------------- */
effcam_status effcam_plan_memory(const void *file, size_t file_bytes,
                                 const effcam_spec *spec, unsigned flags,
                                 effcam_plan *plan, effcam_error *err);
effcam_status effcam_plan_file(const char *path, const effcam_spec *spec,
                               unsigned flags, effcam_plan *plan,
                               effcam_error *err);

/* ---- loading: model + one workspace in one arena ----------------------
 * arena == NULL: the library makes exactly one allocation of
 * plan.total_bytes. Otherwise arena must be 64-byte aligned (EFFCAM_E_ARG
 * if not) and hold plan.total_bytes: if it is smaller, EFFCAM_E_BUFFER_SMALL
 * is returned before anything is written. *model and *ctx are set on
 * success. With EFFCAM_LOAD_IN_PLACE, effcam_load_file maps the file
 * read-only (shared between processes) and effcam_free unmaps it. */
effcam_status effcam_load_memory(const void *file, size_t file_bytes,
                                 const effcam_spec *spec, unsigned flags,
                                 void *arena, size_t arena_bytes,
                                 effcam_model **model, effcam_ctx **ctx,
                                 effcam_error *err);
effcam_status effcam_load_file(const char *path, const effcam_spec *spec,
                               unsigned flags, void *arena, size_t arena_bytes,
                               effcam_model **model, effcam_ctx **ctx,
                               effcam_error *err);
/* Releases what the library allocated or mapped for the model (and the
 * workspace loaded with it). Caller memory is left to the caller. */
void effcam_free(effcam_model *model);

/* ---- extra workspaces: one per concurrent request, weights shared ----- */
effcam_status effcam_workspace_bytes(const effcam_model *model,
                                     const effcam_spec *spec, size_t *bytes,
                                     effcam_error *err);
/* mem == NULL: one allocation by the library (free with effcam_ctx_free);
 * otherwise mem must be 64-byte aligned and hold the workspace bytes. */
effcam_status effcam_ctx_init(const effcam_model *model,
                              const effcam_spec *spec, void *mem,
                              size_t mem_bytes, effcam_ctx **ctx,
                              effcam_error *err);
void effcam_ctx_free(effcam_ctx *ctx);

/* ---- running: no allocation ------------------------------------------ */
#define EFFCAM_INPUT_NORMALIZED 1u /* f32 input already preprocessed */

/* NHWC float tensor of exactly the planned height x width x 3, in the
 * model's pixel space (RGB 0..255; preprocessing applied here) unless
 * EFFCAM_INPUT_NORMALIZED. */
effcam_status effcam_predict_f32(effcam_ctx *ctx, const float *nhwc, int height,
                                 int width, unsigned flags);
/* Interleaved RGB8 pixels of any size (row stride in bytes, 0 = 3*width);
 * stretched bilinearly (half-pixel centres) to the planned size while it
 * is written into the input buffer: no extra memory. */
effcam_status effcam_predict_rgb8(effcam_ctx *ctx, const uint8_t *rgb,
                                  int height, int width, size_t stride);

/* Results of the last predict (NULL / error before the first). */
const float *effcam_logits(const effcam_ctx *ctx);
const float *effcam_probs(const effcam_ctx *ctx);
/* Top-k classes by probability, descending; returns the count written. */
int effcam_top_k(const effcam_ctx *ctx, int k, int *classes, float *probs);
/* The tap named in spec.layer after predict (PREDICT mode), NHWC. */
effcam_status effcam_tap_output(const effcam_ctx *ctx, const float **data,
                                int *height, int *width, int *channels);

/* ---- Grad-CAM (EFFCAM_MODE_GRADCAM workspaces): no allocation --------- */
typedef enum effcam_cam_target {
    EFFCAM_TARGET_LOGIT = 0, /* d logit_c (Grad-CAM paper, pytorch-grad-cam) */
    EFFCAM_TARGET_PROB = 1   /* d softmax_c (what our users' Keras code does) */
} effcam_cam_target;

typedef struct effcam_cam_opts {
    int class_index;          /* -1: the predicted class (argmax) */
    effcam_cam_target target;
} effcam_cam_opts;

/* After a predict in a GRADCAM workspace: the backward pass from the chosen
 * class's score to the planned layer, then the planned method's map. *raw
 * points into the workspace: the map at feature resolution BEFORE ReLU and
 * normalisation, valid until the next predict. opts may be NULL. */
effcam_status effcam_gradcam(effcam_ctx *ctx, const effcam_cam_opts *opts,
                             const float **raw, int *height, int *width);
/* The channel weights of the last map (Grad-CAM family), [channels]. */
effcam_status effcam_cam_weights(const effcam_ctx *ctx, const float **w,
                                 int *channels);

typedef enum effcam_cam_post {
    EFFCAM_POST_GRADCAM_LIB = 0, /* ReLU, min-max, bilinear up, min-max
                                    (pytorch-grad-cam's show path)       */
    EFFCAM_POST_DIVMAX = 1,      /* ReLU, divide by the max at feature
                                    resolution, bilinear up (our users') */
    EFFCAM_POST_RAW = 2          /* bilinear up of the raw map           */
} effcam_cam_post;
/* The last map, post-processed and resized (bilinear, half-pixel centres)
 * to out_h x out_w into caller memory (out_h * out_w floats). */
effcam_status effcam_cam_render(effcam_ctx *ctx, effcam_cam_post post,
                                float *out, int out_h, int out_w);

/* ---- introspection ---------------------------------------------------- */
typedef struct effcam_info {
    int num_ops, num_tensors, num_taps, num_classes;
    int input_height, input_width, input_channels;
    int channel_order;      /* 0 RGB, 1 BGR */
    float pre_mul[3], pre_add[3]; /* x' = x * mul + add on 0..255 pixels */
    int resize_policy;      /* 0 stretch, 1 shorter side + centre crop, 2 letterbox */
    int resize_filter;      /* 0 bilinear, 1 bicubic, 2 lanczos, 3 nearest */
    int crop_num, crop_den; /* policy 1: resize shorter side to size*den/num */
    int source;             /* 0 unknown, 1 torchvision, 2 keras, 3 onnx */
    int head_softmax;       /* the source model ended in softmax */
    uint64_t num_params;
    uint64_t file_bytes;
    const char *name;       /* model name, "" if none */
    const char *default_tap;/* default Grad-CAM layer, NULL if none */
    /* weight tensors (conv / dense kernels, SE matrices; biases excluded)
     * by stored dtype: bytes in the file. A model may hold both. */
    uint64_t weight_bytes_f16, weight_bytes_f32;
} effcam_info;
effcam_status effcam_get_info(const effcam_model *model, effcam_info *info);
const char *effcam_label(const effcam_model *model, int cls); /* NULL if none */
const char *effcam_tap_name(const effcam_model *model, int i); /* NULL if out of range */

/* Per-op description for `effcam info` (index 0..num_ops-1). */
typedef struct effcam_op_info {
    const char *type;   /* "conv2d", "dwconv", ... */
    const char *name;   /* source layer name, "" if none */
    const char *act;    /* fused activation name */
    int kh, kw, sh, sw, cin, cout;
    uint64_t params;
    const char *weights; /* weight dtype: "f16", "f32", "f16+f32" (an SE op
                            with one of each), "" for ops without weights */
} effcam_op_info;
effcam_status effcam_get_op_info(const effcam_model *model, int i,
                                 effcam_op_info *info);

/* Bytes of the arena actually touched since the workspace was created:
 * the highest end offset of any buffer the engine handed out. The memory
 * tests check it equals the plan. */
size_t effcam_workspace_high_water(const effcam_ctx *ctx);

/* Threads used by the library's kernels: one process-wide pool of
 * threads - 1 workers plus the calling thread (OpenBLAS runs on each of
 * them single-threaded). threads <= 0: the default, EFFCAM_NUM_THREADS
 * from the environment if set, else the CPUs available to the process
 * capped at 4. 1: no worker threads. The pool is created once, by the
 * first effcam_load_*() / effcam_ctx_init() or by this call (creating
 * threads is the only allocation outside the arena, and happens once);
 * idle workers sleep after a short bounded spin. Call it when no predict
 * is running. Plans do not depend on the thread count. Several user
 * threads may predict at once on their own workspaces: one of them uses
 * the pool at a time, the others run their kernels on their own thread. */
void effcam_set_threads(int threads);

#ifdef __cplusplus
}
#endif
#endif /* EFFCAM_H */
