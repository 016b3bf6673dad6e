/* Pointwise GEMM on fp16 weights without a widened copy in scratch:
 *   out[m, n] = act(sum_k in[m, k] * w[n, k] + b[n]),  w fp16 [N][K]
 *
 * Goto-style blocking, one level:
 *   - a block of the weights (columns [c0, c1) x k-range [kb, kb + kc)) is
 *     widened with F16C and transposed in registers into a packed buffer ON
 *     THE STACK (GF_BUF_FLOATS floats, 48 KiB): panels of `width` columns
 *     (2 vectors, or 1 for a narrow tail), each [kc][width]. The arena's
 *     scratch is not used, so the plan of a pointwise op that takes this
 *     path has no scratch;
 *   - register-blocked micro-kernel: up to MRMAX rows x 2 vectors of
 *     accumulators (AVX-512: 12 x 32 floats, AVX2+FMA: 6 x 16), one
 *     broadcast of in[m, k] per row and k;
 *   - the bias + activation epilogue runs on each row tile as soon as its
 *     last k-block is done (still in L1), writing the pre-activation too.
 * Threads: one band of output rows per thread where there are at least
 * GF_MIN_ROWS_PER_TASK rows per thread (a thread then reads the rows it
 * wrote in the op before); otherwise blocks of whole column panels.
 *
 * ISA paths chosen at run time (CPUID via __builtin_cpu_supports plus the
 * F16C / OS-state check); no path (not x86-64, or no AVX2+FMA+F16C):
 * ec_gemm_f16_isa_max() returns EC_ISA_SCALAR and pwconv keeps its
 * widen + sgemm path. */
#include <string.h>

#include "ecw_format.h"
#include "ops/ops.h"
#include "pool.h"

#define GF_BUF_FLOATS 12288 /* packed weight block, on the stack (48 KiB) */
#define GF_MRMAX 12
#ifndef GF_KC
#define GF_KC 192 /* k-block (96..384 measured: 192 best by ~3%, within noise) */
#endif
#ifndef GF_MIN_ROWS_PER_TASK
#define GF_MIN_ROWS_PER_TASK 48 /* rows per thread before the rows are split */
#endif

typedef void (*gf_pack_fn)(float *buf, const uint16_t *w, size_t ldw, int n0, int ncols, int k0, int kc,
                           int width, const float *ks, int nrows);
typedef void (*gf_micro_fn)(const float *a, size_t lda, const float *bp, int kc, float *c, size_t ldc, int acc);

typedef struct gf_isa {
    int vl;    /* floats per vector */
    int mrmax; /* rows per micro tile, at most */
    gf_pack_fn pack;    /* w [N][K] (forward): widened and transposed */
    gf_pack_fn pack_kn; /* w [K][N] (backward-data): widened only */
    gf_micro_fn micro[2][GF_MRMAX + 1]; /* [vectors - 1][rows] */
} gf_isa;

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>

static int os_f16c_avx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 29)) || !(c & (1u << 28)) || !(c & (1u << 27))) return 0; /* F16C, AVX, OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & 6u) == 6u;
}

static int detect(void) {
    __builtin_cpu_init();
    if (!os_f16c_avx()) return EC_ISA_SCALAR;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        return EC_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return EC_ISA_AVX2;
    return EC_ISA_SCALAR;
}

/* ---- AVX-512: 16 lanes, panels of 16 / 32 columns, up to 12 rows ------ */
#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,f16c,fma")))

/* r[i] = row i (16 floats) -> r[j] = column j */
static inline __attribute__((always_inline)) T512 void tr16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int a = 0; a < 8; a++) {
        t[2 * a] = _mm512_unpacklo_ps(r[2 * a], r[2 * a + 1]);
        t[2 * a + 1] = _mm512_unpackhi_ps(r[2 * a], r[2 * a + 1]);
    }
    /* u[4b + c], 128-bit lane L: column 4L + c of rows 4b .. 4b + 3 */
    for (int b = 0; b < 4; b++) {
        u[4 * b + 0] = _mm512_shuffle_ps(t[4 * b], t[4 * b + 2], 0x44);
        u[4 * b + 1] = _mm512_shuffle_ps(t[4 * b], t[4 * b + 2], 0xEE);
        u[4 * b + 2] = _mm512_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0x44);
        u[4 * b + 3] = _mm512_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 w0 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88),
               w1 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(v0, w0, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(v0, w0, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(v1, w1, 0xDD);
    }
}

/* buf[k * width + j] = w[n0 + j, k0 + k] (* ks[k0 + k] if ks) for j < ncols,
 * 0 for ncols <= j < width */
static T512 void pack512(float *buf, const uint16_t *w, size_t ldw, int n0, int ncols, int k0, int kc, int width,
                         const float *ks, int nrows) {
    for (int jb = 0; jb < width; jb += 16) {
        int nr = ncols - jb;
        nr = nr < 0 ? 0 : nr > 16 ? 16 : nr;
        /* the next panel's rows (same k range): the weights come from DRAM
         * once per predict, as 32 short row pieces per panel, too many
         * streams for the hardware prefetcher */
        const int pf0 = n0 + width + jb, pf1 = pf0 + 16 < nrows ? pf0 + 16 : nrows;
        for (int kb = 0; kb < kc; kb += 16) {
            if ((kb & 31) == 0)
                for (int rr = pf0; rr < pf1; rr++) _mm_prefetch((const char *)(w + (size_t)rr * ldw + (size_t)(k0 + kb)), _MM_HINT_T0);
            const int kk = kc - kb < 16 ? kc - kb : 16;
            const __mmask16 km = (__mmask16)(kk == 16 ? 0xFFFFu : (1u << kk) - 1u);
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = i < nr ? _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(
                                    km, w + (size_t)(n0 + jb + i) * ldw + (size_t)(k0 + kb)))
                              : _mm512_setzero_ps();
            tr16(r);
            if (ks)
                for (int i = 0; i < kk; i++) r[i] = _mm512_mul_ps(r[i], _mm512_set1_ps(ks[k0 + kb + i]));
            for (int i = 0; i < kk; i++) _mm512_store_ps(buf + (size_t)(kb + i) * width + jb, r[i]);
        }
    }
}

/* buf[k * width + j] = w[k0 + k, n0 + j] for j < ncols, 0 for ncols <= j <
 * width (w fp16 [K][N], ldw = N): rows of 16 halves, no transpose. The next
 * panel's pieces of the same rows are prefetched (nrows: N). */
static T512 void pack512_kn(float *buf, const uint16_t *w, size_t ldw, int n0, int ncols, int k0, int kc, int width,
                            const float *ks, int nrows) {
    (void)ks;
    const int pf = n0 + width < nrows;
    for (int jb = 0; jb < width; jb += 16) {
        int nr = ncols - jb;
        nr = nr < 0 ? 0 : nr > 16 ? 16 : nr;
        const __mmask16 cm = (__mmask16)(nr == 16 ? 0xFFFFu : (1u << nr) - 1u);
        for (int k = 0; k < kc; k++) {
            const uint16_t *src = w + (size_t)(k0 + k) * ldw + (size_t)(n0 + jb);
            if (pf && jb == 0) _mm_prefetch((const char *)(src + width), _MM_HINT_T0);
            _mm512_store_ps(buf + (size_t)k * width + jb, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(cm, src)));
        }
    }
}

/* Accumulators as named variables (GCC keeps an array of vectors in memory
 * here); rows >= R compile away since R is a constant in every instance. */
#define GF_ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define GF_ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)

static inline __attribute__((always_inline)) T512 void micro512(const int R, const int NV, const float *a,
                                                                 size_t lda, const float *bp, int kc, float *c,
                                                                 size_t ldc, int acc) {
#define DECL(i) __m512 x##i = _mm512_setzero_ps(), y##i = _mm512_setzero_ps();
    GF_ROWS12(DECL)
#undef DECL
#define INIT(i)                                                          \
    if (R > i && acc) {                                                  \
        x##i = _mm512_loadu_ps(c + i * ldc);                             \
        if (NV == 2) y##i = _mm512_loadu_ps(c + i * ldc + 16);           \
    }
    GF_ROWS12(INIT)
#undef INIT
    const int wd = NV * 16;
    const float *ak = a;
    for (int k = 0; k < kc; k++, ak++) {
        const __m512 b0 = _mm512_load_ps(bp + (size_t)k * wd);
        const __m512 b1 = NV == 2 ? _mm512_load_ps(bp + (size_t)k * wd + 16) : b0;
#define STEP(i)                                                          \
    if (R > i) {                                                         \
        const __m512 av = _mm512_set1_ps(ak[i * lda]);                   \
        x##i = _mm512_fmadd_ps(av, b0, x##i);                            \
        if (NV == 2) y##i = _mm512_fmadd_ps(av, b1, y##i);               \
    }
        GF_ROWS12(STEP)
#undef STEP
    }
#define STORE(i)                                                         \
    if (R > i) {                                                         \
        _mm512_storeu_ps(c + i * ldc, x##i);                             \
        if (NV == 2) _mm512_storeu_ps(c + i * ldc + 16, y##i);           \
    }
    GF_ROWS12(STORE)
#undef STORE
}

#define GF_DEF512(R)                                                                                            \
    static T512 void m512_##R##_1(const float *a, size_t lda, const float *bp, int kc, float *c, size_t ldc,   \
                                  int acc) {                                                                    \
        micro512(R, 1, a, lda, bp, kc, c, ldc, acc);                                                            \
    }                                                                                                           \
    static T512 void m512_##R##_2(const float *a, size_t lda, const float *bp, int kc, float *c, size_t ldc,   \
                                  int acc) {                                                                    \
        micro512(R, 2, a, lda, bp, kc, c, ldc, acc);                                                            \
    }
GF_DEF512(1) GF_DEF512(2) GF_DEF512(3) GF_DEF512(4) GF_DEF512(5) GF_DEF512(6)
GF_DEF512(7) GF_DEF512(8) GF_DEF512(9) GF_DEF512(10) GF_DEF512(11) GF_DEF512(12)

static const gf_isa k_isa512 = {
    16, 12, pack512, pack512_kn,
    {{NULL, m512_1_1, m512_2_1, m512_3_1, m512_4_1, m512_5_1, m512_6_1, m512_7_1, m512_8_1, m512_9_1, m512_10_1,
      m512_11_1, m512_12_1},
     {NULL, m512_1_2, m512_2_2, m512_3_2, m512_4_2, m512_5_2, m512_6_2, m512_7_2, m512_8_2, m512_9_2, m512_10_2,
      m512_11_2, m512_12_2}},
};

/* ---- AVX2 + FMA + F16C: 8 lanes, panels of 8 / 16 columns, up to 6 rows */
#define T256 __attribute__((target("avx2,fma,f16c")))

static inline __attribute__((always_inline)) T256 void tr8(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int a = 0; a < 4; a++) {
        t[2 * a] = _mm256_unpacklo_ps(r[2 * a], r[2 * a + 1]);
        t[2 * a + 1] = _mm256_unpackhi_ps(r[2 * a], r[2 * a + 1]);
    }
    for (int b = 0; b < 2; b++) {
        u[4 * b + 0] = _mm256_shuffle_ps(t[4 * b], t[4 * b + 2], 0x44);
        u[4 * b + 1] = _mm256_shuffle_ps(t[4 * b], t[4 * b + 2], 0xEE);
        u[4 * b + 2] = _mm256_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0x44);
        u[4 * b + 3] = _mm256_shuffle_ps(t[4 * b + 1], t[4 * b + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(u[c], u[4 + c], 0x31);
    }
}

static T256 void pack256(float *buf, const uint16_t *w, size_t ldw, int n0, int ncols, int k0, int kc, int width,
                         const float *ks, int nrows) {
    (void)nrows;
    for (int jb = 0; jb < width; jb += 8) {
        int nr = ncols - jb;
        nr = nr < 0 ? 0 : nr > 8 ? 8 : nr;
        for (int kb = 0; kb < kc; kb += 8) {
            const int kk = kc - kb < 8 ? kc - kb : 8;
            __m256 r[8];
            for (int i = 0; i < 8; i++) {
                if (i >= nr) {
                    r[i] = _mm256_setzero_ps();
                    continue;
                }
                const uint16_t *src = w + (size_t)(n0 + jb + i) * ldw + (size_t)(k0 + kb);
                __m128i h;
                if (kk == 8) {
                    h = _mm_loadu_si128((const __m128i *)src);
                } else {
                    uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                    memcpy(tmp, src, (size_t)kk * sizeof(uint16_t));
                    h = _mm_loadu_si128((const __m128i *)tmp);
                }
                r[i] = _mm256_cvtph_ps(h);
            }
            tr8(r);
            if (ks)
                for (int i = 0; i < kk; i++) r[i] = _mm256_mul_ps(r[i], _mm256_set1_ps(ks[k0 + kb + i]));
            for (int i = 0; i < kk; i++) _mm256_store_ps(buf + (size_t)(kb + i) * width + jb, r[i]);
        }
    }
}

static T256 void pack256_kn(float *buf, const uint16_t *w, size_t ldw, int n0, int ncols, int k0, int kc,
                            int width, const float *ks, int nrows) {
    (void)ks;
    (void)nrows;
    for (int jb = 0; jb < width; jb += 8) {
        int nr = ncols - jb;
        nr = nr < 0 ? 0 : nr > 8 ? 8 : nr;
        for (int k = 0; k < kc; k++) {
            const uint16_t *src = w + (size_t)(k0 + k) * ldw + (size_t)(n0 + jb);
            __m256 v;
            if (nr == 8) {
                v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)src));
            } else {
                uint16_t tmp[8] = {0, 0, 0, 0, 0, 0, 0, 0};
                if (nr > 0) memcpy(tmp, src, (size_t)nr * sizeof(uint16_t));
                v = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)tmp));
            }
            _mm256_store_ps(buf + (size_t)k * width + jb, v);
        }
    }
}

static inline __attribute__((always_inline)) T256 void micro256(const int R, const int NV, const float *a,
                                                                 size_t lda, const float *bp, int kc, float *c,
                                                                 size_t ldc, int acc) {
#define DECL(i) __m256 x##i = _mm256_setzero_ps(), y##i = _mm256_setzero_ps();
    GF_ROWS6(DECL)
#undef DECL
#define INIT(i)                                                          \
    if (R > i && acc) {                                                  \
        x##i = _mm256_loadu_ps(c + i * ldc);                             \
        if (NV == 2) y##i = _mm256_loadu_ps(c + i * ldc + 8);            \
    }
    GF_ROWS6(INIT)
#undef INIT
    const int wd = NV * 8;
    const float *ak = a;
    for (int k = 0; k < kc; k++, ak++) {
        const __m256 b0 = _mm256_load_ps(bp + (size_t)k * wd);
        const __m256 b1 = NV == 2 ? _mm256_load_ps(bp + (size_t)k * wd + 8) : b0;
#define STEP(i)                                                          \
    if (R > i) {                                                         \
        const __m256 av = _mm256_broadcast_ss(ak + i * lda);             \
        x##i = _mm256_fmadd_ps(av, b0, x##i);                            \
        if (NV == 2) y##i = _mm256_fmadd_ps(av, b1, y##i);               \
    }
        GF_ROWS6(STEP)
#undef STEP
    }
#define STORE(i)                                                         \
    if (R > i) {                                                         \
        _mm256_storeu_ps(c + i * ldc, x##i);                             \
        if (NV == 2) _mm256_storeu_ps(c + i * ldc + 8, y##i);            \
    }
    GF_ROWS6(STORE)
#undef STORE
}

#define GF_DEF256(R)                                                                                            \
    static T256 void m256_##R##_1(const float *a, size_t lda, const float *bp, int kc, float *c, size_t ldc,   \
                                  int acc) {                                                                    \
        micro256(R, 1, a, lda, bp, kc, c, ldc, acc);                                                            \
    }                                                                                                           \
    static T256 void m256_##R##_2(const float *a, size_t lda, const float *bp, int kc, float *c, size_t ldc,   \
                                  int acc) {                                                                    \
        micro256(R, 2, a, lda, bp, kc, c, ldc, acc);                                                            \
    }
GF_DEF256(1) GF_DEF256(2) GF_DEF256(3) GF_DEF256(4) GF_DEF256(5) GF_DEF256(6)

static const gf_isa k_isa256 = {
    8, 6, pack256, pack256_kn,
    {{NULL, m256_1_1, m256_2_1, m256_3_1, m256_4_1, m256_5_1, m256_6_1},
     {NULL, m256_1_2, m256_2_2, m256_3_2, m256_4_2, m256_5_2, m256_6_2}},
};

/* ---- GEMV (m == 1): y[n] = sum_k w[n, k] x[k], fp16 rows read directly -- */
static T512 void gemv512(float *y, const float *x, const uint16_t *w, size_t K, int n0, int n1) {
    const int kv = (int)(K & ~(size_t)15), kt = (int)(K & 15);
    const __mmask16 km = (__mmask16)((1u << kt) - 1u);
    int n = n0;
    for (; n + 4 <= n1; n += 4) {
        const uint16_t *w0 = w + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(),
               a3 = _mm512_setzero_ps();
        for (int k = 0; k < kv; k += 16) {
            const __m512 xv = _mm512_loadu_ps(x + k);
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w0 + k))), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w1 + k))), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w2 + k))), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w3 + k))), xv, a3);
        }
        if (kt) {
            const __m512 xv = _mm512_maskz_loadu_ps(km, x + kv);
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(km, w0 + kv)), xv, a0);
            a1 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(km, w1 + kv)), xv, a1);
            a2 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(km, w2 + kv)), xv, a2);
            a3 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(km, w3 + kv)), xv, a3);
        }
        y[n] = _mm512_reduce_add_ps(a0);
        y[n + 1] = _mm512_reduce_add_ps(a1);
        y[n + 2] = _mm512_reduce_add_ps(a2);
        y[n + 3] = _mm512_reduce_add_ps(a3);
    }
    for (; n < n1; n++) {
        const uint16_t *w0 = w + (size_t)n * K;
        __m512 a0 = _mm512_setzero_ps();
        for (int k = 0; k < kv; k += 16)
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(w0 + k))),
                                 _mm512_loadu_ps(x + k), a0);
        if (kt)
            a0 = _mm512_fmadd_ps(_mm512_cvtph_ps(_mm256_maskz_loadu_epi16(km, w0 + kv)),
                                 _mm512_maskz_loadu_ps(km, x + kv), a0);
        y[n] = _mm512_reduce_add_ps(a0);
    }
}

static inline __attribute__((always_inline)) T256 float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static T256 void gemv256(float *y, const float *x, const uint16_t *w, size_t K, int n0, int n1) {
    const int kv = (int)(K & ~(size_t)7), kt = (int)(K & 7);
    for (int n = n0; n < n1; n++) {
        const uint16_t *w0 = w + (size_t)n * K;
        __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
        int k = 0;
        for (; k + 16 <= kv; k += 16) {
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + k))),
                                 _mm256_loadu_ps(x + k), a0);
            a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + k + 8))),
                                 _mm256_loadu_ps(x + k + 8), a1);
        }
        for (; k < kv; k += 8)
            a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w0 + k))),
                                 _mm256_loadu_ps(x + k), a0);
        float t = hsum256(_mm256_add_ps(a0, a1));
        for (int i = 0; i < kt; i++) t += ec_f16_to_f32(w0[kv + i]) * x[kv + i];
        y[n] = t;
    }
}
#else
static int detect(void) { return EC_ISA_SCALAR; }
#endif

int ec_gemm_f16_isa_max(void) {
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        v = detect();
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

static const gf_isa *isa_table(int isa) {
    int mx = ec_gemm_f16_isa_max();
    if (isa < 0 || isa > mx) isa = mx;
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == EC_ISA_AVX512) return &k_isa512;
    if (isa == EC_ISA_AVX2) return &k_isa256;
#endif
    return NULL;
}

static void gemv_rows(float *y, const float *x, const uint16_t *w, int k, int n0, int n1, int isa) {
    int mx = ec_gemm_f16_isa_max();
    if (isa < 0 || isa > mx) isa = mx;
#if defined(__x86_64__) && defined(__GNUC__)
    if (isa == EC_ISA_AVX512) { gemv512(y, x, w, (size_t)k, n0, n1); return; }
    if (isa == EC_ISA_AVX2) { gemv256(y, x, w, (size_t)k, n0, n1); return; }
#endif
    for (int n = n0; n < n1; n++) { /* portable: exact widening, scalar dot */
        float t = 0.0f;
        for (int i = 0; i < k; i++) t += ec_f16_to_f32(w[(size_t)n * k + i]) * x[i];
        y[n] = t;
    }
}

void ec_gemv_f16(float *y, const float *x, const uint16_t *w, const float *b, int n, int k, int isa) {
    if (n <= 0) return;
    if (k <= 0) memset(y, 0, (size_t)n * sizeof(float));
    else gemv_rows(y, x, w, k, 0, n, isa);
    if (b)
        for (int i = 0; i < n; i++) y[i] += b[i];
}

typedef struct gf_job {
    float *out, *pre;
    const float *in, *b;
    const uint16_t *w;
    const gf_isa *isa;
    int m, k, n, act;
    int rb, cb; /* row blocks x column blocks */
    int isa_level;
    const float *ks; /* per-k scale of the weights, or NULL */
    int kn;          /* w is [K][N] (backward-data), else [N][K] */
    const float *res; /* residual added after the activation ([m][n]), or NULL */
} gf_job;

/* m == 1: task t computes outputs [64 t, 64 t + 64) (t < 0: all) */
static void gv_task(void *arg, int t, int thread) {
    (void)thread;
    const gf_job *j = arg;
    int n0 = 0, n1 = j->n;
    if (t >= 0) {
        n0 = 64 * t;
        n1 = n0 + 64 < j->n ? n0 + 64 : j->n;
    }
    gemv_rows(j->out, j->in, j->w, j->k, n0, n1, j->isa_level);
    ec_act_row_isa(j->out + n0, j->b ? j->b + n0 : NULL, (size_t)(n1 - n0), j->act, j->pre ? j->pre + n0 : NULL, -1);
    if (j->res) ec_act_add_isa(j->out + n0, j->out + n0, j->res + n0, (size_t)(n1 - n0), ECW_ACT_NONE, NULL, -1);
}

/* rows [m0, m1) x columns [n0, n1) of the output, complete (epilogue included) */
static void gf_block(const gf_job *j, int m0, int m1, int n0, int n1) {
    const gf_isa *I = j->isa;
    const int K = j->k, N = j->n, vl = I->vl, wmax = 2 * vl;
    const int epi = j->act != 0 || j->b || j->pre || j->res; /* ECW_ACT_NONE == 0 */
    _Alignas(64) float buf[GF_BUF_FLOATS];
    _Alignas(64) float tmp[GF_MRMAX * 32];
    const int kcmax = GF_KC < GF_BUF_FLOATS / wmax ? GF_KC : GF_BUF_FLOATS / wmax;
    const int nkb = (K + kcmax - 1) / kcmax;
    const int kcb = (K + nkb - 1) / nkb;
    const int nch = (GF_BUF_FLOATS / (kcb * wmax)) * wmax;
    const int rows = m1 - m0;
    if (rows <= 0 || n1 <= n0) return;
    const int tiles = (rows + I->mrmax - 1) / I->mrmax;
    const int mr = (rows + tiles - 1) / tiles;
    for (int c0 = n0; c0 < n1; c0 += nch) {
        const int c1 = n1 - c0 < nch ? n1 : c0 + nch;
        for (int kb = 0; kb < K; kb += kcb) {
            const int kc = K - kb < kcb ? K - kb : kcb;
            float *p = buf;
            for (int pc = c0; pc < c1; pc += wmax) {
                const int nc = c1 - pc < wmax ? c1 - pc : wmax, width = nc <= vl ? vl : wmax;
                if (j->kn) I->pack_kn(p, j->w, (size_t)N, pc, nc, kb, kc, width, NULL, N);
                else I->pack(p, j->w, (size_t)K, pc, nc, kb, kc, width, j->ks, N);
                p += (size_t)kc * width;
            }
            const int last = kb + kc == K;
            for (int r0 = m0; r0 < m1; r0 += mr) {
                const int R = m1 - r0 < mr ? m1 - r0 : mr;
                const float *a = j->in + (size_t)r0 * K + kb;
                const float *pp = buf;
                for (int pc = c0; pc < c1; pc += wmax) {
                    const int nc = c1 - pc < wmax ? c1 - pc : wmax, width = nc <= vl ? vl : wmax;
                    gf_micro_fn fn = I->micro[width / vl - 1][R];
                    float *cp = j->out + (size_t)r0 * N + pc;
                    if (nc == width) {
                        fn(a, (size_t)K, pp, kc, cp, (size_t)N, kb > 0);
                    } else { /* column tail: through a full-width tile */
                        if (kb > 0)
                            for (int r = 0; r < R; r++)
                                memcpy(tmp + r * width, cp + (size_t)r * N, (size_t)nc * sizeof(float));
                        fn(a, (size_t)K, pp, kc, tmp, (size_t)width, kb > 0);
                        for (int r = 0; r < R; r++)
                            memcpy(cp + (size_t)r * N, tmp + r * width, (size_t)nc * sizeof(float));
                    }
                    pp += (size_t)kc * width;
                }
                if (last && epi)
                    for (int r = r0; r < r0 + R; r++) {
                        const size_t o = (size_t)r * N + (size_t)c0;
                        ec_act_row_isa(j->out + o, j->b ? j->b + c0 : NULL, (size_t)(c1 - c0), j->act,
                                       j->pre ? j->pre + o : NULL, -1);
                        /* then + the residual, rounded as a separate add op would */
                        if (j->res)
                            ec_act_add_isa(j->out + o, j->out + o, j->res + o, (size_t)(c1 - c0), ECW_ACT_NONE, NULL,
                                           -1);
                    }
            }
        }
    }
}

static void gf_task(void *arg, int t, int thread) {
    (void)thread;
    const gf_job *j = arg;
    int m0, m1, n0, n1;
    ec_split(j->m, j->rb, t / j->cb, j->isa->mrmax, &m0, &m1);
    ec_split(j->n, j->cb, t % j->cb, 2 * j->isa->vl, &n0, &n1);
    gf_block(j, m0, m1, n0, n1);
}

int ec_gemm_f16_available(void) { return ec_gemm_f16_isa_max() != EC_ISA_SCALAR; }

void ec_gemm_f16_forward_isa(float *out, const float *in, const uint16_t *w, const float *b, const ec_pw_dims *d,
                             float *preact, int isa) {
    ec_gemm_f16_forward_scaled_isa(out, in, w, b, d, preact, NULL, isa);
}

/* The task grid for m > 1, then the run (shared by forward and backward). */
static void gf_run(gf_job *j) {
    const int nt = ec_pool_threads();
    if (nt > 1) {
        if (j->m >= GF_MIN_ROWS_PER_TASK * nt) {
            /* one band of rows per thread (pool.h, ec_row_tasks): each reads
             * the rows it wrote in the op before (each packs the weights) */
            j->rb = ec_row_tasks(j->m / GF_MIN_ROWS_PER_TASK);
        } else {
            /* few rows (7x7 maps): blocks of column panels, several per
             * thread, claimed dynamically */
            const int units = (j->n + 2 * j->isa->vl - 1) / (2 * j->isa->vl);
            j->cb = 4 * nt < units ? 4 * nt : units;
        }
    }
    if (j->rb * j->cb == 1) {
        gf_block(j, 0, j->m, 0, j->n);
        return;
    }
    ec_parallel_for(j->rb * j->cb, gf_task, j);
}

void ec_gemm_f16_forward_scaled_isa(float *out, const float *in, const uint16_t *w, const float *b,
                                    const ec_pw_dims *d, float *preact, const float *ks, int isa) {
    ec_gemm_f16_forward_res_isa(out, in, w, b, d, preact, ks, NULL, isa);
}

void ec_gemm_f16_forward_res_isa(float *out, const float *in, const uint16_t *w, const float *b,
                                 const ec_pw_dims *d, float *preact, const float *ks, const float *res, int isa) {
    const gf_isa *I = isa_table(isa);
    if (!I || d->m <= 0 || d->cout <= 0 || d->cin <= 0) return;
    gf_job j = {out, preact, in, b, w, I, d->m, d->cin, d->cout, d->act, 1, 1, isa, ks, 0, res};
    if (d->m == 1 && !ks) { /* GEMV: chunks of 64 outputs */
        const int nt = ec_pool_threads();
        j.isa_level = isa;
        j.cb = (d->cout + 63) / 64;
        if (nt == 1 || j.cb == 1) gv_task(&j, -1, 0);
        else ec_parallel_for(j.cb, gv_task, &j);
        return;
    }
    gf_run(&j);
}

void ec_gemm_f16_kn_isa(float *out, const float *in, const uint16_t *w, int m, int k, int n, int isa) {
    const gf_isa *I = isa_table(isa);
    if (!I || m <= 0 || n <= 0) return;
    if (k <= 0) {
        memset(out, 0, (size_t)m * (size_t)n * sizeof(float));
        return;
    }
    gf_job j = {out, NULL, in, NULL, w, I, m, k, n, 0 /* no activation */, 1, 1, isa, NULL, 1, NULL};
    gf_run(&j);
}
