/* Converter internals shared by onnx_to_ecw.c (graph walk, taps, writing)
 * and cv_ops.c (one handler per ONNX op type). */
#ifndef EFFCAM_CV_INTERNAL_H
#define EFFCAM_CV_INTERNAL_H
#include "ecw_format.h"
#include "ecw_write.h"
#include "onnx_model.h"
#include "onnx_to_ecw.h"

/* A string -> int hash map over pb_buf keys (keys are not copied). */
typedef struct cv_map { pb_buf *keys; int *vals; size_t cap, n; } cv_map;
int cv_map_get(const cv_map *h, pb_buf k);           /* -1 if absent */
int cv_map_put(cv_map *h, pb_buf k, int v);          /* 0 ok, 1 exists, -1 nomem */
void cv_map_free(cv_map *h);

/* What an ONNX value is, symbolically. */
enum {
    K_NONE = 0, /* not produced yet */
    K_FEAT,     /* an effcam value: op `op`'s output (post = after its act) */
    K_CONST,    /* initializer / Constant: tensor t */
    K_SIG,      /* sigmoid(src) or hard-sigmoid(src), not emitted yet */
    K_HSIG,
    K_POOL,     /* global average of src, not emitted yet */
    K_SE,       /* squeeze-excitation in progress (se) */
    K_PAD       /* zero padding of src, to fold into the next conv */
};

typedef struct cv_val {
    pb_buf name;
    int producer;  /* node index, -1 for initializers / graph input */
    int uses;      /* consumers (node inputs + graph outputs) */
    int kind;
    int op, post, epoch, c, vec; /* K_FEAT (op -1 = the input image) */
    int src;       /* K_SIG / K_HSIG / K_POOL / K_PAD */
    int resolved;  /* K_SIG / K_HSIG / K_POOL once emitted: the K_FEAT value */
    int orig;      /* an alias (Identity, Flatten, ...) of a pending K_SIG/K_HSIG/K_POOL: that value, else -1 */
    int se, se_stage;
    int pads[4];
    int softmax;
    const ox_tensor *t;
} cv_val;

typedef struct cv_op {
    ew_op o;
    double *w[4];
    int wdims[4][4], wndim[4], is_w[4];
    int epoch;
    char name[256];
} cv_op;

typedef struct cv_se {
    int x, c, cmid, act1, gate, stage;
    double *w1, *b1, *w2, *b2;
} cv_se;

typedef struct cv {
    const ox_model *m;
    const ec_convert_opts *o;
    effcam_error *err;
    cv_val *v;
    int nv;
    cv_map names;
    cv_op *ops;
    int n_ops;
    cv_se *se;
    int n_se, cap_se;
    int node;          /* current node index */
    char nname[160];   /* current node's name (for messages) */
    char optype[64];
    unsigned flags;
} cv;

/* helpers (onnx_to_ecw.c) */
effcam_status cv_err(cv *c, effcam_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
int cv_in(cv *c, const ox_node *n, int k);          /* value index or -1 (absent / "") */
int cv_feat(cv *c, int vi);                         /* materialise to K_FEAT; -1 on error */
int cv_emit(cv *c, int type, int act, int in0, int in1, int cin, int cout); /* op index or -1 */
int cv_apply_act(cv *c, int x, int act, int expect_uses, int out);
int cv_const(cv *c, int vi, const char *what, double **vals, uint64_t *numel); /* 0 ok */
int cv_run_node(cv *c, const ox_node *n);           /* cv_ops.c: 0 ok, -1 error */
#endif
