/* Grad-CAM entry points: target, backward, the method's combination, and
 * post-processing into caller memory. No allocation. */
#include <math.h>
#include <string.h>

#include "internal.h"

/* A forward pass on whatever is in the input buffer that leaves the
 * prediction's results (logits, probs) alone. */
static void extra_forward(effcam_ctx *ctx) {
    ctx->masked_pass = 1;
    ec_forward(ctx);
    ctx->masked_pass = 0;
}

/* Score-CAM: one masked forward pass per channel (pytorch-grad-cam's
 * definition: mask = min-max normalised upsampled A_k, input * mask, score
 * of the class, weights = softmax(scores)). */
static effcam_status scorecam(effcam_ctx *ctx, int cls, int target, float *scores) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops;
    const ec_buf *ab = &ctx->bufs[ec_buf_single(n, EC_BUF_ACOPY)];
    const float *A = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_ACOPY));
    const float *I0 = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_INPUT0));
    const int H = ctx->h, W = ctx->w, h = ab->h, w = ab->w, k = (int)ab->c;
    for (int ch = 0; ch < k; ch++) {
        ec_cam_scorecam_apply(A, h, w, k, ch, I0, ec_buf_ptr(ctx, 0), H, W, 3);
        extra_forward(ctx);
        const float *lg = ec_buf_ptr(ctx, n);
        if (target == EFFCAM_TARGET_PROB) {
            double mx = lg[0], s = 0;
            for (uint32_t c = 1; c < m->L.n_classes; c++) mx = lg[c] > mx ? lg[c] : mx;
            for (uint32_t c = 0; c < m->L.n_classes; c++) s += exp(lg[c] - mx);
            scores[ch] = (float)(exp(lg[cls] - mx) / s);
        } else {
            scores[ch] = lg[cls];
        }
    }
    return EFFCAM_OK;
}

/* Test-time smoothing: the same explanation on the horizontally flipped
 * input, flipped back and averaged with the first map (R, [h][w]). */
static effcam_status flip_pass(effcam_ctx *ctx, int cls, int target, float *R, int h, int w) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops, ncls = m->L.n_classes;
    float *first = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_NORM));
    memcpy(first, R, sizeof(float) * (size_t)h * w);
    const float *I0 = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_INPUT0));
    float *in = ec_buf_ptr(ctx, 0);
    const int H = ctx->h, W = ctx->w;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) in[((size_t)y * W + x) * 3 + c] = I0[((size_t)y * W + (W - 1 - x)) * 3 + c];
    extra_forward(ctx);
    /* the probability target differentiates this pass's softmax */
    ec_softmax_forward(ctx->probs, ec_buf_ptr(ctx, n), (int)ncls);
    const ec_buf *V = &ctx->bufs[m->taps[ctx->tap].value];
    const int hw = V->h * V->w, k = (int)V->c;
    const float *G = NULL;
    if (ec_method_needs_grad(ctx->method)) {
        effcam_status st = ec_backward(ctx, cls, target);
        if (st) return st;
        G = ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)m->taps[ctx->tap].value));
    }
    ec_cam_combine(ctx->method, ec_tap_activation(ctx), G, hw, k, R, ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_WEIGHTS)),
                   ec_scratch_ptr(ctx, ec_cam_scratch_floats(ctx->method, hw, k)));
    ec_softmax_forward(ctx->probs, ctx->logits, (int)ncls); /* the prediction's probabilities again */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) first[y * w + x] = 0.5f * (first[y * w + x] + R[y * w + (w - 1 - x)]);
    memcpy(R, first, sizeof(float) * (size_t)h * w);
    ctx->clobbered = 1;
    return EFFCAM_OK;
}

effcam_status effcam_gradcam(effcam_ctx *ctx, const effcam_cam_opts *opts, const float **raw, int *height, int *width) {
    if (!ctx) return EFFCAM_E_ARG;
    if (ctx->mode != EFFCAM_MODE_GRADCAM) return EFFCAM_E_MODE;
    if (!ctx->have_result) return EFFCAM_E_STATE;
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops;
    int cls = opts ? opts->class_index : -1;
    int target = opts ? (int)opts->target : EFFCAM_TARGET_LOGIT;
    if (target != EFFCAM_TARGET_LOGIT && target != EFFCAM_TARGET_PROB) return EFFCAM_E_ARG;
    if (cls >= (int)m->L.n_classes) return EFFCAM_E_ARG;
    if (cls < 0) effcam_top_k(ctx, 1, &cls, NULL);
    if (ctx->clobbered) {
        /* an earlier smoothed call left the flipped pass in the buffers:
         * rerun the prediction's forward pass from the kept input */
        const ec_buf *v0 = &ctx->bufs[0];
        memcpy(ec_buf_ptr(ctx, 0), ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_INPUT0)), (size_t)v0->h * v0->w * v0->c * 4u);
        extra_forward(ctx);
        ctx->clobbered = 0;
    }
    const ec_buf *V = &ctx->bufs[m->taps[ctx->tap].value];
    const int hw = V->h * V->w, k = (int)V->c;
    float *R = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_RAW));
    float *Wt = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_WEIGHTS));
    const float *A = ec_tap_activation(ctx), *G = NULL;
    if (ec_method_needs_grad(ctx->method)) {
        effcam_status st = ec_backward(ctx, cls, target);
        if (st) return st;
        G = ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)m->taps[ctx->tap].value));
    } else if (ctx->method == EFFCAM_CAM_SCORECAM) {
        effcam_status st = scorecam(ctx, cls, target, Wt);
        if (st) return st;
        A = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_ACOPY));
        G = Wt; /* the scores */
    }
    ec_cam_combine(ctx->method, A, G, hw, k, R, Wt, ec_scratch_ptr(ctx, ec_cam_scratch_floats(ctx->method, hw, k)));
    if (ctx->cam_flags & EFFCAM_CAM_SMOOTH_FLIP) {
        effcam_status st = flip_pass(ctx, cls, target, R, V->h, V->w);
        if (st) return st;
    }
    ctx->cam_ready = 1;
    ctx->cam_class = cls;
    if (raw) *raw = R;
    if (height) *height = V->h;
    if (width) *width = V->w;
    return EFFCAM_OK;
}

effcam_status effcam_cam_weights(const effcam_ctx *ctx, const float **w, int *channels) {
    if (!ctx || !w) return EFFCAM_E_ARG;
    if (!ctx->cam_ready) return EFFCAM_E_STATE;
    uint32_t n = ctx->m->L.n_ops;
    const ec_buf *b = &ctx->bufs[ec_buf_single(n, EC_BUF_WEIGHTS)];
    *w = (const float *)(ctx->act + b->offset);
    if (channels) *channels = (int)b->c;
    return EFFCAM_OK;
}

effcam_status effcam_cam_render(effcam_ctx *ctx, effcam_cam_post post, float *out, int out_h, int out_w) {
    if (!ctx || !out || out_h < 1 || out_w < 1 || out_h > 1000000 || out_w > 1000000) return EFFCAM_E_ARG;
    if (!ctx->cam_ready) return EFFCAM_E_STATE;
    uint32_t n = ctx->m->L.n_ops;
    const ec_buf *rb = &ctx->bufs[ec_buf_single(n, EC_BUF_RAW)];
    const int h = rb->h, w = rb->w, hw = h * w;
    const float *R = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_RAW));
    float *N = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_NORM));
    (void)hw;
    if (post == EFFCAM_POST_GRADCAM_LIB) ec_cam_post_pytorch(R, h, w, out, out_h, out_w, N);
    else if (post == EFFCAM_POST_DIVMAX) ec_cam_post_divmax(R, h, w, out, out_h, out_w, N);
    else if (post == EFFCAM_POST_RAW) ec_resize_bilinear(R, h, w, out, out_h, out_w);
    else return EFFCAM_E_ARG;
    return EFFCAM_OK;
}
