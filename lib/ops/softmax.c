/* Numerically stable softmax over n logits and its backward.
 * p may alias logits; dlogits may alias dp. */
#include <math.h>

#include "ops/ops.h"

void ec_softmax_forward(float *p, const float *logits, int n) {
    if (n <= 0) return;
    float mx = logits[0];
    for (int i = 1; i < n; i++) mx = logits[i] > mx ? logits[i] : mx;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        p[i] = expf(logits[i] - mx);
        sum += p[i];
    }
    const float inv = (float)(1.0 / sum); /* sum >= 1: the max term is exp(0) */
    for (int i = 0; i < n; i++) p[i] *= inv;
}

/* dlogits_i = p_i * (dp_i - sum_j dp_j p_j) */
void ec_softmax_backward(float *dlogits, const float *dp, const float *p, int n) {
    double dot = 0.0;
    for (int i = 0; i < n; i++) dot += (double)dp[i] * p[i];
    const float d = (float)dot;
    for (int i = 0; i < n; i++) dlogits[i] = p[i] * (dp[i] - d);
}
