/* Pointwise (1x1, stride 1) convolution and dense layers:
 *   y[m, :] = W x[m, :] + b,  W fp16 [cout][cin]
 * The weights are widened once per call into scratch (fp32 [cout][cin]);
 * one GEMM (or GEMV for m == 1) does the rest, then bias + activation. */
#include <string.h>

#include <cblas.h>

#include "ops/ops.h"

size_t ec_pwconv_scratch_floats(const ec_pw_dims *d) {
    return (size_t)d->cout * (size_t)d->cin;
}

size_t ec_pwconv_backward_scratch_floats(const ec_pw_dims *d) {
    return (size_t)d->cout * (size_t)d->cin;
}

void ec_pwconv_forward(float *out, const float *in, const uint16_t *w,
                       const float *b, const ec_pw_dims *d, float *scratch,
                       float *preact) {
    const int m = d->m, cin = d->cin, cout = d->cout;
    if (m <= 0 || cout <= 0) return;
    if (cin <= 0) {
        memset(out, 0, (size_t)m * (size_t)cout * sizeof(float));
    } else {
        float *wf = scratch;
        ec_f16_widen(wf, w, (size_t)cout * (size_t)cin);
        if (m == 1) {
            /* some BLAS builds scale y by beta = 0 as y * 0 (NaN stays NaN) */
            memset(out, 0, (size_t)cout * sizeof(float));
            cblas_sgemv(CblasRowMajor, CblasNoTrans, cout, cin, 1.0f, wf, cin,
                        in, 1, 0.0f, out, 1);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, cout, cin,
                        1.0f, in, cin, wf, cin, 0.0f, out, cout);
        }
    }
    ec_bias_act(out, b, m, cout, d->act, preact);
}

void ec_pwconv_backward(float *din, const float *dpre, const uint16_t *w,
                        const ec_pw_dims *d, float *scratch) {
    const int m = d->m, cin = d->cin, cout = d->cout;
    if (m <= 0 || cin <= 0) return;
    if (cout <= 0) {
        memset(din, 0, (size_t)m * (size_t)cin * sizeof(float));
        return;
    }
    float *wf = scratch;
    ec_f16_widen(wf, w, (size_t)cout * (size_t)cin);
    if (m == 1) {
        memset(din, 0, (size_t)cin * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasTrans, cout, cin, 1.0f, wf, cin,
                    dpre, 1, 0.0f, din, 1);
    } else {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, cin, cout,
                    1.0f, dpre, cout, wf, cin, 0.0f, din, cin);
    }
}
