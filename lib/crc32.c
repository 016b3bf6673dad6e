/* CRC-32 (zlib's: reflected, polynomial 0x04C11DB7, pre- and post-inverted)
 * of the .ecw payload, which the loader checks on every load: 40 MB for
 * EfficientNetV2-S, where zlib 1.2.13's table CRC (~1.7 GB/s here) was
 * ~25 ms of a ~225 ms one-shot `effcam gradcam`.
 *
 * With PCLMULQDQ (run-time check) the data is folded 64 bytes at a time
 * with carry-less multiplies; the 16 bytes left are finished by zlib.
 *
 * Why folding works. Read a 16-byte block as a polynomial over GF(2) whose
 * first byte's lowest bit is the highest-degree coefficient (the bit order
 * of a reflected CRC): in the 128-bit little-endian value, bit i is the
 * coefficient of x^(127 - i). A message A || B of two blocks has the
 * polynomial A x^128 + B, and a CRC with a zero register depends only on
 * the message polynomial mod P (it is M x^32 mod P). So A || B can be
 * replaced by one block C = (A x^128 mod P, kept below degree 128) + B
 * without changing the CRC, and the message shrinks 16 bytes per step.
 * With A = H x^64 + L (H: the low 64-bit half, L: the high one),
 * A x^128 = H x^192 + L x^128. A carry-less multiply of two 64-bit halves
 * in this bit order yields the product times x in the 128-bit layout
 * (bit j + m <-> degree 126 - (j + m)), so the constants are
 * x^191 mod P and x^127 mod P, bit-reversed into 64 bits (degree d at
 * bit 63 - d). Four blocks are folded side by side (shift 512: constants
 * x^575, x^511), then merged (shifts 384, 256, 128).
 *
 * The zlib convention: crc32(c, M) runs the register from ~c and returns
 * the register inverted; a register r0 at the start of M is the same as
 * XOR-ing r0 into M's first 4 bytes and starting from 0. The folded block
 * C is then run through zlib from register 0 (c = 0xFFFFFFFF), and the
 * bytes after the last whole block continue from there.
 *
 * Buffers of 1 MiB and more are cut into one part per library thread and
 * the parts joined with zlib's crc32_combine.
 *
 * The constants are computed per call, not tabulated (x^n mod P by shifting);
 * tests/test_format.c checks the result against zlib on random buffers of
 * many lengths, offsets and starting values. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <zlib.h>

#include "internal.h"
#include "pool.h"

static uint32_t zlib_crc(uint32_t c, const uint8_t *p, size_t n) {
    while (n > 0) { /* zlib takes uInt lengths */
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = (uint32_t)crc32(c, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return c;
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* x^n mod P (P = x^32 + 0x04C11DB7), bit-reversed into 64 bits: degree d
 * at bit 63 - d. */
static uint64_t xpow_mod_rev(unsigned n) {
    uint64_t r = 1; /* degree < 32 */
    for (unsigned i = 0; i < n; i++) {
        r <<= 1;
        if (r & (1ull << 32)) r ^= 0x104C11DB7ull;
    }
    uint64_t v = 0;
    for (int d = 0; d < 32; d++)
        if (r >> d & 1) v |= 1ull << (63 - d);
    return v;
}

typedef struct crc_consts {
    __m128i k512, k384, k256, k128; /* {x^(s+63), x^(s-1)} mod P for shift s: H's, L's */
} crc_consts;

static __m128i pair(unsigned s) {
    return _mm_set_epi64x((long long)xpow_mod_rev(s - 1), (long long)xpow_mod_rev(s + 63));
}

__attribute__((target("pclmul,sse4.1"))) static inline __m128i fold(__m128i a, __m128i k, __m128i b) {
    /* imm 0x00: low halves (H x constant 0), 0x11: high halves (L x constant 1) */
    return _mm_xor_si128(_mm_xor_si128(_mm_clmulepi64_si128(a, k, 0x00), _mm_clmulepi64_si128(a, k, 0x11)), b);
}

__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t c, const uint8_t *p, size_t n,
                                                                    const crc_consts *K) {
    /* n >= 64 */
    __m128i x0 = _mm_loadu_si128((const __m128i *)p), x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32)), x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)~c)); /* the starting register */
    p += 64;
    n -= 64;
    for (; n >= 64; p += 64, n -= 64) {
        x0 = fold(x0, K->k512, _mm_loadu_si128((const __m128i *)p));
        x1 = fold(x1, K->k512, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = fold(x2, K->k512, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = fold(x3, K->k512, _mm_loadu_si128((const __m128i *)(p + 48)));
    }
    /* x0 x^384 + x1 x^256 + x2 x^128 + x3 */
    __m128i x = _mm_xor_si128(_mm_xor_si128(fold(x0, K->k384, x3), fold(x1, K->k256, _mm_setzero_si128())),
                              fold(x2, K->k128, _mm_setzero_si128()));
    for (; n >= 16; p += 16, n -= 16) x = fold(x, K->k128, _mm_loadu_si128((const __m128i *)p));
    uint8_t blk[16];
    _mm_storeu_si128((__m128i *)blk, x);
    return zlib_crc(zlib_crc(0xFFFFFFFFu, blk, 16), p, n);
}

static int clmul_ok(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
}

uint32_t ec_crc32_update(uint32_t c, const uint8_t *p, size_t n, int fast) {
    if (fast && n >= 256 && clmul_ok()) {
        const crc_consts k = {pair(512), pair(384), pair(256), pair(128)}; /* ~2 us: no shared state */
        return crc_clmul(c, p, n, &k);
    }
    return zlib_crc(c, p, n);
}
#else
uint32_t ec_crc32_update(uint32_t c, const uint8_t *p, size_t n, int fast) {
    (void)fast;
    return zlib_crc(c, p, n);
}
#endif

/* Large buffers on the library's threads: one contiguous part per thread,
 * the part CRCs joined with zlib's crc32_combine (the same value). */
#define CRC_PAR_MIN (1u << 20)
#define CRC_PARTS_MAX 64
typedef struct crc_job {
    const uint8_t *p;
    size_t n;
    int parts;
    uint32_t crc[CRC_PARTS_MAX];
    size_t len[CRC_PARTS_MAX];
} crc_job;

static void crc_task(void *arg, int t, int thread) {
    (void)thread;
    crc_job *j = arg;
    const size_t a = j->n / (size_t)j->parts * (size_t)t, b = t + 1 == j->parts ? j->n : a + j->n / (size_t)j->parts;
    j->crc[t] = ec_crc32_update(0, j->p + a, b - a, 1);
    j->len[t] = b - a;
}

uint32_t ec_crc32(const uint8_t *p, size_t n) {
    int nt = ec_pool_threads();
    if (nt > CRC_PARTS_MAX) nt = CRC_PARTS_MAX;
    if (nt < 2 || n < CRC_PAR_MIN) return ec_crc32_update(0, p, n, 1);
    crc_job j = {.p = p, .n = n, .parts = nt};
    ec_parallel_for(nt, crc_task, &j);
    uint32_t c = j.crc[0];
    for (int t = 1; t < nt; t++) c = (uint32_t)crc32_combine(c, j.crc[t], (z_off_t)j.len[t]);
    return c;
}
