/* effcam-bench per-op profile. The public API has no per-op timing hook, so
 * the harness walks the decoded model (lib/internal.h) and times the same
 * kernel calls the engine makes (lib/ops/ops.h), in the engine's order, on
 * the buffers the planner placed (predict mode: no pre-activations kept). */
#ifndef EFFCAM_BENCH_PROFILE_H
#define EFFCAM_BENCH_PROFILE_H

#include <stdio.h>

#include "effcam.h"

typedef struct bench_op_prof {
    int index, type;
    const char *type_name, *name;
    int in_h, in_w, in_c, out_h, out_w, out_c, kh, kw, sh;
    double flops;     /* multiply-adds x 2 (+ elementwise ops for add/gap/se) */
    double median_ms; /* over the profile runs */
    double min_ms;
} bench_op_prof;

/* Runs the timed forward `runs` times (after `warmup`), on a normalised
 * random input. ops: effcam_get_info().num_ops entries. Returns 0 on
 * success; *sum_ms = sum of the per-op medians. */
int bench_profile(effcam_ctx *ctx, const effcam_model *model, int runs, int warmup,
                  bench_op_prof *ops, double *sum_ms);

/* Grad-CAM's backward pass, op by op, in a GRADCAM ctx after one
 * effcam_gradcam (the saved activations in place): `runs` timed sweeps
 * (logit target, class 0) after one untimed one. ops: room for
 * effcam_get_info().num_ops entries; *n_ops of them filled, in backward
 * order. flops: the forward op's (the data gradient costs the same). */
int bench_profile_backward(effcam_ctx *ctx, const effcam_model *model, int runs, bench_op_prof *ops, int *n_ops,
                           double *sum_ms);

/* Total FLOPs of one forward pass at the ctx's planned size (model walk). */
double bench_model_flops(effcam_ctx *ctx, const effcam_model *model);

#endif
