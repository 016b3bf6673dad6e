#define _POSIX_C_SOURCE 200809L
/* The forward engine: one loop over the ops, each reading and writing the
 * buffers the planner placed. No allocation. */
#include <string.h>

#include "internal.h"

#ifdef EFFCAM_PROFILE
/* Developer builds only (-DEFFCAM_PROFILE): seconds spent per op type,
 * accumulated over forward passes (bench/perf_timing.c prints it). */
#include <time.h>
double ec_prof_seconds[16];
double ec_prof_op_seconds[ECW_MAX_OPS];
static double prof_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
#endif

static void track(effcam_ctx *ctx, uint64_t end) {
    if (end > ctx->high_water) ctx->high_water = end;
}

float *ec_buf_ptr(effcam_ctx *ctx, uint32_t b) {
    const ec_buf *bf = &ctx->bufs[b];
    track(ctx, ctx->base_bytes + bf->offset + bf->bytes);
    return (float *)(ctx->act + bf->offset);
}

float *ec_scratch_ptr(effcam_ctx *ctx, size_t floats) {
    if (floats == 0) return NULL;
    track(ctx, ctx->base_bytes + ctx->act_bytes + EC_ALIGN_UP((uint64_t)floats * 4u));
    return ctx->scratch;
}

void ec_value_shape(const effcam_ctx *ctx, int v, ec_shape *s) {
    s->h = ctx->bufs[v].h;
    s->w = ctx->bufs[v].w;
    s->c = (int)ctx->bufs[v].c;
}

static const void *tdata(const effcam_model *m, int t) { return t >= 0 ? m->tensors[t].data : NULL; }

/* Runs op i: value i + 1 <- inputs. preact: where the pre-activation goes
 * (a kept tap), or NULL. */
void ec_run_op(effcam_ctx *ctx, uint32_t i, float *preact, float *se_saved) {
    const effcam_model *m = ctx->m;
    const ec_op *op = &m->ops[i];
    ec_shape in, out;
    ec_value_shape(ctx, op->in0, &in);
    ec_value_shape(ctx, (int)i + 1, &out);
    const float *x = ec_buf_ptr(ctx, (uint32_t)op->in0); /* not read if folded (0 bytes) */
    float *y = ec_buf_ptr(ctx, i + 1);
    size_t n_out = (size_t)out.h * out.w * out.c;
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV: {
        ec_shape o;
        int pt, pl;
        ec_op_geometry(op, &in, &o, &pt, &pl, NULL);
        ec_conv_dims d;
        ec_conv_dims_of(op, &in, &out, pt, pl, &d);
        if (op->type == ECW_OP_CONV2D)
            ec_conv2d_forward(y, x, tdata(m, op->t[0]), tdata(m, op->t[1]), &d,
                              ec_scratch_ptr(ctx, ec_conv2d_scratch_floats(&d)), preact);
        else
            ec_dwconv_forward(y, x, tdata(m, op->t[0]), tdata(m, op->t[1]), &d,
                              ec_scratch_ptr(ctx, ec_dwconv_scratch_floats(&d)), preact);
        break;
    }
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: {
        ec_pw_dims d;
        ec_pw_dims_of(op, &in, &d);
        const float *res = NULL;
        if (ctx->bufs[i + 1].bytes == 0) {
            /* the residual add after it is folded in (plan.c,
             * fold_residual_adds): write the add's output */
            const ec_op *add = &m->ops[i + 1];
            res = ec_buf_ptr(ctx, (uint32_t)(add->in0 == (int)i + 1 ? add->in1 : add->in0));
            y = ec_buf_ptr(ctx, i + 2);
        }
        if (ctx->bufs[op->in0].bytes == 0) {
            /* the SE op before left only its gate (plan.c, fold_se_gates):
             * read the SE's input and fold the gate into the weights */
            const ec_op *se = &m->ops[op->in0 - 1];
            ec_shape sin;
            ec_value_shape(ctx, se->in0, &sin);
            ec_se_dims sd;
            ec_se_dims_of(se, &sin, &sd);
            const float *gate = ec_se_gate_in_scratch(ec_scratch_ptr(ctx, ec_se_scratch_floats(&sd)), &sd);
            ec_gemm_f16_forward_res_isa(y, ec_buf_ptr(ctx, (uint32_t)se->in0), tdata(m, op->t[0]),
                                        tdata(m, op->t[1]), &d, preact, gate, res, -1);
            break;
        }
        if (res) {
            ec_gemm_f16_forward_res_isa(y, x, tdata(m, op->t[0]), tdata(m, op->t[1]), &d, preact, NULL, res, -1);
            break;
        }
        ec_pwconv_forward(y, x, tdata(m, op->t[0]), tdata(m, op->t[1]), &d,
                          ec_scratch_ptr(ctx, ec_pwconv_scratch_floats(&d)), preact);
        break;
    }
    case ECW_OP_SE: {
        ec_se_dims d;
        ec_se_dims_of(op, &in, &d);
        if (ctx->bufs[i + 1].bytes == 0) { /* folded into op i + 1: the gate only */
            ec_se_gate(x, tdata(m, op->t[0]), tdata(m, op->t[1]), tdata(m, op->t[2]), tdata(m, op->t[3]), &d,
                       ec_scratch_ptr(ctx, ec_se_scratch_floats(&d)), se_saved);
            break;
        }
        ec_se_forward(y, x, tdata(m, op->t[0]), tdata(m, op->t[1]), tdata(m, op->t[2]), tdata(m, op->t[3]), &d,
                      ec_scratch_ptr(ctx, ec_se_scratch_floats(&d)), se_saved);
        if (preact) memcpy(preact, y, n_out * sizeof(float));
        break;
    }
    case ECW_OP_ADD:
        if (ctx->bufs[op->in0].bytes == 0 || ctx->bufs[op->in1].bytes == 0) break; /* folded into op i - 1 */
        ec_add_forward(y, x, ec_buf_ptr(ctx, (uint32_t)op->in1), n_out, op->act, preact);
        break;
    case ECW_OP_GAP:
        ec_gap_forward(y, x, in.h * in.w, in.c);
        if (preact) memcpy(preact, y, n_out * sizeof(float));
        break;
    case ECW_OP_ACT:
        memcpy(y, x, n_out * sizeof(float));
        if (preact) memcpy(preact, x, n_out * sizeof(float));
        ec_act_forward(y, n_out, op->act);
        break;
    }
}

effcam_status ec_forward(effcam_ctx *ctx) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops;
    const ec_tap *tap = ctx->tap >= 0 ? &m->taps[ctx->tap] : NULL;
    uint32_t tap_buf = n + 1 + EC_BUF_TAP;
    const int grad = ctx->mode == EFFCAM_MODE_GRADCAM;
    if (grad && !ctx->masked_pass && (ctx->method == EFFCAM_CAM_SCORECAM || ctx->cam_flags)) {
        /* keep the input for the extra passes (masked / flipped), before op
         * 0 runs: value 0's bytes are reused once it has been read */
        const ec_buf *v0 = &ctx->bufs[0];
        memcpy(ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_INPUT0)), ec_buf_ptr(ctx, 0), (size_t)v0->h * v0->w * v0->c * 4u);
    }
    for (uint32_t i = 0; i < n; i++) {
        float *preact = NULL, *se_saved = NULL;
        if (tap && tap->kind != ECW_TAP_OUTPUT && (uint32_t)tap->value == i + 1) preact = ec_buf_ptr(ctx, tap_buf);
        if (grad && ctx->bufs[ec_buf_saved(n, i)].bytes) {
            /* what this op's backward needs (the tap's op never is one) */
            if (m->ops[i].type == ECW_OP_SE) se_saved = ec_buf_ptr(ctx, ec_buf_saved(n, i));
            else preact = ec_buf_ptr(ctx, ec_buf_saved(n, i));
        }
#ifdef EFFCAM_PROFILE
        double t0 = prof_now();
        ec_run_op(ctx, i, preact, se_saved);
        ec_prof_seconds[m->ops[i].type & 15] += prof_now() - t0;
        ec_prof_op_seconds[i] += prof_now() - t0;
#else
        ec_run_op(ctx, i, preact, se_saved);
#endif
        if (tap && tap->kind == ECW_TAP_PRE_BN && (uint32_t)tap->value == i + 1) {
            preact = ec_buf_ptr(ctx, tap_buf);
            /* tap = (preact - shift) / scale, per channel */
            const float *scale = m->tensors[tap->scale_t].data, *shift = m->tensors[tap->shift_t].data;
            const ec_buf *b = &ctx->bufs[tap_buf];
            size_t hw = (size_t)b->h * b->w;
            for (size_t p = 0; p < hw; p++)
                for (uint32_t c = 0; c < b->c; c++) preact[p * b->c + c] = (preact[p * b->c + c] - shift[c]) / scale[c];
        }
    }
    if (ctx->masked_pass) return EFFCAM_OK; /* Score-CAM: results stay those of the predict */
    const float *logits = ec_buf_ptr(ctx, n);
    memcpy(ctx->logits, logits, sizeof(float) * m->L.n_classes);
    ec_softmax_forward(ctx->probs, ctx->logits, (int)m->L.n_classes);
    if (grad && ctx->method == EFFCAM_CAM_SCORECAM) {
        const ec_buf *a = &ctx->bufs[ec_buf_single(n, EC_BUF_ACOPY)];
        memcpy(ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_ACOPY)), ec_tap_activation(ctx), (size_t)a->h * a->w * a->c * 4u);
    }
    ctx->have_result = 1;
    ctx->cam_ready = 0;
    ctx->clobbered = 0;
    return EFFCAM_OK;
}
