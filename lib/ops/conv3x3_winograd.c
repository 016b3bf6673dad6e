/* Winograd F(4x4, 3x3) for dense 3x3 stride-1 convolutions (NHWC, fp16
 * weights [cout][3][3][cin]), forward and backward-data.
 *
 * Math (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016): a 4x4 output tile of the correlation of a 6x6 input tile d with a
 * 3x3 kernel g is
 *     Y = A^T [ (G g G^T) (.) (B^T d B) ] A
 * with the interpolation points 0, +-1, +-2, +-1/2 (the matrices are written
 * out in bt6 / at6 / g3 below). Per tile and channel: 36 multiplies for 16
 * outputs instead of 144. The channel sums of the 36 elementwise products
 * are 36 independent GEMMs
 *     M_xi [tiles x OC] = V_xi [tiles x IC] * U_xi [IC x OC],  xi = 0..35.
 * They run through our own register-blocked kernel (6 tiles x 16 or 32
 * output channels; AVX-512 / AVX2+FMA / portable C picked at run time) on
 * weights transformed once per call straight into the kernel's packed
 * layout: OpenBLAS sgemm re-packs U on every call, and with the few tiles
 * a bounded task holds that packing cost as much as the multiplies
 * (measured: sgemm_incopy 21% vs sgemm_kernel 30% of the time).
 *
 * The same core serves the backward: the gradient w.r.t. the input of a
 * stride-1 3x3 conv is a 3x3 stride-1 correlation of dpre with the
 * spatially flipped kernel, channels swapped (IC = cout, OC = cin), padding
 * 2 - pt / 2 - pl, output h x w.
 *
 * Work: output tiles (4x4, row-major over the tile grid) are processed in
 * groups of `tpt` tiles (a multiple of 6). The grid is cut into one band of
 * whole groups per thread (at most WINO_SLOTS bands); band k runs its groups
 * one after the other through slot k of the scratch: input transform -> V;
 * then per block of 32 output channels: 36 GEMMs into a small M block and
 * the output transform of those channels; then bias + activation. Only the transformed weights are shared (read-only). tpt and
 * the slot count depend only on the shape (never on the thread count), so
 * the scratch size is exact and the same for the planner and the kernel.
 *
 * Scratch (floats): [U: 36 * IC * OCp][zero: IC][slots x slot], OCp = OC
 * rounded up to 16, U packed [xi][OC / 16][IC][16];
 * slot = V 36 * tpt * IC + M 36 * tpt * 32 + tmp, tmp = max(36 * IC,
 * 28 * 32) (input transform: 36 vectors of IC; output transform: 24 vectors
 * of a 32-channel block + 4 junk vectors for the outputs of a border tile
 * that fall outside). The weight transform borrows the slots before the
 * tiles use them: forward 16 * 9 * cin + 27 * 16 floats per task, backward
 * 63 * cin; both fit, as a slot holds at least 36 * 6 * (IC + 32) floats.
 *
 * Precision: the F(4,3) transforms multiply and cancel values up to 8x, so
 * the fp32 rounding error is ~10x that of a direct dot product (measured
 * in tests/test_op_winograd.c: rel L2 ~1e-6). */
#include <string.h>

#include "ops/ops.h"
#include "pool.h"

#ifndef WINO_SLOTS
#define WINO_SLOTS 4 /* tasks per section */
#endif
#ifndef WINO_TASK_BYTES
#define WINO_TASK_BYTES (128u * 1024u) /* V + M bytes per task: sets the tiles per task
                                         (was 384 KiB: same single-thread min time, 1 MB
                                         less scratch for v2_s@300) */
#endif
#define WINO_RB 6     /* tiles per GEMM register block */
#define WINO_CB 32    /* output channels per block (two packs of 16) */
#define WINO_MAX_TPT 96

typedef struct wino_geom {
    int IC, OC, OCp, OH, OW;
    int tiles_x, tiles;
    int tpt, nslots;
    size_t tmp, slot; /* floats */
} wino_geom;

static void wino_geom_of(int IC, int OC, int OH, int OW, wino_geom *g) {
    g->IC = IC;
    g->OC = OC;
    g->OCp = (OC + 15) / 16 * 16;
    g->OH = OH;
    g->OW = OW;
    g->tiles_x = (OW + 3) / 4;
    g->tiles = g->tiles_x * ((OH + 3) / 4);
    size_t per_tile = 36u * (size_t)(IC + WINO_CB) * sizeof(float);
    size_t tpt = WINO_TASK_BYTES / per_tile;
    if (tpt > WINO_MAX_TPT) tpt = WINO_MAX_TPT;
    size_t need = ((size_t)g->tiles + WINO_RB - 1) / WINO_RB * WINO_RB;
    if (tpt > need) tpt = need;
    tpt = tpt / WINO_RB * WINO_RB;
    if (tpt < WINO_RB) tpt = WINO_RB;
    g->tpt = (int)tpt;
    int tasks = (g->tiles + g->tpt - 1) / g->tpt;
    g->nslots = tasks < WINO_SLOTS ? tasks : WINO_SLOTS;
    size_t a = 36u * (size_t)IC, b = 28u * WINO_CB;
    g->tmp = a > b ? a : b;
    g->slot = 36u * (size_t)g->tpt * (size_t)(IC + WINO_CB) + g->tmp;
}

/* U (unless precomputed at load: pre), the zero row, the slots */
static size_t wino_scratch(const wino_geom *g, int pre) {
    return (pre ? 0 : 36u * (size_t)g->IC * (size_t)g->OCp) + (size_t)g->IC + (size_t)g->nslots * g->slot;
}

size_t ec_conv3x3_wino_u_floats(int cin, int cout) { return 36u * (size_t)cin * (size_t)((cout + 15) / 16 * 16); }

int ec_conv2d_winograd_ok(const ec_conv_dims *d) {
    /* fp16 weights (transformed from fp16 per call); fp32 ones take im2col */
    return d->wdt != EC_WDT_F32 && d->kh == 3 && d->kw == 3 && d->sh == 1 && d->sw == 1 && d->cin >= EC_WINO_MIN_C &&
           d->cout >= EC_WINO_MIN_C && d->oh >= 1 && d->ow >= 1 && d->h >= 1 && d->w >= 1;
}

size_t ec_conv3x3_wino_scratch_floats(const ec_conv_dims *d) {
    wino_geom g;
    wino_geom_of(d->cin, d->cout, d->oh, d->ow, &g);
    return wino_scratch(&g, d->wino_pre);
}

size_t ec_conv3x3_wino_backward_scratch_floats(const ec_conv_dims *d) {
    wino_geom g;
    wino_geom_of(d->cout, d->cin, d->h, d->w, &g);
    return wino_scratch(&g, 0);
}

/* ---- transforms (generic over channels; compiled per ISA) -------------- */
#define R __restrict

/* B^T applied to 6 vectors d0..d5 -> o0..o5 (n channels). */
static inline __attribute__((always_inline)) void bt6(float *R o0, float *R o1, float *R o2, float *R o3,
                                                      float *R o4, float *R o5, const float *d0, const float *d1,
                                                      const float *d2, const float *d3, const float *d4,
                                                      const float *d5, int n) {
    for (int c = 0; c < n; c++) {
        float a0 = d0[c], a1 = d1[c], a2 = d2[c], a3 = d3[c], a4 = d4[c], a5 = d5[c];
        float p = a4 - 4.0f * a2, q = a3 - 4.0f * a1; /* rows 1, 2 */
        float r = a4 - a2, s = 2.0f * (a3 - a1);      /* rows 3, 4 */
        o0[c] = 4.0f * a0 - 5.0f * a2 + a4;
        o1[c] = p + q;
        o2[c] = p - q;
        o3[c] = r + s;
        o4[c] = r - s;
        o5[c] = 4.0f * a1 - 5.0f * a3 + a5;
    }
}

/* A^T applied to 6 vectors m0..m5 -> o0..o3. */
static inline __attribute__((always_inline)) void at6(float *R o0, float *R o1, float *R o2, float *R o3,
                                                      const float *m0, const float *m1, const float *m2,
                                                      const float *m3, const float *m4, const float *m5, int n) {
    for (int c = 0; c < n; c++) {
        float a1 = m1[c], a2 = m2[c], a3 = m3[c], a4 = m4[c];
        float s12 = a1 + a2, d12 = a1 - a2, s34 = a3 + a4, d34 = a3 - a4;
        o0[c] = m0[c] + s12 + s34;
        o1[c] = d12 + 2.0f * d34;
        o2[c] = s12 + 4.0f * s34;
        o3[c] = d12 + 8.0f * d34 + m5[c];
    }
}

/* G applied to 3 vectors g0..g2 -> o0..o5. */
static inline __attribute__((always_inline)) void g3(float *R o0, float *R o1, float *R o2, float *R o3,
                                                     float *R o4, float *R o5, const float *g0, const float *g1,
                                                     const float *g2, int n) {
    for (int c = 0; c < n; c++) {
        float a0 = g0[c], a1 = g1[c], a2 = g2[c];
        float e = a0 + a2;
        o0[c] = 0.25f * a0;
        o1[c] = (-1.0f / 6.0f) * (e + a1);
        o2[c] = (-1.0f / 6.0f) * (e - a1);
        float f = (1.0f / 24.0f) * a0 + (1.0f / 6.0f) * a2, h = (1.0f / 12.0f) * a1;
        o3[c] = f + h;
        o4[c] = f - h;
        o5[c] = a2;
    }
}

/* One input tile: 36 input pixel pointers (row-major 6x6; the zero vector
 * outside the image) -> V[xi * vstride], IC channels. tmp: 36 * IC. */
static inline __attribute__((always_inline)) void in_tile(float *V, size_t vstride, const float *const *p,
                                                          float *tmp, int IC) {
    const size_t n = (size_t)IC;
    for (int j = 0; j < 6; j++) /* columns: t[r][j] = sum_k B^T[r][k] d[k][j] */
        bt6(tmp + (0 * 6 + j) * n, tmp + (1 * 6 + j) * n, tmp + (2 * 6 + j) * n, tmp + (3 * 6 + j) * n,
            tmp + (4 * 6 + j) * n, tmp + (5 * 6 + j) * n, p[0 * 6 + j], p[1 * 6 + j], p[2 * 6 + j],
            p[3 * 6 + j], p[4 * 6 + j], p[5 * 6 + j], IC);
    for (int r = 0; r < 6; r++) { /* rows: V[r][k] = sum_j t[r][j] B[j][k] */
        const float *t = tmp + (size_t)r * 6 * n;
        float *v = V + (size_t)r * 6 * vstride;
        bt6(v, v + vstride, v + 2 * vstride, v + 3 * vstride, v + 4 * vstride, v + 5 * vstride, t, t + n,
            t + 2 * n, t + 3 * n, t + 4 * n, t + 5 * n, IC);
    }
}

/* One output tile: M[xi * mstride] (OC channels) -> 4x4 output vectors at
 * o[r * 4 + s]. tmp: 24 * OC. */
static inline __attribute__((always_inline)) void out_tile(float *const *o, const float *M, size_t mstride,
                                                           float *tmp, int OC) {
    const size_t n = (size_t)OC;
    for (int j = 0; j < 6; j++)
        at6(tmp + (0 * 6 + j) * n, tmp + (1 * 6 + j) * n, tmp + (2 * 6 + j) * n, tmp + (3 * 6 + j) * n,
            M + (size_t)(0 * 6 + j) * mstride, M + (size_t)(1 * 6 + j) * mstride, M + (size_t)(2 * 6 + j) * mstride,
            M + (size_t)(3 * 6 + j) * mstride, M + (size_t)(4 * 6 + j) * mstride, M + (size_t)(5 * 6 + j) * mstride,
            OC);
    for (int r = 0; r < 4; r++) {
        const float *t = tmp + (size_t)r * 6 * n;
        at6(o[r * 4 + 0], o[r * 4 + 1], o[r * 4 + 2], o[r * 4 + 3], t, t + n, t + 2 * n, t + 3 * n, t + 4 * n,
            t + 5 * n, OC);
    }
}

/* One kernel (cin channels, widened, [3][3][cin]) -> 36 vectors at
 * u[xi * ustride]; flip: the kernel rotated by 180 degrees. tmp: 18 * cin. */
static inline __attribute__((always_inline)) void w_tile(float *u, size_t ustride, const float *g, int flip,
                                                         float *tmp, int cin) {
    const size_t n = (size_t)cin;
    const float *k[9];
    for (int i = 0; i < 9; i++) k[i] = g + (size_t)(flip ? 8 - i : i) * n;
    for (int j = 0; j < 3; j++) /* s[i][j] = sum_k G[i][k] g[k][j] */
        g3(tmp + (0 * 3 + j) * n, tmp + (1 * 3 + j) * n, tmp + (2 * 3 + j) * n, tmp + (3 * 3 + j) * n,
           tmp + (4 * 3 + j) * n, tmp + (5 * 3 + j) * n, k[0 * 3 + j], k[1 * 3 + j], k[2 * 3 + j], cin);
    for (int i = 0; i < 6; i++) {
        const float *s = tmp + (size_t)i * 3 * n;
        float *v = u + (size_t)i * 6 * ustride;
        g3(v, v + ustride, v + 2 * ustride, v + 3 * ustride, v + 4 * ustride, v + 5 * ustride, s, s + n, s + 2 * n,
           cin);
    }
}

/* ---- GEMM blocks ---------------------------------------------------------
 * Mc [rows][WINO_CB] (first npk * 16 columns) = V [rows][IC] * Up, Up: npk
 * consecutive packs [IC][16] (pack stride IC * 16). rows: a multiple of 6. */
static inline __attribute__((always_inline)) void gemm_generic(float *Mc, const float *V, const float *Up, int rows,
                                                               int IC, int npk) {
    for (int r = 0; r < rows; r++)
        for (int p = 0; p < npk; p++) {
            float acc[16] = {0};
            const float *v = V + (size_t)r * IC, *u = Up + (size_t)p * IC * 16;
            for (int c = 0; c < IC; c++)
                for (int k = 0; k < 16; k++) acc[k] += v[c] * u[(size_t)c * 16 + k];
            memcpy(Mc + (size_t)r * WINO_CB + p * 16, acc, sizeof acc);
        }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

__attribute__((target("avx2,fma"))) static void gemm_avx2(float *Mc, const float *V, const float *Up, int rows,
                                                          int IC, int npk) {
    for (int p = 0; p < npk; p++) {
        const float *u0 = Up + (size_t)p * IC * 16;
        for (int r = 0; r < rows; r += WINO_RB) {
            const float *v = V + (size_t)r * IC;
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
            __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
            for (int c = 0; c < IC; c++) {
                const __m256 x = _mm256_loadu_ps(u0 + (size_t)c * 16), y = _mm256_loadu_ps(u0 + (size_t)c * 16 + 8);
                __m256 b;
                b = _mm256_broadcast_ss(v + c);
                a00 = _mm256_fmadd_ps(b, x, a00); a01 = _mm256_fmadd_ps(b, y, a01);
                b = _mm256_broadcast_ss(v + IC + c);
                a10 = _mm256_fmadd_ps(b, x, a10); a11 = _mm256_fmadd_ps(b, y, a11);
                b = _mm256_broadcast_ss(v + 2 * IC + c);
                a20 = _mm256_fmadd_ps(b, x, a20); a21 = _mm256_fmadd_ps(b, y, a21);
                b = _mm256_broadcast_ss(v + 3 * IC + c);
                a30 = _mm256_fmadd_ps(b, x, a30); a31 = _mm256_fmadd_ps(b, y, a31);
                b = _mm256_broadcast_ss(v + 4 * IC + c);
                a40 = _mm256_fmadd_ps(b, x, a40); a41 = _mm256_fmadd_ps(b, y, a41);
                b = _mm256_broadcast_ss(v + 5 * IC + c);
                a50 = _mm256_fmadd_ps(b, x, a50); a51 = _mm256_fmadd_ps(b, y, a51);
            }
            float *m = Mc + (size_t)r * WINO_CB + p * 16;
            _mm256_storeu_ps(m, a00); _mm256_storeu_ps(m + 8, a01); m += WINO_CB;
            _mm256_storeu_ps(m, a10); _mm256_storeu_ps(m + 8, a11); m += WINO_CB;
            _mm256_storeu_ps(m, a20); _mm256_storeu_ps(m + 8, a21); m += WINO_CB;
            _mm256_storeu_ps(m, a30); _mm256_storeu_ps(m + 8, a31); m += WINO_CB;
            _mm256_storeu_ps(m, a40); _mm256_storeu_ps(m + 8, a41); m += WINO_CB;
            _mm256_storeu_ps(m, a50); _mm256_storeu_ps(m + 8, a51);
        }
    }
}

__attribute__((target("avx512f"))) static void gemm_avx512(float *Mc, const float *V, const float *Up, int rows,
                                                           int IC, int npk) {
    if (npk == 1) {
        for (int r = 0; r < rows; r += WINO_RB) {
            const float *v = V + (size_t)r * IC;
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
            for (int c = 0; c < IC; c++) {
                const __m512 x = _mm512_loadu_ps(Up + (size_t)c * 16);
                a0 = _mm512_fmadd_ps(_mm512_set1_ps(v[c]), x, a0);
                a1 = _mm512_fmadd_ps(_mm512_set1_ps(v[IC + c]), x, a1);
                a2 = _mm512_fmadd_ps(_mm512_set1_ps(v[2 * IC + c]), x, a2);
                a3 = _mm512_fmadd_ps(_mm512_set1_ps(v[3 * IC + c]), x, a3);
                a4 = _mm512_fmadd_ps(_mm512_set1_ps(v[4 * IC + c]), x, a4);
                a5 = _mm512_fmadd_ps(_mm512_set1_ps(v[5 * IC + c]), x, a5);
            }
            float *m = Mc + (size_t)r * WINO_CB;
            _mm512_storeu_ps(m, a0); _mm512_storeu_ps(m + WINO_CB, a1); _mm512_storeu_ps(m + 2 * WINO_CB, a2);
            _mm512_storeu_ps(m + 3 * WINO_CB, a3); _mm512_storeu_ps(m + 4 * WINO_CB, a4);
            _mm512_storeu_ps(m + 5 * WINO_CB, a5);
        }
        return;
    }
    const float *u1 = Up + (size_t)IC * 16;
    for (int r = 0; r < rows; r += WINO_RB) {
        const float *v = V + (size_t)r * IC;
        __m512 a00 = _mm512_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
        __m512 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
        for (int c = 0; c < IC; c++) {
            const __m512 x = _mm512_loadu_ps(Up + (size_t)c * 16), y = _mm512_loadu_ps(u1 + (size_t)c * 16);
            __m512 b;
            b = _mm512_set1_ps(v[c]);
            a00 = _mm512_fmadd_ps(b, x, a00); a01 = _mm512_fmadd_ps(b, y, a01);
            b = _mm512_set1_ps(v[IC + c]);
            a10 = _mm512_fmadd_ps(b, x, a10); a11 = _mm512_fmadd_ps(b, y, a11);
            b = _mm512_set1_ps(v[2 * IC + c]);
            a20 = _mm512_fmadd_ps(b, x, a20); a21 = _mm512_fmadd_ps(b, y, a21);
            b = _mm512_set1_ps(v[3 * IC + c]);
            a30 = _mm512_fmadd_ps(b, x, a30); a31 = _mm512_fmadd_ps(b, y, a31);
            b = _mm512_set1_ps(v[4 * IC + c]);
            a40 = _mm512_fmadd_ps(b, x, a40); a41 = _mm512_fmadd_ps(b, y, a41);
            b = _mm512_set1_ps(v[5 * IC + c]);
            a50 = _mm512_fmadd_ps(b, x, a50); a51 = _mm512_fmadd_ps(b, y, a51);
        }
        float *m = Mc + (size_t)r * WINO_CB;
        _mm512_storeu_ps(m, a00); _mm512_storeu_ps(m + 16, a01); m += WINO_CB;
        _mm512_storeu_ps(m, a10); _mm512_storeu_ps(m + 16, a11); m += WINO_CB;
        _mm512_storeu_ps(m, a20); _mm512_storeu_ps(m + 16, a21); m += WINO_CB;
        _mm512_storeu_ps(m, a30); _mm512_storeu_ps(m + 16, a31); m += WINO_CB;
        _mm512_storeu_ps(m, a40); _mm512_storeu_ps(m + 16, a41); m += WINO_CB;
        _mm512_storeu_ps(m, a50); _mm512_storeu_ps(m + 16, a51);
    }
}
#endif

#define WINO_DEFINE(SFX, ATTR)                                                                                   \
    ATTR static void in_tile_##SFX(float *V, size_t vs, const float *const *p, float *tmp, int IC) {             \
        in_tile(V, vs, p, tmp, IC);                                                                              \
    }                                                                                                            \
    ATTR static void out_tile_##SFX(float *const *o, const float *M, size_t ms, float *tmp, int OC) {            \
        out_tile(o, M, ms, tmp, OC);                                                                             \
    }                                                                                                            \
    ATTR static void w_tile_##SFX(float *u, size_t us, const float *g, int flip, float *tmp, int cin) {          \
        w_tile(u, us, g, flip, tmp, cin);                                                                        \
    }

WINO_DEFINE(base, )
static void gemm_base(float *Mc, const float *V, const float *Up, int rows, int IC, int npk) {
    gemm_generic(Mc, V, Up, rows, IC, npk);
}
#if defined(__x86_64__) && defined(__GNUC__)
WINO_DEFINE(avx2, __attribute__((target("avx2,fma"))))
WINO_DEFINE(avx512, __attribute__((target("avx512f"))))
#endif

typedef void (*in_fn)(float *, size_t, const float *const *, float *, int);
typedef void (*out_fn)(float *const *, const float *, size_t, float *, int);
typedef void (*w_fn)(float *, size_t, const float *, int, float *, int);
typedef void (*gemm_fn)(float *, const float *, const float *, int, int, int);

/* ---- driver ------------------------------------------------------------- */
typedef struct wino_job {
    wino_geom g;
    const float *in;   /* [H][W][IC] */
    float *out;        /* [OH][OW][OC] */
    float *preact;     /* optional, like out */
    const float *bias; /* [OC] or NULL */
    int H, W, pt, pl, act;
    float *U, *zero, *slots;
    int nbands;        /* tasks of the tile pass: one band of tiles each */
    /* weight transform: w [wcout][3][3][wcin]; fwd: OC = wcout, IC = wcin */
    const uint16_t *w;
    int wcout, wcin, flip;
    in_fn fin;
    out_fn fout;
    w_fn fw;
    gemm_fn fgemm;
    int own; /* ec_gemm_ok(): gemm.c's kernel instead of fgemm */
    int pre; /* U precomputed at load (forward): no weight transform */
} wino_job;

/* U[xi][o / 16][i][o % 16] (o: output channel of the Winograd conv, i: input).
 * Forward: one task per pack of 16 output channels, the transform
 * vectorised over the pack's 16 lanes for one input channel at a time, so
 * each of its 36 results is one whole [16]-float row of U (a cache line):
 * transforming along ci and scattering into the packs instead wrote every
 * float to a different line and cost a third of the conv (perf, 38x38x64
 * -> 256). Backward: along ci per kernel, whose rows of 16 are contiguous
 * in U already. */
static void wino_weights_task(void *arg, int t, int thread) {
    (void)thread;
    wino_job *j = arg;
    const int cin = j->wcin, IC = j->g.IC, OCp = j->g.OCp;
    const size_t xs = (size_t)IC * (size_t)OCp, kc = 9u * (size_t)cin;
    float *slot = j->slots + (size_t)t * j->g.slot;
    int lo, hi;
    if (!j->flip) { /* o = co, i = ci */
        float *wf = slot;            /* [16][9][cin] the pack's kernels, widened */
        float *g = wf + 16u * kc;    /* [9][16] one input channel of them */
        float *tmp = g + 9u * 16u;   /* [18][16] */
        ec_split((j->wcout + 15) / 16, j->g.nslots, t, 1, &lo, &hi);
        for (int p = lo; p < hi; p++) {
            const int nco = j->wcout - p * 16 < 16 ? j->wcout - p * 16 : 16;
            ec_f16_widen(wf, j->w + (size_t)p * 16u * kc, (size_t)nco * kc);
            memset(g, 0, 9u * 16u * sizeof(float)); /* lanes >= nco stay 0: U's padding columns */
            for (int ci = 0; ci < cin; ci++) {
                for (int k = 0; k < 9; k++)
                    for (int l = 0; l < nco; l++) g[k * 16 + l] = wf[(size_t)l * kc + (size_t)k * (size_t)cin + (size_t)ci];
                j->fw(j->U + (size_t)p * IC * 16 + (size_t)ci * 16, xs, g, 0, tmp, 16);
            }
        }
        return;
    }
    float *gw = slot;                     /* 9 * cin widened */
    float *u36 = gw + kc;                 /* 36 * cin transformed */
    float *tmp = u36 + 36u * (size_t)cin; /* 18 * cin */
    ec_split(j->wcout, j->g.nslots, t, 1, &lo, &hi);
    for (int co = lo; co < hi; co++) { /* o = ci, i = co */
        ec_f16_widen(gw, j->w + (size_t)co * kc, kc);
        j->fw(u36, (size_t)cin, gw, 1, tmp, cin);
        float *dst = j->U + (size_t)co * 16;
        for (int xi = 0; xi < 36; xi++)
            for (int ci = 0; ci < cin; ci++)
                dst[xi * xs + (size_t)(ci / 16) * IC * 16 + (size_t)(ci % 16)] = u36[(size_t)xi * cin + ci];
    }
}

/* Tiles [t0, t0 + tpt) (clipped) through slot `slot`. */
static void tiles_run(const wino_job *j, int slot, int t0) {
    const wino_geom *g = &j->g;
    int t1 = t0 + g->tpt;
    if (t1 > g->tiles) t1 = g->tiles;
    const int n = t1 - t0;
    if (n <= 0) return;
    const int rows = (n + WINO_RB - 1) / WINO_RB * WINO_RB; /* GEMM rows; the padding tiles read zeros */
    const int IC = g->IC, OC = g->OC;
    float *V = j->slots + (size_t)slot * g->slot;
    float *M = V + 36u * (size_t)g->tpt * (size_t)IC;
    float *tmp = M + 36u * (size_t)g->tpt * WINO_CB;
    const size_t vs = (size_t)rows * (size_t)IC, ms = (size_t)rows * WINO_CB;

    /* input transform */
    const float *p[36];
    for (int i = 0; i < rows; i++) {
        const int tile = t0 + i, ty = tile / g->tiles_x, tx = tile % g->tiles_x;
        const int iy0 = ty * 4 - j->pt, ix0 = tx * 4 - j->pl;
        for (int r = 0; r < 6; r++) {
            const int iy = iy0 + r;
            for (int c = 0; c < 6; c++) {
                const int ix = ix0 + c;
                p[r * 6 + c] = (i < n && iy >= 0 && iy < j->H && ix >= 0 && ix < j->W)
                                   ? j->in + ((size_t)iy * (size_t)j->W + (size_t)ix) * (size_t)IC
                                   : j->zero;
            }
        }
        j->fin(V + (size_t)i * IC, vs, p, tmp, IC);
    }
    /* per block of 32 output channels: 36 GEMMs, then the output transform */
    const size_t xs = (size_t)IC * (size_t)g->OCp;
    float *junk = tmp + 24u * WINO_CB;
    float *o[16];
    for (int cb = 0; cb < OC; cb += WINO_CB) {
        const int nch = OC - cb < WINO_CB ? OC - cb : WINO_CB;
        const int npk = (nch + 15) / 16;
        const float *Up = j->U + (size_t)(cb / 16) * IC * 16;
        if (j->own) /* gemm.c's 12 x 32 block: U_xi is already in its panel layout */
            for (int xi = 0; xi < 36; xi++)
                ec_gemm_packed(V + (size_t)xi * vs, (size_t)IC, Up + xi * xs, IC, M + (size_t)xi * ms, WINO_CB, rows, 0,
                               nch);
        else
            for (int xi = 0; xi < 36; xi++)
                j->fgemm(M + (size_t)xi * ms, V + (size_t)xi * vs, Up + xi * xs, rows, IC, npk);
        for (int i = 0; i < n; i++) {
            const int tile = t0 + i, ty = tile / g->tiles_x, tx = tile % g->tiles_x;
            const int oy0 = ty * 4, ox0 = tx * 4;
            const int nr = g->OH - oy0 < 4 ? g->OH - oy0 : 4, nc = g->OW - ox0 < 4 ? g->OW - ox0 : 4;
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 4; c++)
                    o[r * 4 + c] = (r < nr && c < nc) ? j->out + ((size_t)(oy0 + r) * (size_t)g->OW + (size_t)(ox0 + c)) *
                                                                     (size_t)OC + (size_t)cb
                                                      : junk + (size_t)c * WINO_CB; /* distinct per column */
            j->fout(o, M + (size_t)i * WINO_CB, ms, tmp, nch);
        }
    }
    /* bias + activation on the task's tiles, row by row */
    if (j->bias || j->preact || j->act)
        for (int i = 0; i < n; i++) {
            const int tile = t0 + i, ty = tile / g->tiles_x, tx = tile % g->tiles_x;
            const int oy0 = ty * 4, ox0 = tx * 4;
            const int nr = g->OH - oy0 < 4 ? g->OH - oy0 : 4, nc = g->OW - ox0 < 4 ? g->OW - ox0 : 4;
            for (int r = 0; r < nr; r++) {
                const size_t off = ((size_t)(oy0 + r) * (size_t)g->OW + (size_t)ox0) * (size_t)OC;
                ec_bias_act(j->out + off, j->bias, nc, OC, j->act, j->preact ? j->preact + off : NULL);
            }
        }
}

/* Task k: a contiguous band of the tile grid (whole groups of tpt tiles, in
 * row-major tile order: a band of output rows) through slot k. One band per
 * thread (ec_row_tasks), so a thread reads the input rows it wrote in the op
 * before and the conv needs one barrier, not one per section of slots. */
static void wino_band_task(void *arg, int k, int thread) {
    (void)thread;
    const wino_job *j = arg;
    int lo, hi;
    ec_split(j->g.tiles, j->nbands, k, j->g.tpt, &lo, &hi);
    for (int t0 = lo; t0 < hi; t0 += j->g.tpt) tiles_run(j, k, t0);
}

static void wino_run(wino_job *j, int fwd_cout, int fwd_cin, int isa) {
    if (isa < 0 || isa > ec_isa_max()) isa = ec_isa_max();
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa >= EC_ISA_AVX512) {
        j->fin = in_tile_avx512; j->fout = out_tile_avx512; j->fw = w_tile_avx512; j->fgemm = gemm_avx512;
    } else if (isa >= EC_ISA_AVX2) {
        j->fin = in_tile_avx2; j->fout = out_tile_avx2; j->fw = w_tile_avx2; j->fgemm = gemm_avx2;
    } else
#endif
    {
        (void)isa;
        j->fin = in_tile_base; j->fout = out_tile_base; j->fw = w_tile_base; j->fgemm = gemm_base;
    }
    j->own = isa >= EC_ISA_AVX512 && ec_gemm_ok();
    j->wcout = fwd_cout;
    j->wcin = fwd_cin;
    memset(j->zero, 0, (size_t)j->g.IC * sizeof(float));
    if (j->flip && j->g.OCp != j->g.OC) /* the padding columns of the last pack (forward: written) */
        memset(j->U, 0, 36u * (size_t)j->g.IC * (size_t)j->g.OCp * sizeof(float));
    if (!j->pre) ec_parallel_for(j->g.nslots, wino_weights_task, j);
    const int groups = (j->g.tiles + j->g.tpt - 1) / j->g.tpt;
    j->nbands = ec_row_tasks(groups < j->g.nslots ? groups : j->g.nslots);
    ec_parallel_for(j->nbands, wino_band_task, j);
}

void ec_conv3x3_wino_forward(float *out, const float *in, const uint16_t *w, const float *b,
                             const ec_conv_dims *d, float *scratch, float *preact) {
    ec_conv3x3_wino_forward_isa(out, in, w, b, d, scratch, preact, -1);
}

void ec_conv3x3_wino_backward(float *din, const float *dpre, const uint16_t *w, const ec_conv_dims *d,
                              float *scratch) {
    ec_conv3x3_wino_backward_isa(din, dpre, w, d, scratch, -1);
}

void ec_conv3x3_wino_forward_isa(float *out, const float *in, const uint16_t *w, const float *b,
                                 const ec_conv_dims *d, float *scratch, float *preact, int isa) {
    wino_job j;
    memset(&j, 0, sizeof j);
    wino_geom_of(d->cin, d->cout, d->oh, d->ow, &j.g);
    j.in = in;
    j.out = out;
    j.preact = preact;
    j.bias = b;
    j.H = d->h;
    j.W = d->w;
    j.pt = d->pt;
    j.pl = d->pl;
    j.act = d->act;
    j.pre = d->wino_pre && d->wino_u;
    j.U = j.pre ? (float *)d->wino_u : scratch; /* read only when pre */
    j.zero = j.pre ? scratch : scratch + 36u * (size_t)j.g.IC * (size_t)j.g.OCp;
    j.slots = j.zero + j.g.IC;
    j.w = w;
    j.flip = 0;
    wino_run(&j, d->cout, d->cin, isa);
}

/* The forward's U, once (at load): the same transform as
 * wino_weights_task's forward branch, one input channel of a pack of 16
 * output channels at a time, the kernels read from fp16 (exact). */
void ec_conv3x3_wino_pack_u(float *U, const uint16_t *w, int cin, int cout) {
    w_fn fw = w_tile_base;
#if defined(__x86_64__) && defined(__GNUC__)
    if (ec_isa_max() >= EC_ISA_AVX512) fw = w_tile_avx512;
    else if (ec_isa_max() >= EC_ISA_AVX2) fw = w_tile_avx2;
#endif
    const int OCp = (cout + 15) / 16 * 16;
    const size_t xs = (size_t)cin * (size_t)OCp, kc = 9u * (size_t)cin;
    _Alignas(64) float g[9 * 16], tmp[18 * 16];
    for (int p = 0; p < OCp / 16; p++) {
        const int nco = cout - p * 16 < 16 ? cout - p * 16 : 16;
        for (int ci = 0; ci < cin; ci++) {
            for (int k = 0; k < 9; k++)
                for (int l = 0; l < 16; l++)
                    g[k * 16 + l] = l < nco ? ec_f16_to_f32(w[(size_t)(p * 16 + l) * kc + (size_t)k * (size_t)cin + (size_t)ci])
                                            : 0.0f;
            fw(U + (size_t)p * (size_t)cin * 16 + (size_t)ci * 16, xs, g, 0, tmp, 16);
        }
    }
}

void ec_conv3x3_wino_backward_isa(float *din, const float *dpre, const uint16_t *w, const ec_conv_dims *d,
                                  float *scratch, int isa) {
    wino_job j;
    memset(&j, 0, sizeof j);
    wino_geom_of(d->cout, d->cin, d->h, d->w, &j.g);
    j.in = dpre;
    j.out = din;
    j.H = d->oh;
    j.W = d->ow;
    j.pt = 2 - d->pt;
    j.pl = 2 - d->pl;
    j.act = 0;
    j.U = scratch;
    j.zero = scratch + 36u * (size_t)j.g.IC * (size_t)j.g.OCp;
    j.slots = j.zero + j.g.IC;
    j.w = w;
    j.flip = 1;
    wino_run(&j, d->cout, d->cin, isa);
}
