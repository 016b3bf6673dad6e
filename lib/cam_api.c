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

/* Test-time smoothing. Each extra pass explains a transformed copy of the
 * input (same size, so the same plan): mirrored (FLIP) and/or zoomed about
 * the centre by a factor s (SCALE: s = 0.9 and 1.1; s > 1 enlarges the
 * content, s < 1 shrinks it with the border replicated). A transform maps an
 * original point p (normalised, 0..1) to q = 0.5 + (p - 0.5) s, then
 * mirrored (qx -> 1 - qx). Its map is brought back by sampling it at q
 * (bilinear, half-pixel centres) and the maps are averaged over the passes
 * in which q lies inside the image (a zoomed-in view loses the borders). */
static const float k_smooth_scales[3] = {1.0f, 0.9f, 1.1f};

static void smooth_pass_params(unsigned flags, int pass, int *flip, float *scale) {
    int nscale = (flags & EFFCAM_CAM_SMOOTH_SCALE) ? 3 : 1;
    *flip = pass / nscale;
    *scale = k_smooth_scales[pass % nscale];
}

static int smooth_passes(unsigned flags) {
    return ((flags & EFFCAM_CAM_SMOOTH_FLIP) ? 2 : 1) * ((flags & EFFCAM_CAM_SMOOTH_SCALE) ? 3 : 1);
}

/* Bilinear sample of src [h][w][c] at (sy, sx) in pixel units (centres at
 * integers), clamped to the edges. */
static void sample_hwc(const float *src, int h, int w, int c, float sy, float sx, float *out) {
    if (sy < 0) sy = 0;
    if (sx < 0) sx = 0;
    if (sy > h - 1) sy = (float)(h - 1);
    if (sx > w - 1) sx = (float)(w - 1);
    int y0 = (int)sy, x0 = (int)sx;
    int y1 = y0 + 1 < h ? y0 + 1 : y0, x1 = x0 + 1 < w ? x0 + 1 : x0;
    float fy = sy - (float)y0, fx = sx - (float)x0;
    for (int k = 0; k < c; k++) {
        float a = src[((size_t)y0 * w + x0) * c + k], b = src[((size_t)y0 * w + x1) * c + k];
        float d = src[((size_t)y1 * w + x0) * c + k], e = src[((size_t)y1 * w + x1) * c + k];
        out[k] = (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * d + fx * e);
    }
}

/* Where original point p (normalised) is seen in a pass's view. */
static float view_coord(float p, float scale) { return 0.5f + (p - 0.5f) * scale; }

/* The transformed input of one pass, from the kept input I0 [H][W][3]. */
static void smooth_input(float *in, const float *I0, int H, int W, int flip, float scale) {
    for (int y = 0; y < H; y++) {
        float sy = (0.5f + ((y + 0.5f) / (float)H - 0.5f) / scale) * (float)H - 0.5f;
        for (int x = 0; x < W; x++) {
            int xs = flip ? W - 1 - x : x;
            float sx = (0.5f + ((xs + 0.5f) / (float)W - 0.5f) / scale) * (float)W - 0.5f;
            sample_hwc(I0, H, W, 3, sy, sx, in + ((size_t)y * W + x) * 3);
        }
    }
}

/* One pass's map M [h][w] brought back to the original frame, added to acc
 * where the point is in view; returns nothing, the counts are recomputed. */
static int in_view(int i, int n, float scale) {
    float q = view_coord((i + 0.5f) / (float)n, scale);
    return q >= 0.f && q <= 1.f;
}

static void smooth_accumulate(float *acc, const float *M, int h, int w, int flip, float scale) {
    for (int y = 0; y < h; y++) {
        if (!in_view(y, h, scale)) continue;
        float sy = view_coord((y + 0.5f) / (float)h, scale) * (float)h - 0.5f;
        for (int x = 0; x < w; x++) {
            if (!in_view(x, w, scale)) continue;
            float qx = view_coord((x + 0.5f) / (float)w, scale);
            if (flip) qx = 1.f - qx;
            float v;
            sample_hwc(M, h, w, 1, sy, qx * (float)w - 0.5f, &v);
            acc[y * w + x] += v;
        }
    }
}

/* The extra passes: R [h][w] holds the plain map on entry and the average
 * on return. The accumulator is the NORM buffer (planned for this). */
static effcam_status smooth(effcam_ctx *ctx, int cls, int target, float *R, int h, int w) {
    const effcam_model *m = ctx->m;
    const uint32_t n = m->L.n_ops, ncls = m->L.n_classes;
    float *acc = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_NORM));
    memcpy(acc, R, sizeof(float) * (size_t)h * w);
    const float *I0 = ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_INPUT0));
    const int H = ctx->h, W = ctx->w, np = smooth_passes(ctx->cam_flags);
    const ec_buf *V = &ctx->bufs[m->taps[ctx->tap].value];
    const int hw = V->h * V->w, k = (int)V->c;
    for (int pass = 1; pass < np; pass++) {
        int flip;
        float scale;
        smooth_pass_params(ctx->cam_flags, pass, &flip, &scale);
        smooth_input(ec_buf_ptr(ctx, 0), I0, H, W, flip, scale);
        extra_forward(ctx);
        /* the probability target differentiates this pass's softmax */
        ec_softmax_forward(ctx->probs, ec_buf_ptr(ctx, n), (int)ncls);
        const float *G = NULL;
        if (ec_method_needs_grad(ctx->method)) {
            effcam_status st = ec_backward(ctx, cls, target);
            if (st) return st;
            G = ec_buf_ptr(ctx, ec_buf_grad(n, (uint32_t)m->taps[ctx->tap].value));
        }
        ec_cam_combine(ctx->method, ec_tap_activation(ctx), G, hw, k, R,
                       ec_buf_ptr(ctx, ec_buf_single(n, EC_BUF_WEIGHTS)),
                       ec_scratch_ptr(ctx, ec_cam_scratch_floats(ctx->method, hw, k)));
        smooth_accumulate(acc, R, h, w, flip, scale);
        ctx->clobbered = 1;
    }
    ec_softmax_forward(ctx->probs, ctx->logits, (int)ncls); /* the prediction's probabilities again */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int cnt = 0;
            for (int pass = 0; pass < np; pass++) {
                int flip;
                float scale;
                smooth_pass_params(ctx->cam_flags, pass, &flip, &scale);
                cnt += in_view(y, h, scale) && in_view(x, w, scale);
            }
            R[y * w + x] = acc[y * w + x] / (float)cnt; /* the plain pass always counts */
        }
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
    if (ctx->cam_flags) {
        effcam_status st = smooth(ctx, cls, target, R, V->h, V->w);
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
