#define _POSIX_C_SOURCE 200809L
#include "bench_profile.h"

#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "internal.h"

static double op_flops(const ec_op *op, const ec_shape *in, const ec_shape *out) {
    double o = (double)out->h * out->w;
    switch (op->type) {
    case ECW_OP_CONV2D: return 2.0 * o * out->c * op->kh * op->kw * in->c;
    case ECW_OP_DWCONV: return 2.0 * o * out->c * op->kh * op->kw;
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: return 2.0 * (double)in->h * in->w * op->cin * op->cout;
    case ECW_OP_SE: return 4.0 * (double)in->c * op->cmid + 2.0 * (double)in->h * in->w * in->c;
    case ECW_OP_ADD: return o * out->c;
    case ECW_OP_GAP: return (double)in->h * in->w * in->c;
    default: return 0; /* standalone activation: not counted */
    }
}

static void fill_prof(bench_op_prof *p, effcam_ctx *ctx, const effcam_model *model, uint32_t i, bench_stats st) {
    const ec_op *op = &model->ops[i];
    ec_shape in, out;
    ec_value_shape(ctx, op->in0, &in);
    ec_value_shape(ctx, (int)i + 1, &out);
    p->index = (int)i;
    p->type = op->type;
    p->type_name = ec_op_type_name(op->type);
    p->name = op->name ? op->name : "";
    p->in_h = in.h; p->in_w = in.w; p->in_c = in.c;
    p->out_h = out.h; p->out_w = out.w; p->out_c = out.c;
    p->kh = op->kh; p->kw = op->kw; p->sh = op->sh;
    p->flops = op_flops(op, &in, &out);
    p->median_ms = st.median;
    p->min_ms = st.min;
}

/* The engine's own op runner, predict mode. */
static void run_op(effcam_ctx *ctx, uint32_t i) { ec_run_op(ctx, i, NULL, NULL); }

double bench_model_flops(effcam_ctx *ctx, const effcam_model *model) {
    double f = 0;
    for (uint32_t i = 0; i < model->L.n_ops; i++) {
        ec_shape in, out;
        ec_value_shape(ctx, model->ops[i].in0, &in);
        ec_value_shape(ctx, (int)i + 1, &out);
        f += op_flops(&model->ops[i], &in, &out);
    }
    return f;
}

int bench_profile(effcam_ctx *ctx, const effcam_model *model, int runs, int warmup,
                  bench_op_prof *ops, double *sum_ms) {
    const uint32_t n = model->L.n_ops;
    if (ctx->mode != EFFCAM_MODE_PREDICT || runs < 1) return -1;
    double *t = malloc(sizeof(double) * ((size_t)n + 1) * (size_t)runs); /* [op][run], then one column */
    if (!t) return -1;
    double *col = t + (size_t)n * (size_t)runs;
    ec_shape s0;
    ec_value_shape(ctx, 0, &s0);
    size_t n_in = (size_t)s0.h * s0.w * s0.c;
    for (int r = -warmup; r < runs; r++) {
        /* the input buffer may be reused by later values: rewrite it */
        float *x0 = ec_buf_ptr(ctx, 0);
        uint32_t seed = 12345u;
        for (size_t k = 0; k < n_in; k++) {
            seed = seed * 1664525u + 1013904223u;
            x0[k] = (float)((seed >> 8) * (4.0 / 16777216.0) - 2.0);
        }
        for (uint32_t i = 0; i < n; i++) {
            double a = bench_now_ms();
            run_op(ctx, i);
            double b = bench_now_ms();
            if (r >= 0) t[(size_t)i * runs + r] = b - a;
        }
    }
    double sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        memcpy(col, t + (size_t)i * runs, sizeof(double) * (size_t)runs);
        fill_prof(&ops[i], ctx, model, i, bench_stats_of(col, runs));
        sum += ops[i].median_ms;
    }
    *sum_ms = sum;
    free(t);
    return 0;
}

int bench_profile_backward(effcam_ctx *ctx, const effcam_model *model, int runs, bench_op_prof *ops, int *n_ops,
                           double *sum_ms) {
    const uint32_t n = model->L.n_ops;
    if (ctx->mode != EFFCAM_MODE_GRADCAM || ctx->tap < 0 || runs < 1) return -1;
    double *t = malloc(sizeof(double) * ((size_t)n + 1) * (size_t)runs); /* [op][run], then one column */
    if (!t) return -1;
    double *col = t + (size_t)n * (size_t)runs;
    for (int r = -1; r < runs; r++) { /* one untimed sweep first */
        ec_backward_seed(ctx, 0, EFFCAM_TARGET_LOGIT);
        for (uint32_t j = n; j-- > 0;) {
            if (!ec_backward_runs_op(ctx, j)) continue;
            double a = bench_now_ms();
            ec_backward_op(ctx, j);
            double b = bench_now_ms();
            if (r >= 0) t[(size_t)j * runs + r] = b - a;
        }
    }
    int k = 0;
    double sum = 0;
    for (uint32_t j = n; j-- > 0;) {
        if (!ec_backward_runs_op(ctx, j)) continue;
        memcpy(col, t + (size_t)j * runs, sizeof(double) * (size_t)runs);
        fill_prof(&ops[k], ctx, model, j, bench_stats_of(col, runs));
        sum += ops[k].median_ms;
        k++;
    }
    *n_ops = k;
    *sum_ms = sum;
    free(t);
    return 0;
}
