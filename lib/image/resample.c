/* Separable resampling weights in the manner of Pillow's convolution
 * resize: for tensor position t (resized position r = t + off of a resized
 * length S), the centre is (r + 0.5) * n_in / S in source coordinates; the
 * filter's support is scaled by max(1, n_in / S) (antialiasing); the window
 * is [trunc(centre - support + 0.5), trunc(centre + support + 0.5)) clipped
 * to the source, and the weights are normalised to sum to one. NEAREST takes
 * the source pixel floor((r + 0.5) * n_in / S). */
#include <math.h>
#include <string.h>

#include "img_internal.h"

static double f_support(effcam_filter f) {
    switch (f) {
    case EFFCAM_FILTER_BOX: return 0.5;
    case EFFCAM_FILTER_BILINEAR: return 1.0;
    case EFFCAM_FILTER_BICUBIC: return 2.0;
    case EFFCAM_FILTER_LANCZOS: return 3.0;
    default: return 0.5;
    }
}

static double sinc(double x) {
    if (x == 0.0) return 1.0;
    x *= 3.14159265358979323846;
    return sin(x) / x;
}

static double f_eval(effcam_filter f, double x) {
    double ax = fabs(x);
    switch (f) {
    case EFFCAM_FILTER_BOX: return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0;
    case EFFCAM_FILTER_BILINEAR: return ax < 1.0 ? 1.0 - ax : 0.0;
    case EFFCAM_FILTER_BICUBIC: {
        const double a = -0.5;
        if (ax < 1.0) return ((a + 2.0) * ax - (a + 3.0)) * ax * ax + 1.0;
        if (ax < 2.0) return (((ax - 5.0) * ax + 8.0) * ax - 4.0) * a;
        return 0.0;
    }
    case EFFCAM_FILTER_LANCZOS: return ax < 3.0 ? sinc(x) * sinc(x / 3.0) : 0.0;
    default: return 0.0;
    }
}

/* Upper bound of the coefficients for any n_in <= N_in, S <= S_max. */
static size_t coef_bound(int n_out, int n_in, int S, effcam_filter f) {
    (void)S;
    if (f == EFFCAM_FILTER_NEAREST) return (size_t)n_out;
    /* sum over positions of the window: <= n_out * (2 * ceil(sup * max(1, n_in/S)) + 2),
     * and a window never exceeds n_in; S >= 1 positions share n_in. Bound:
     * 2 * sup * n_in + (2 * sup + 3) * n_out. */
    double sup = f_support(f);
    return (size_t)(2.0 * sup * (double)n_in + (2.0 * sup + 3.0) * (double)n_out) + 16;
}

size_t ei_axis_bytes(int n_out, int n_in, int S, effcam_filter f) {
    size_t b = 0;
    b += EI_UP(sizeof(int) * (size_t)n_out) * 3;
    b += EI_UP(sizeof(float) * coef_bound(n_out, n_in, S, f));
    return b;
}

int ei_axis_build(ei_axis *ax, ei_arena *a, int n_out, int n_in, int S, int off,
                  effcam_filter f) {
    memset(ax, 0, sizeof *ax);
    ax->n_out = n_out; ax->n_in = n_in;
    ax->start = ei_arena_alloc(a, sizeof(int) * (size_t)n_out);
    ax->len = ei_arena_alloc(a, sizeof(int) * (size_t)n_out);
    ax->coff = ei_arena_alloc(a, sizeof(int) * (size_t)n_out);
    size_t cap = coef_bound(n_out, n_in, S, f);
    ax->coef = ei_arena_alloc(a, sizeof(float) * cap);
    if (!ax->start || !ax->len || !ax->coff || !ax->coef) return -1;
    double scale = (double)n_in / (double)S;
    double fscale = scale > 1.0 ? scale : 1.0;
    double support = f_support(f) * fscale;
    size_t used = 0;
    ax->first_valid = -1; ax->last_valid = -1;
    for (int t = 0; t < n_out; t++) {
        long r = (long)t + off;
        ax->coff[t] = (int)used;
        if (r < 0 || r >= S) { ax->start[t] = 0; ax->len[t] = 0; continue; }
        if (ax->first_valid < 0) ax->first_valid = t;
        ax->last_valid = t;
        if (f == EFFCAM_FILTER_NEAREST) {
            long x = (long)floor(((double)r + 0.5) * scale);
            if (x >= n_in) x = n_in - 1;
            if (x < 0) x = 0;
            ax->start[t] = (int)x; ax->len[t] = 1;
            ax->coef[used++] = 1.0f;
            continue;
        }
        double center = ((double)r + 0.5) * scale;
        long xmin = (long)(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        long xmax = (long)(center + support + 0.5);
        if (xmax > n_in) xmax = n_in;
        if (xmax <= xmin) { xmin = (long)center; if (xmin >= n_in) xmin = n_in - 1; xmax = xmin + 1; }
        long n = xmax - xmin;
        if (used + (size_t)n > cap) return -2;
        double ss = 1.0 / fscale, sum = 0.0;
        double *tmp = NULL; (void)tmp;
        for (long k = 0; k < n; k++) {
            double w = f_eval(f, ((double)(k + xmin) - center + 0.5) * ss);
            ax->coef[used + (size_t)k] = (float)w;
            sum += w;
        }
        if (sum != 0.0)
            for (long k = 0; k < n; k++) ax->coef[used + (size_t)k] = (float)(ax->coef[used + (size_t)k] / sum);
        ax->start[t] = (int)xmin; ax->len[t] = (int)n;
        if ((int)n > ax->max_len) ax->max_len = (int)n;
        used += (size_t)n;
    }
    /* Largest number of tensor positions a single source position feeds. */
    int ov = 1;
    for (int t = 0, u = 0; t < n_out; t++) {
        if (!ax->len[t]) continue;
        if (u < t) u = t;
        while (u + 1 < n_out && ax->len[u + 1] && ax->start[u + 1] < ax->start[t] + ax->len[t]) u++;
        if (u - t + 1 > ov) ov = u - t + 1;
    }
    ax->ov = ov;
    return 0;
}
