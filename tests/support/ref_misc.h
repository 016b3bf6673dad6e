/* Naive reference kernels (tests only): direct loops, double accumulation,
 * weights of the dims' wdt (fp16 through ec_f16_to_f32, or fp32),
 * activations evaluated in double. */
#ifndef EFFCAM_REF_MISC_H
#define EFFCAM_REF_MISC_H
#include <stddef.h>
#include <stdint.h>

#include "ops/ops.h"

/* act(x) in double, enum ecw_act. */
double ref_misc_act(int act, double x);

/* out / preact [oh, ow, c] (preact may be NULL); w [kh][kw][c] (d->wdt); b may be NULL */
void ref_dwconv_forward(float *out, float *preact, const float *in,
                        const void *w, const float *b, const ec_conv_dims *d);
/* saved (may be NULL): s[c] | zpre[cmid] | gpre[c] | g[c] */
void ref_se_forward(float *out, float *saved, const float *in,
                    const void *w1, const float *b1, const void *w2,
                    const float *b2, const ec_se_dims *d);
void ref_gap_forward(float *out, const float *in, int hw, int c);
void ref_softmax_forward(float *p, const float *logits, int n);
void ref_add_forward(float *out, float *preact, const float *a, const float *b,
                     size_t n, int act);
#endif
