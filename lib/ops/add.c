/* Elementwise residual add with a fused activation: out = act(a + b).
 * out may alias a or b. Processed in cache-sized blocks so the preact copy
 * and the activation run on data still in L1. */
#include <string.h>

#include "ops/ops.h"

#define ADD_BLOCK 2048

void ec_add_forward(float *out, const float *a, const float *b, size_t n,
                    int act, float *preact) {
    for (size_t i0 = 0; i0 < n; i0 += ADD_BLOCK) {
        size_t len = n - i0 < ADD_BLOCK ? n - i0 : ADD_BLOCK;
        float *o = out + i0;
        const float *x = a + i0, *y = b + i0;
        for (size_t i = 0; i < len; i++) o[i] = x[i] + y[i];
        if (preact) memcpy(preact + i0, o, len * sizeof(float));
        ec_act_forward(o, len, act);
    }
}
