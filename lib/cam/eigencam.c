/* Eigen-CAM (Bany Muhammad & Yeasin 2020, as in pytorch-grad-cam): project
 * the position-centred activations on their first principal direction.
 *
 * The direction is the dominant eigenvector of the Gram matrix of the
 * centred activations X [hw][k]: X^T X (k x k) when k <= hw, else X X^T
 * (hw x hw) mapped back through X^T. It is found with a fixed, data-
 * independent amount of work (so run time is predictable and the result
 * deterministic): the Gram matrix is squared 8 times (trace-normalised:
 * its eigenvectors are unchanged and the gap grows to ratio^256), 4 power
 * steps run on the result, and 3 more power steps run through X itself to
 * remove the rounding of the squarings. Sign rule: see cam.h.
 *
 * Scratch layout (floats): mu[k] v[k] t[hw] Ga[m*m] Gb[m*m] ya[m] yb[m],
 * m = min(hw, k). */
#include <math.h>
#include <string.h>

#include "cam/cam.h"

#define EC_EIGEN_SQUARINGS 8
#define EC_EIGEN_POWER 4
#define EC_EIGEN_REFINE 3

static size_t eig_m(int hw, int k) { return (size_t)(hw < k ? hw : k); }

size_t ec_cam_eigencam_scratch_floats(int hw, int k) {
    if (hw < 1 || k < 1) return 0;
    size_t m = eig_m(hw, k);
    return 2 * (size_t)k + (size_t)hw + 2 * m * m + 2 * m;
}

/* Normalises x[n] in place; returns its norm before (0 if not finite). */
static double normalise(float *x, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    double nrm = sqrt(s);
    if (!(nrm > 0.0) || !isfinite(nrm)) return 0.0;
    for (size_t i = 0; i < n; i++) x[i] = (float)(x[i] / nrm);
    return nrm;
}

static double trace(const float *G, size_t m) {
    double t = 0.0;
    for (size_t i = 0; i < m; i++) t += G[i * m + i];
    return t;
}

static void zero_out(float *raw, float *v_out, int hw, int k) {
    memset(raw, 0, (size_t)hw * sizeof(float));
    if (v_out) memset(v_out, 0, (size_t)k * sizeof(float));
}

void ec_cam_eigencam(const float *A, int hw, int k, float *raw, float *v_out,
                     float *scratch) {
    if (!A || !raw || !scratch || hw < 1 || k < 1) return;
    const size_t K = (size_t)k, HW = (size_t)hw, m = eig_m(hw, k);
    float *mu = scratch, *v = mu + K, *t = v + K, *Ga = t + HW;
    float *Gb = Ga + m * m, *ya = Gb + m * m, *yb = ya + m;

    for (size_t c = 0; c < K; c++) {
        double s = 0.0;
        for (size_t p = 0; p < HW; p++) s += A[p * K + c];
        mu[c] = (float)(s / (double)HW);
    }

    /* Gram matrix of X = A - mu. */
    if (K <= HW) {
        for (size_t i = 0; i < K; i++)
            for (size_t j = i; j < K; j++) {
                double s = 0.0;
                for (size_t p = 0; p < HW; p++)
                    s += ((double)A[p * K + i] - mu[i]) * ((double)A[p * K + j] - mu[j]);
                Ga[i * m + j] = Ga[j * m + i] = (float)s;
            }
    } else {
        for (size_t p = 0; p < HW; p++)
            for (size_t q = p; q < HW; q++) {
                double s = 0.0;
                for (size_t c = 0; c < K; c++)
                    s += ((double)A[p * K + c] - mu[c]) * ((double)A[q * K + c] - mu[c]);
                Ga[p * m + q] = Ga[q * m + p] = (float)s;
            }
    }
    double tr = trace(Ga, m);
    if (!(tr > 0.0) || !isfinite(tr)) { zero_out(raw, v_out, hw, k); return; }
    for (size_t i = 0; i < m * m; i++) Ga[i] = (float)(Ga[i] / tr);

    /* Repeated squaring: Ga <- Ga^2 / trace(Ga^2). */
    for (int s = 0; s < EC_EIGEN_SQUARINGS; s++) {
        for (size_t i = 0; i < m; i++)
            for (size_t j = i; j < m; j++) {
                double d = 0.0;
                for (size_t l = 0; l < m; l++) d += (double)Ga[i * m + l] * Ga[j * m + l];
                Gb[i * m + j] = Gb[j * m + i] = (float)d;
            }
        double t2 = trace(Gb, m);
        if (!(t2 > 0.0) || !isfinite(t2)) break;
        for (size_t i = 0; i < m * m; i++) Gb[i] = (float)(Gb[i] / t2);
        float *tmp = Ga; Ga = Gb; Gb = tmp;
    }

    /* Start from the column with the largest diagonal entry: it has a
     * non-zero component along the dominant eigenvector. */
    size_t jmax = 0;
    for (size_t i = 1; i < m; i++)
        if (Ga[i * m + i] > Ga[jmax * m + jmax]) jmax = i;
    for (size_t i = 0; i < m; i++) ya[i] = Ga[i * m + jmax];
    if (normalise(ya, m) == 0.0) { zero_out(raw, v_out, hw, k); return; }
    for (int it = 0; it < EC_EIGEN_POWER; it++) {
        for (size_t i = 0; i < m; i++) {
            double d = 0.0;
            for (size_t l = 0; l < m; l++) d += (double)Ga[i * m + l] * ya[l];
            yb[i] = (float)d;
        }
        if (normalise(yb, m) == 0.0) break;
        float *tmp = ya; ya = yb; yb = tmp;
    }

    /* Channel-space direction v. */
    if (K <= HW) {
        memcpy(v, ya, K * sizeof(float));
    } else {
        for (size_t c = 0; c < K; c++) {
            double d = 0.0;
            for (size_t p = 0; p < HW; p++) d += ((double)A[p * K + c] - mu[c]) * ya[p];
            v[c] = (float)d;
        }
        if (normalise(v, K) == 0.0) { zero_out(raw, v_out, hw, k); return; }
    }

    /* Refinement through X: v <- X^T (X v), normalised. */
    for (int it = 0; it < EC_EIGEN_REFINE; it++) {
        for (size_t p = 0; p < HW; p++) {
            double d = 0.0;
            for (size_t c = 0; c < K; c++) d += ((double)A[p * K + c] - mu[c]) * v[c];
            t[p] = (float)d;
        }
        for (size_t c = 0; c < K; c++) {
            double d = 0.0;
            for (size_t p = 0; p < HW; p++) d += ((double)A[p * K + c] - mu[c]) * t[p];
            v[c] = (float)d;
        }
        if (normalise(v, K) == 0.0) { zero_out(raw, v_out, hw, k); return; }
    }

    /* Sign rule. */
    double dot = 0.0;
    for (size_t c = 0; c < K; c++) dot += (double)v[c] * mu[c];
    int flip = dot < 0.0;
    if (dot == 0.0) {
        size_t imax = 0;
        for (size_t c = 1; c < K; c++)
            if (fabsf(v[c]) > fabsf(v[imax])) imax = c;
        flip = v[imax] < 0.0f;
    }
    if (flip)
        for (size_t c = 0; c < K; c++) v[c] = -v[c];

    for (size_t p = 0; p < HW; p++) {
        double d = 0.0;
        for (size_t c = 0; c < K; c++) d += ((double)A[p * K + c] - mu[c]) * v[c];
        raw[p] = (float)d;
    }
    if (v_out) memcpy(v_out, v, K * sizeof(float));
}
