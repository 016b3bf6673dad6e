/* The backward engine for Grad-CAM: from d score / d logits back to the
 * chosen layer, through only the ops that depend on it, in the buffers the
 * planner placed (see the timeline in internal.h). Each op's gradient w.r.t.
 * its input is written straight into the input's gradient buffer when it is
 * the first contribution, or into a planned temporary and added otherwise.
 * No allocation. */
#include <string.h>

#include "internal.h"

float *ec_tap_activation(effcam_ctx *ctx) {
    const ec_tap *t = &ctx->m->taps[ctx->tap];
    uint32_t n = ctx->m->L.n_ops;
    return ec_buf_ptr(ctx, t->kind == ECW_TAP_OUTPUT ? (uint32_t)t->value : ec_buf_single(n, EC_BUF_TAP));
}

static size_t numel(const ec_buf *b) { return (size_t)b->h * b->w * b->c; }

/* Gradient w.r.t. input u of op j: where to write it, and whether to add. */
static float *grad_dst(effcam_ctx *ctx, uint32_t j, int u, int *accumulate) {
    uint32_t n = ctx->m->L.n_ops;
    const ec_buf *G = &ctx->bufs[ec_buf_grad(n, (uint32_t)u)];
    *accumulate = G->first != ec_bstep(n, j);
    return *accumulate ? ec_buf_ptr(ctx, ec_buf_temp(n, j)) : ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)u));
}

static void add_into(float *dst, const float *src, size_t k) {
    for (size_t i = 0; i < k; i++) dst[i] += src[i];
}

static const void *tdata(const effcam_model *m, int t) { return t >= 0 ? m->tensors[t].data : NULL; }

/* The activation backward of value u's producer (op u - 1) is fused into
 * the kernel of u's only reader, where that kernel takes it (a depthwise
 * conv or an SE: the gradient rows it writes are multiplied by act'(preact)
 * while still in cache), when u lies above the tap (op u - 1's backward
 * runs). Op u - 1 then skips its own pass over the gradient. */
static int act_fused_into_reader(const effcam_ctx *ctx, int u) {
    const effcam_model *m = ctx->m;
    if (u <= m->taps[ctx->tap].value) return 0;
    const ec_op *p = &m->ops[u - 1];
    if (!ec_op_saves_preact(p) || p->readers != 1) return 0;
    /* ops read earlier values only: u's reader is the first op after it that names it */
    for (uint32_t j = (uint32_t)u; j < m->L.n_ops; j++) {
        const ec_op *r = &m->ops[j];
        if (r->in0 == u || r->in1 == u) return r->type == ECW_OP_DWCONV || r->type == ECW_OP_SE;
    }
    return 0;
}

/* The saved pre-activation and activation of value u's producer, where its
 * reader applies the activation backward; else NULL. */
static const float *fused_pre(effcam_ctx *ctx, int u, int *act) {
    if (!act_fused_into_reader(ctx, u)) return NULL;
    *act = ctx->m->ops[u - 1].act;
    return ec_buf_ptr(ctx, ec_buf_saved(ctx->m->L.n_ops, (uint32_t)u - 1));
}

/* Backward of op j: G[j+1] -> G[inputs]. */
void ec_backward_op(effcam_ctx *ctx, uint32_t j) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops;
    const ec_op *op = &m->ops[j];
    float *g = ec_buf_ptr(ctx, ec_buf_grad(n, j + 1));
    const ec_buf *vo = &ctx->bufs[j + 1], *vi = &ctx->bufs[op->in0];
    const size_t nout = numel(vo), nin = numel(vi);
    ec_shape in = {vi->h, vi->w, (int)vi->c}, out = {vo->h, vo->w, (int)vo->c};
    if (ec_op_saves_preact(op) && !act_fused_into_reader(ctx, (int)j + 1)) /* through the activation, in place */
        ec_act_backward_rows(g, g, ec_buf_ptr(ctx, ec_buf_saved(n, j)), vo->h * vo->w, vo->c, op->act);
    const int dep0 = ctx->bufs[ec_buf_grad(n, (uint32_t)op->in0)].bytes > 0;
    int acc = 0;
    float *dst;
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV: {
        if (!dep0) return;
        ec_shape o;
        int pt, pl;
        ec_op_geometry(op, &in, &o, &pt, &pl, NULL);
        ec_conv_dims d;
        ec_conv_dims_of(op, &in, &out, pt, pl, &d);
        dst = grad_dst(ctx, j, op->in0, &acc);
        if (op->type == ECW_OP_CONV2D) {
            ec_conv2d_backward(dst, g, tdata(m, op->t[0]), &d, ec_scratch_ptr(ctx, ec_conv2d_backward_scratch_floats(&d)));
        } else {
            int pact = 0;
            const float *pre = fused_pre(ctx, op->in0, &pact);
            ec_dwconv_backward_act(dst, g, tdata(m, op->t[0]), &d,
                                   ec_scratch_ptr(ctx, ec_dwconv_backward_scratch_floats(&d)), pre, pact);
        }
        break;
    }
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: {
        if (!dep0) return;
        ec_pw_dims d;
        ec_pw_dims_of(op, &in, &d);
        dst = grad_dst(ctx, j, op->in0, &acc);
        ec_pwconv_backward(dst, g, tdata(m, op->t[0]), &d, ec_scratch_ptr(ctx, ec_pwconv_backward_scratch_floats(&d)));
        break;
    }
    case ECW_OP_SE: {
        if (!dep0) return;
        ec_se_dims d;
        ec_se_dims_of(op, &in, &d);
        dst = grad_dst(ctx, j, op->in0, &acc);
        int pact = 0;
        const float *pre = fused_pre(ctx, op->in0, &pact);
        ec_se_backward_act(dst, g, ec_buf_ptr(ctx, (uint32_t)op->in0), tdata(m, op->t[0]), tdata(m, op->t[2]),
                           ec_buf_ptr(ctx, ec_buf_saved(n, j)), &d,
                           ec_scratch_ptr(ctx, ec_se_backward_scratch_floats(&d)), pre, pact);
        break;
    }
    case ECW_OP_GAP:
        if (!dep0) return;
        dst = grad_dst(ctx, j, op->in0, &acc);
        ec_gap_backward(dst, g, in.h * in.w, in.c);
        break;
    case ECW_OP_ACT:
        if (!dep0) return;
        dst = grad_dst(ctx, j, op->in0, &acc);
        ec_act_backward_rows(dst, g, ec_buf_ptr(ctx, (uint32_t)op->in0), vi->h * vi->w, vi->c, op->act);
        break;
    case ECW_OP_ADD: {
        /* the gradient passes unchanged to both inputs */
        int ins[2] = {op->in0, op->in1};
        for (int q = 0; q < 2; q++) {
            int u = ins[q];
            if (ctx->bufs[ec_buf_grad(n, (uint32_t)u)].bytes == 0) continue;
            float *G = ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)u));
            int first = ctx->bufs[ec_buf_grad(n, (uint32_t)u)].first == ec_bstep(n, j) && !(q == 1 && ins[1] == ins[0]);
            if (first) memcpy(G, g, nout * sizeof(float));
            else add_into(G, g, nout);
        }
        return;
    }
    default: return;
    }
    if (acc) add_into(ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)op->in0)), dst, nin);
}

void ec_backward_seed(effcam_ctx *ctx, int cls, int target) {
    const uint32_t n = ctx->m->L.n_ops, ncls = ctx->m->L.n_classes;
    float *gl = ec_buf_ptr(ctx, ec_buf_grad(n, n));
    memset(gl, 0, ncls * sizeof(float));
    if (target == EFFCAM_TARGET_PROB) {
        float *dp = ec_scratch_ptr(ctx, ncls);
        memset(dp, 0, ncls * sizeof(float));
        dp[cls] = 1.0f;
        ec_softmax_backward(gl, dp, ctx->probs, (int)ncls);
    } else {
        gl[cls] = 1.0f;
    }
}

int ec_backward_runs_op(const effcam_ctx *ctx, uint32_t j) {
    const uint32_t n = ctx->m->L.n_ops;
    return j < n && j >= (uint32_t)ctx->m->taps[ctx->tap].value && ctx->bufs[ec_buf_grad(n, j + 1)].bytes > 0;
}

effcam_status ec_backward(effcam_ctx *ctx, int cls, int target) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops;
    const ec_tap *t = &m->taps[ctx->tap];
    const uint32_t vt = (uint32_t)t->value;
    ec_backward_seed(ctx, cls, target); /* d score / d logits */
    for (uint32_t j = n; j-- > vt;)
        if (ec_backward_runs_op(ctx, j)) ec_backward_op(ctx, j);
    /* from the value to the tap's own space */
    if (t->kind != ECW_TAP_OUTPUT) {
        const ec_op *op = &m->ops[vt - 1];
        const ec_buf *V = &ctx->bufs[vt];
        float *g = ec_buf_ptr(ctx, ec_buf_grad(n, vt));
        float *pre = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_TAP));
        size_t hw = (size_t)V->h * V->w, c = V->c;
        if (t->kind == ECW_TAP_PRE_BN) {
            /* the tap buffer holds (preact - shift) / scale: rebuild preact
             * on the fly for act', then d tap = d preact * scale */
            const float *scale = m->tensors[t->scale_t].data, *shift = m->tensors[t->shift_t].data;
            for (size_t p = 0; p < hw; p++)
                for (size_t k = 0; k < c; k++) {
                    float x = pre[p * c + k] * scale[k] + shift[k];
                    float d1 = 1.0f;
                    if (op->type != ECW_OP_SE && op->type != ECW_OP_GAP && op->act != ECW_ACT_NONE)
                        ec_act_backward(&d1, &d1, &x, 1, op->act);
                    g[p * c + k] *= d1 * scale[k];
                }
        } else if (op->type != ECW_OP_SE && op->type != ECW_OP_GAP && op->act != ECW_ACT_NONE) {
            ec_act_backward_rows(g, g, pre, (int)hw, c, op->act);
        }
    }
    return EFFCAM_OK;
}
