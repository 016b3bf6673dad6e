/* Our own single-threaded AVX-512 GEMM for the pointwise convolutions:
 *     C[m][n] = sum_k A[m][k] * B[k][n]
 * with B packed in panels of 16 columns, [N / 16][K][16] (zero padded),
 * built from the fp16 weights once per call (ec_gemm_pack_*), and a
 * 12 x 32 register block (24 accumulators). Only used when the CPU has
 * AVX-512F (ec_gemm_ok()); the callers keep OpenBLAS otherwise.
 *
 * Why: on this machine's CPU (AMD EPYC, full-width AVX-512) OpenBLAS
 * 0.3.21's sgemm (COOPERLAKE / SKYLAKEX kernels) ran the pointwise shapes
 * of EfficientNet at 82-100 GFLOP/s single-threaded; this kernel at
 * 143-214 GFLOP/s on the same shapes (same process, interleaved; the
 * AVX-512 FMA peak of one core measured ~2x the AVX2 one).
 *
 * The packed panels are in the caller's scratch: ec_gemm_packed_floats().
 * Packing: forward weights W[N][K] (n-major) are transposed 16 x 16 in
 * registers after the F16C widening; backward weights W[K][N] are widened
 * in runs of 16. */
#include <string.h>

#include "ops/ops.h"

size_t ec_gemm_packed_floats(int K, int N) { return (size_t)((N + 15) / 16) * 16u * (size_t)(K > 0 ? K : 0); }

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

static int g_gemm_off; /* tests only: ec_gemm_enable(0) */
void ec_gemm_enable(int on) { __atomic_store_n(&g_gemm_off, !on, __ATOMIC_RELAXED); }
int ec_gemm_ok(void) { return ec_isa_max() >= EC_ISA_AVX512 && !__atomic_load_n(&g_gemm_off, __ATOMIC_RELAXED); }

#define T512 __attribute__((target("avx512f,f16c,avx2,fma")))

/* 16 x 16 transpose of r[0..15] in place (r[j] lane k -> r[k] lane j). */
T512 static inline __attribute__((always_inline)) void tr16(__m512 *r) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        u[4 * i + 0] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i + 0], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    /* u[4i + q] holds, for rows 4i..4i+3, column q of each 128-bit lane */
    for (int q = 0; q < 4; q++) {
        t[q] = _mm512_shuffle_f32x4(u[q], u[4 + q], 0x88);      /* lanes 0, 2 of rows 0-3 | 4-7 */
        t[4 + q] = _mm512_shuffle_f32x4(u[q], u[4 + q], 0xdd);  /* lanes 1, 3 */
        t[8 + q] = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0x88);
        t[12 + q] = _mm512_shuffle_f32x4(u[8 + q], u[12 + q], 0xdd);
    }
    for (int q = 0; q < 4; q++) {
        r[q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0x88);
        r[8 + q] = _mm512_shuffle_f32x4(t[q], t[8 + q], 0xdd);
        r[4 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0x88);
        r[12 + q] = _mm512_shuffle_f32x4(t[4 + q], t[12 + q], 0xdd);
    }
}

/* Panels [n0, n1) (n0 a multiple of 16) of B = W^T, W fp16 [N][K]. */
T512 void ec_gemm_pack_wT(float *Bp, const uint16_t *W, int N, int K, int n0, int n1) {
    for (int p0 = n0; p0 < n1; p0 += 16) {
        float *dst = Bp + (size_t)(p0 / 16) * (size_t)K * 16u;
        const int rows = N - p0 < 16 ? N - p0 : 16;
        int k = 0;
        for (; k + 16 <= K; k += 16) {
            __m512 r[16];
            for (int j = 0; j < 16; j++)
                r[j] = j < rows ? _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(W + (size_t)(p0 + j) * K + k)))
                                : _mm512_setzero_ps();
            tr16(r);
            for (int q = 0; q < 16; q++) _mm512_storeu_ps(dst + (size_t)(k + q) * 16u, r[q]);
        }
        for (; k < K; k++)
            for (int j = 0; j < 16; j++) dst[(size_t)k * 16u + j] = j < rows ? ec_f16_to_f32(W[(size_t)(p0 + j) * K + k]) : 0.0f;
    }
}

/* Panels [n0, n1) of B = W, W fp16 [K][N]. */
T512 void ec_gemm_pack_w(float *Bp, const uint16_t *W, int K, int N, int n0, int n1) {
    for (int p0 = n0; p0 < n1; p0 += 16) {
        float *dst = Bp + (size_t)(p0 / 16) * (size_t)K * 16u;
        const int cols = N - p0 < 16 ? N - p0 : 16;
        if (cols == 16) {
            for (int k = 0; k < K; k++)
                _mm512_storeu_ps(dst + (size_t)k * 16u,
                                 _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(W + (size_t)k * N + p0))));
        } else {
            for (int k = 0; k < K; k++)
                for (int j = 0; j < 16; j++) dst[(size_t)k * 16u + j] = j < cols ? ec_f16_to_f32(W[(size_t)k * N + p0 + j]) : 0.0f;
        }
    }
}

#define MR 12

T512 static inline __attribute__((always_inline)) void kern(const float *A, size_t lda, const float *B0, int K,
                                                            float *C, size_t ldc, const int mr, const int np,
                                                            __mmask16 m0, __mmask16 m1) {
    __m512 a0[MR], a1[MR];
    for (int r = 0; r < mr; r++) {
        a0[r] = _mm512_setzero_ps();
        a1[r] = _mm512_setzero_ps();
    }
    const float *B1 = B0 + (size_t)K * 16u;
    for (int k = 0; k < K; k++) {
        const __m512 b0 = _mm512_loadu_ps(B0 + (size_t)k * 16u);
        const __m512 b1 = np == 2 ? _mm512_loadu_ps(B1 + (size_t)k * 16u) : b0;
        for (int r = 0; r < mr; r++) {
            const __m512 a = _mm512_set1_ps(A[(size_t)r * lda + (size_t)k]);
            a0[r] = _mm512_fmadd_ps(a, b0, a0[r]);
            if (np == 2) a1[r] = _mm512_fmadd_ps(a, b1, a1[r]);
        }
    }
    for (int r = 0; r < mr; r++) {
        _mm512_mask_storeu_ps(C + (size_t)r * ldc, m0, a0[r]);
        if (np == 2) _mm512_mask_storeu_ps(C + (size_t)r * ldc + 16, m1, a1[r]);
    }
}

#define KCASE(mr)                                                                                                  \
    case mr:                                                                                                       \
        if (np == 2) kern(A, lda, B0, K, C, ldc, mr, 2, m0, m1);                                                   \
        else kern(A, lda, B0, K, C, ldc, mr, 1, m0, m1);                                                           \
        break;

T512 static void kern_any(const float *A, size_t lda, const float *B0, int K, float *C, size_t ldc, int mr, int np,
                          __mmask16 m0, __mmask16 m1) {
    switch (mr) {
        KCASE(1) KCASE(2) KCASE(3) KCASE(4) KCASE(5) KCASE(6) KCASE(7) KCASE(8) KCASE(9) KCASE(10) KCASE(11) KCASE(12)
    default: break;
    }
}

/* C[m][n0..n1) = A[m][0..K) * B[.][n0..n1), m < M; n0 a multiple of 16. */
T512 void ec_gemm_packed(const float *A, size_t lda, const float *Bp, int K, float *C, size_t ldc, int M, int n0,
                         int n1) {
    if (M <= 0 || n1 <= n0) return;
    if (K <= 0) {
        for (int m = 0; m < M; m++) memset(C + (size_t)m * ldc + n0, 0, (size_t)(n1 - n0) * sizeof(float));
        return;
    }
    for (int c0 = n0; c0 < n1; c0 += 32) {
        const int nn = n1 - c0 < 32 ? n1 - c0 : 32, np = (nn + 15) / 16;
        const __mmask16 m0 = nn >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nn) - 1u);
        const __mmask16 m1 = nn >= 32 ? (__mmask16)0xFFFF : nn > 16 ? (__mmask16)((1u << (nn - 16)) - 1u) : 0;
        const float *B0 = Bp + (size_t)(c0 / 16) * (size_t)K * 16u;
        for (int m = 0; m < M; m += MR) {
            const int mr = M - m < MR ? M - m : MR;
            kern_any(A + (size_t)m * lda, lda, B0, K, C + (size_t)m * ldc + c0, ldc, mr, np, m0, m1);
        }
    }
}

#else /* not x86-64 GCC: never used (ec_gemm_ok() == 0) */
void ec_gemm_enable(int on) { (void)on; }
int ec_gemm_ok(void) { return 0; }
void ec_gemm_pack_wT(float *Bp, const uint16_t *W, int N, int K, int n0, int n1) {
    (void)Bp; (void)W; (void)N; (void)K; (void)n0; (void)n1;
}
void ec_gemm_pack_w(float *Bp, const uint16_t *W, int K, int N, int n0, int n1) {
    (void)Bp; (void)W; (void)N; (void)K; (void)n0; (void)n1;
}
void ec_gemm_packed(const float *A, size_t lda, const float *Bp, int K, float *C, size_t ldc, int M, int n0, int n1) {
    (void)A; (void)lda; (void)Bp; (void)K; (void)C; (void)ldc; (void)M; (void)n0; (void)n1;
}
#endif
