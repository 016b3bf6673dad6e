/* The Grad-CAM family: pure math on the activations A and gradients G of
 * the explained layer, plus post-processing and bilinear resizing.
 *
 * Conventions (as lib/ops/ops.h)
 *   - A, G are NHWC, batch 1, flattened to [hw][k]: A[p * k + c], channel
 *     innermost. hw >= 1, k >= 1.
 *   - maps are single-channel row-major [h][w].
 *   - nothing here allocates, prints or aborts: every temporary lives in
 *     caller `scratch`, whose exact size comes from the matching
 *     *_scratch_floats() function (the planner calls the same function).
 *   - sums over positions / channels are accumulated in double.
 *   - `method` is an effcam_cam_method (include/effcam.h).
 *
 * Definitions (follow pytorch-grad-cam; "raw" is the map before any ReLU or
 * normalisation):
 *   GRADCAM   w_c = mean_p G[p,c];                 raw_p = sum_c w_c A[p,c]
 *   GRADCAMPP a[p,c] = G^2 / (2 G^2 + S_c G^3 + 1e-6), S_c = sum_p A[p,c],
 *             a = 0 where G == 0;  w_c = sum_p a[p,c] relu(G[p,c]);
 *             raw_p = sum_c w_c A[p,c]
 *   XGRADCAM  w_c = sum_p G[p,c] A[p,c] / (S_c + 1e-7); raw as above
 *   HIRESCAM  raw_p = sum_c G[p,c] A[p,c]          (no channel weights)
 *   LAYERCAM  raw_p = sum_c relu(G[p,c]) A[p,c]    (no channel weights)
 *   EIGENCAM  X = A - mean_p A (centred over positions); v = first right
 *             singular vector of X (unit, k); raw = X v. The sign of v is
 *             fixed by THE SIGN RULE below. G is not used (may be NULL).
 *   SCORECAM  G is NOT a gradient: it holds the k per-channel target scores
 *             s_c the engine measured with masked inputs (see
 *             ec_cam_scorecam_apply); w = softmax(s); raw_p = sum_c w_c A[p,c]
 *
 * Eigen-CAM sign rule. An SVD vector's sign is arbitrary and raw = X v sums
 * to zero (X is centred), so the map's sum cannot choose it. We choose v so
 * that  sum_c v_c * mean_p A[p,c] > 0  (the principal direction points
 * along the mean activation: with mostly-positive activations the salient
 * region is positive). If that dot product is exactly 0, the component of v
 * with the largest magnitude (lowest index on ties) is made positive. If X
 * is all zero (hw == 1, or every channel constant over space), raw = 0 and
 * v = 0. v is found by power iteration on the min(k, hw)-sized Gram matrix
 * (8 repeated squarings, 4 power steps, then 3 refinement steps through X);
 * a (numerically) repeated top singular value makes v ill-defined here as in
 * any SVD.
 */
#ifndef EFFCAM_CAM_H
#define EFFCAM_CAM_H

#include <stddef.h>

#include "effcam.h"

/* ---- combine (cam_combine.c) ------------------------------------------ */
/* Exact scratch floats ec_cam_combine() uses for this method and shape
 * (0 for an unknown method). */
size_t ec_cam_scratch_floats(int method, int hw, int k);
/* raw [hw] <- A [hw][k], G [hw][k] (SCORECAM: G = scores [k]; EIGENCAM: G
 * unused). weights_out [k] (optional): the channel weights w (EIGENCAM: v;
 * HIRESCAM / LAYERCAM, which weight each position separately: zeros).
 * An unknown method writes zeros to raw. */
void ec_cam_combine(int method, const float *A, const float *G, int hw, int k,
                    float *raw, float *weights_out, float *scratch);

/* The methods one by one (the same math, for callers that know theirs). */
void ec_cam_gradcam_weights(const float *G, int hw, int k, float *w);
void ec_cam_gradcampp_weights(const float *A, const float *G, int hw, int k,
                              float *w);
void ec_cam_xgradcam_weights(const float *A, const float *G, int hw, int k,
                             float *w);
void ec_cam_softmax_weights(const float *scores, int k, float *w);
/* raw_p = sum_c w_c A[p,c] */
void ec_cam_weighted_sum(const float *A, const float *w, int hw, int k,
                         float *raw);
void ec_cam_hirescam(const float *A, const float *G, int hw, int k, float *raw);
void ec_cam_layercam(const float *A, const float *G, int hw, int k, float *raw);
size_t ec_cam_eigencam_scratch_floats(int hw, int k);
/* v_out [k] optional */
void ec_cam_eigencam(const float *A, int hw, int k, float *raw, float *v_out,
                     float *scratch);

/* ---- Score-CAM masks (scorecam.c) --------------------------------------
 * The mask of channel ch is A[:, :, ch] upsampled to H x W with bilinear
 * align_corners=True (pytorch-grad-cam uses nn.UpsamplingBilinear2d), then
 * (m - min) / (max - min + 1e-8) over the H x W mask. Computed on the fly:
 * no scratch. A is [h][w][k]. */
void ec_cam_scorecam_mask(const float *A, int h, int w, int k, int ch,
                          float *mask, int H, int W);
/* out [H][W][C] = in [H][W][C] * mask(ch) — the masked input for one
 * forward pass, written straight into the engine's input buffer (out may
 * equal in). */
void ec_cam_scorecam_apply(const float *A, int h, int w, int k, int ch,
                           const float *in, float *out, int H, int W, int C);

/* ---- post-processing (cam_post.c) ------------------------------------- */
void ec_cam_relu(float *x, size_t n);
/* pytorch-grad-cam's scale_cam_image: x = (x - min) / (max - min + 1e-7).
 * Guard: a constant map (max == min) becomes all 0 (no NaN). */
void ec_cam_minmax(float *x, size_t n);
/* Our users' recipe: x = relu(x) / max(relu(x)). Guard: if the max is not
 * > 0 (all values <= 0) the map becomes all 0. */
void ec_cam_divmax(float *x, size_t n);
/* Scratch of both pipelines: h * w floats. */
size_t ec_cam_post_scratch_floats(int h, int w);
/* pytorch-grad-cam exactly: ReLU, min-max, bilinear (half-pixel) resize to
 * H x W, min-max again. out [H][W] <- raw [h][w] (raw is not modified). */
void ec_cam_post_pytorch(const float *raw, int h, int w, float *out, int H,
                         int W, float *scratch);
/* Our users' recipe: ReLU, divide by the max at feature resolution, then
 * bilinear (half-pixel) resize to H x W. */
void ec_cam_post_divmax(const float *raw, int h, int w, float *out, int H,
                        int W, float *scratch);

/* ---- bilinear resize (resize.c), single channel, no antialias ----------
 * Half-pixel centres (align_corners=False): src = (dst + 0.5) * sh / dh - 0.5,
 * clamped at 0 and at the last sample. Equals torch F.interpolate(
 * mode='bilinear', align_corners=False) and, for upsampling, cv2.resize
 * INTER_LINEAR. dst must not overlap src. */
void ec_resize_bilinear(const float *src, int sh, int sw, float *dst, int dh,
                        int dw);
/* align_corners=True: src = dst * (sh - 1) / (dh - 1) (0 when dh == 1). */
void ec_resize_bilinear_ac(const float *src, int sh, int sw, float *dst,
                           int dh, int dw);
/* General form: src element (y, x) at src[(y * sw + x) * sstride], dst
 * element (y, x) at dst[(y * dw + x) * dstride]. */
void ec_resize_bilinear_strided(const float *src, int sh, int sw,
                                size_t sstride, float *dst, int dh, int dw,
                                size_t dstride, int align_corners);
/* One output pixel of the above (what the Score-CAM masks use). */
typedef struct ec_lerp_axis {
    int i0, i1;
    float l; /* weight of i1 */
} ec_lerp_axis;
ec_lerp_axis ec_resize_axis(int src_size, int dst_size, int d,
                            int align_corners);

#endif
