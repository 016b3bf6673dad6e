/* Naive reference convolutions for the kernel tests: direct loops, double
 * accumulation, weights of the dims' wdt (fp16 converted one by one with
 * ec_f16_to_f32, or fp32).
 * Written to be obviously right, not fast. */
#ifndef EFFCAM_REF_CONV_H
#define EFFCAM_REF_CONV_H
#include <stdint.h>

#include "ops/ops.h"

/* out[oy,ox,co] = act(b[co] + sum in[oy*sh - pt + ky, ox*sw - pl + kx, ci] *
 *                                 w[co,ky,kx,ci])
 * Out-of-range input positions count as zero. depthwise != 0: cin == cout,
 * w is [kh,kw,c] and channel c only sees input channel c.
 * preact (optional) receives the value before the activation. */
void ref_conv2d_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b,
                        const ec_conv_dims *d, int depthwise);

/* din[iy,ix,ci] = sum over outputs that read (iy,ix,ci) of
 * dpre[oy,ox,co] * w[...]: the transpose of the forward map. */
void ref_conv2d_backward(float *din, const float *dpre, const void *w,
                         const ec_conv_dims *d, int depthwise);

/* out[i,co] = act(b[co] + sum_ci w[co,ci] * in[i,ci]) */
void ref_pwconv_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b, const ec_pw_dims *d);
/* din[i,ci] = sum_co dpre[i,co] * w[co,ci] */
void ref_pwconv_backward(float *din, const float *dpre, const void *w,
                         const ec_pw_dims *d);

/* TF "same" padding along one axis: output size and the leading pad
 * (pad_total = max((o-1)*s + k - i, 0), leading = pad_total / 2). */
void ref_same_pad(int in, int k, int s, int *out, int *pad_lead);
#endif
