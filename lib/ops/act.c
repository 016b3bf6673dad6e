/* Activations: forward in place, backward from the pre-activation. */
#include <math.h>

#include "ecw_format.h"
#include "ops/ops.h"

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float relu6(float x) { return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x); }

float ec_act_scalar(int act, float x) {
    switch (act) {
    case ECW_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ECW_ACT_RELU6: return relu6(x);
    case ECW_ACT_SILU: return x * sigm(x);
    case ECW_ACT_SIGMOID: return sigm(x);
    case ECW_ACT_HSWISH: return x * relu6(x + 3.0f) * (1.0f / 6.0f);
    case ECW_ACT_HSIGMOID: return relu6(x + 3.0f) * (1.0f / 6.0f);
    default: return x;
    }
}

/* derivative at the pre-activation x */
static inline float act_grad(int act, float x) {
    switch (act) {
    case ECW_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case ECW_ACT_RELU6: return (x > 0.0f && x < 6.0f) ? 1.0f : 0.0f;
    case ECW_ACT_SILU: { float s = sigm(x); return s * (1.0f + x * (1.0f - s)); }
    case ECW_ACT_SIGMOID: { float s = sigm(x); return s * (1.0f - s); }
    case ECW_ACT_HSWISH:
        if (x <= -3.0f) return 0.0f;
        if (x >= 3.0f) return 1.0f;
        return (2.0f * x + 3.0f) * (1.0f / 6.0f);
    case ECW_ACT_HSIGMOID: return (x > -3.0f && x < 3.0f) ? (1.0f / 6.0f) : 0.0f;
    default: return 1.0f;
    }
}

void ec_act_forward(float *x, size_t n, int act) {
    switch (act) {
    case ECW_ACT_NONE: return;
    case ECW_ACT_RELU: for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f; return;
    case ECW_ACT_RELU6: for (size_t i = 0; i < n; i++) x[i] = relu6(x[i]); return;
    case ECW_ACT_SILU: for (size_t i = 0; i < n; i++) x[i] = x[i] / (1.0f + expf(-x[i])); return;
    case ECW_ACT_SIGMOID: for (size_t i = 0; i < n; i++) x[i] = sigm(x[i]); return;
    default: for (size_t i = 0; i < n; i++) x[i] = ec_act_scalar(act, x[i]); return;
    }
}

void ec_act_backward(float *dx, const float *dy, const float *pre, size_t n, int act) {
    if (act == ECW_ACT_NONE) {
        if (dx != dy) for (size_t i = 0; i < n; i++) dx[i] = dy[i];
        return;
    }
    for (size_t i = 0; i < n; i++) dx[i] = dy[i] * act_grad(act, pre[i]);
}

void ec_bias_act(float *y, const float *b, int M, int N, int act, float *pre) {
    for (int m = 0; m < M; m++) {
        float *row = y + (size_t)m * N;
        if (b) for (int n = 0; n < N; n++) row[n] += b[n];
        if (pre) {
            float *p = pre + (size_t)m * N;
            for (int n = 0; n < N; n++) p[n] = row[n];
        }
        ec_act_forward(row, (size_t)N, act);
    }
}
