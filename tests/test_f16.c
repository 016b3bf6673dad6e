/* IEEE binary16 conversions: every bit pattern, rounding, overflow,
 * subnormals, and the bulk widen against the scalar path. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ops/ops.h"
#include "test_util.h"

static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static int h_is_nan(uint16_t h) { return (h & 0x7C00u) == 0x7C00u && (h & 0x3FFu) != 0; }

/* The value of a binary16 pattern from its definition, in double. */
static double h_value(uint16_t h) {
    int s = h >> 15, e = (h >> 10) & 0x1F, m = h & 0x3FF;
    double v;
    if (e == 0) v = ldexp((double)m, -24);
    else if (e == 31) v = m ? NAN : INFINITY;
    else v = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

static void test_all_patterns(void **state) {
    (void)state;
    for (uint32_t i = 0; i < 65536u; i++) {
        uint16_t h = (uint16_t)i;
        float f = ec_f16_to_f32(h);
        if (h_is_nan(h)) {
            if (!isnan(f)) { print_error("0x%04x should widen to NaN, got %g\n", h, f); fail(); }
            uint16_t back = ec_f32_to_f16(f);
            if (!h_is_nan(back)) { print_error("NaN 0x%04x narrowed to 0x%04x\n", h, back); fail(); }
            if ((back & 0x8000u) != (h & 0x8000u)) { print_error("NaN sign lost for 0x%04x\n", h); fail(); }
            continue;
        }
        double want = h_value(h);
        if ((double)f != want || !!signbit(f) != !!signbit(want)) {
            print_error("0x%04x widened to %.10g, want %.10g\n", h, f, want);
            fail();
        }
        uint16_t back = ec_f32_to_f16(f);
        if (back != h) { print_error("0x%04x -> %g -> 0x%04x\n", h, f, back); fail(); }
    }
}

/* Every midpoint between adjacent finite halves rounds to the even one;
 * one float ulp either side rounds to the nearer. Covers subnormals
 * (0x0000/0x0001 ...), the normal/subnormal boundary and both signs. */
static void test_round_nearest_even(void **state) {
    (void)state;
    for (uint32_t a = 0; a < 0x7BFFu; a++) {
        for (int neg = 0; neg < 2; neg++) {
            uint16_t lo = (uint16_t)(a | (neg ? 0x8000u : 0)), hi = (uint16_t)((a + 1) | (neg ? 0x8000u : 0));
            double mid = (h_value(lo) + h_value(hi)) / 2.0;
            float fm = (float)mid;
            assert_true((double)fm == mid); /* exact: 12 significant bits */
            uint16_t even = (lo & 1u) ? hi : lo;
            uint16_t got = ec_f32_to_f16(fm);
            if (got != even) {
                print_error("midpoint %.10g of 0x%04x/0x%04x -> 0x%04x, want 0x%04x\n", mid, lo, hi, got, even);
                fail();
            }
            float toward_lo = nextafterf(fm, 0.0f);
            float toward_hi = nextafterf(fm, neg ? -INFINITY : INFINITY);
            if (ec_f32_to_f16(toward_lo) != lo || ec_f32_to_f16(toward_hi) != hi) {
                print_error("just off midpoint of 0x%04x/0x%04x: 0x%04x 0x%04x\n", lo, hi,
                            ec_f32_to_f16(toward_lo), ec_f32_to_f16(toward_hi));
                fail();
            }
        }
    }
}

static void test_overflow_and_specials(void **state) {
    (void)state;
    assert_int_equal(ec_f32_to_f16(65504.0f), 0x7BFF);
    assert_int_equal(ec_f32_to_f16(65519.996f), 0x7BFF); /* below the 65520 midpoint */
    assert_int_equal(ec_f32_to_f16(65520.0f), 0x7C00);   /* midpoint: ties to even = inf */
    assert_int_equal(ec_f32_to_f16(-65520.0f), 0xFC00);
    assert_int_equal(ec_f32_to_f16(1e5f), 0x7C00);
    assert_int_equal(ec_f32_to_f16(-1e5f), 0xFC00);
    assert_int_equal(ec_f32_to_f16(FLT_MAX), 0x7C00);
    assert_int_equal(ec_f32_to_f16(-FLT_MAX), 0xFC00);
    assert_int_equal(ec_f32_to_f16(INFINITY), 0x7C00);
    assert_int_equal(ec_f32_to_f16(-INFINITY), 0xFC00);
    assert_true(h_is_nan(ec_f32_to_f16(NAN)));
    assert_true(h_is_nan(ec_f32_to_f16(-NAN)));
    /* a NaN whose payload sits only in the low float bits must stay NaN */
    uint32_t nb = 0x7F800001u;
    float tiny_nan;
    memcpy(&tiny_nan, &nb, 4);
    assert_true(isnan(tiny_nan));
    assert_true(h_is_nan(ec_f32_to_f16(tiny_nan)));
    assert_int_equal(ec_f32_to_f16(0.0f), 0x0000);
    assert_int_equal(ec_f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(ec_f32_to_f16(1.0f), 0x3C00);
    assert_int_equal(ec_f32_to_f16(-2.0f), 0xC000);
    assert_int_equal(ec_f32_to_f16(0.333333343f), 0x3555);
    /* subnormals */
    assert_int_equal(ec_f32_to_f16(ldexpf(1.0f, -24)), 0x0001);        /* smallest */
    assert_int_equal(ec_f32_to_f16(ldexpf(1.0f, -25)), 0x0000);        /* tie -> even (0) */
    assert_int_equal(ec_f32_to_f16(ldexpf(3.0f, -25)), 0x0002);        /* tie 1/2 -> 2 */
    assert_int_equal(ec_f32_to_f16(nextafterf(ldexpf(1.0f, -25), 1.0f)), 0x0001);
    assert_int_equal(ec_f32_to_f16(ldexpf(1.0f, -26)), 0x0000);
    assert_int_equal(ec_f32_to_f16(-ldexpf(1.0f, -26)), 0x8000);       /* sign kept */
    assert_int_equal(ec_f32_to_f16(1e-30f), 0x0000);
    assert_int_equal(ec_f32_to_f16(-1e-30f), 0x8000);
    assert_int_equal(ec_f32_to_f16(ldexpf(1023.0f, -24)), 0x03FF);     /* largest subnormal */
    assert_int_equal(ec_f32_to_f16(ldexpf(1.0f, -14)), 0x0400);        /* smallest normal */
    assert_int_equal(ec_f32_to_f16(ldexpf(2047.0f, -25)), 0x0400);     /* tie rounds up into normal */
    assert_int_equal(ec_f32_to_f16(FLT_MIN), 0x0000);
    assert_true(ec_f16_to_f32(0x0001) == ldexpf(1.0f, -24));
    assert_true(ec_f16_to_f32(0x03FF) == ldexpf(1023.0f, -24));
    assert_true(ec_f16_to_f32(0x7BFF) == 65504.0f);
    assert_true(isinf(ec_f16_to_f32(0x7C00)) && ec_f16_to_f32(0x7C00) > 0);
    assert_true(isinf(ec_f16_to_f32(0xFC00)) && ec_f16_to_f32(0xFC00) < 0);
    assert_true(fbits(ec_f16_to_f32(0x8000)) == 0x80000000u);
}

/* Random floats round to the nearest half (ties to even). */
static void test_random_nearest(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 16);
    for (int i = 0; i < 200000; i++) {
        uint32_t bits = (uint32_t)tu_next(&r);
        /* keep exponents in and around the binary16 range */
        uint32_t e = 127 - 28 + (uint32_t)tu_int(&r, 0, 46);
        bits = (bits & 0x807FFFFFu) | (e << 23);
        float f;
        memcpy(&f, &bits, 4);
        uint16_t h = ec_f32_to_f16(f);
        double v = h_value(h);
        if (isinf(v)) {
            if (!(fabs((double)f) >= 65520.0)) { print_error("%.9g -> inf\n", f); fail(); }
            continue;
        }
        double err = fabs((double)f - v);
        uint16_t mag = h & 0x7FFFu;
        /* neighbours of the same sign (lower one only if mag > 0) */
        if (mag < 0x7BFFu) {
            double up = h_value((uint16_t)(h + 1));
            double eu = fabs((double)f - up);
            if (eu < err || (eu == err && (h & 1u))) { print_error("%.9g -> 0x%04x not nearest/even\n", f, h); fail(); }
        }
        if (mag > 0) {
            double dn = h_value((uint16_t)(h - 1));
            double ed = fabs((double)f - dn);
            if (ed < err || (ed == err && (h & 1u))) { print_error("%.9g -> 0x%04x not nearest/even\n", f, h); fail(); }
        } else if ((double)fabsf(f) > ldexp(1.0, -25)) {
            print_error("%.9g flushed to zero\n", f); fail();
        }
        if (mag != 0 && !!signbit(f) != ((h & 0x8000u) != 0)) { print_error("sign of %.9g lost\n", f); fail(); }
    }
}

static void test_widen_matches_scalar(void **state) {
    (void)state;
    enum { N = 65536 + 19 };
    uint16_t *src = malloc(N * sizeof(uint16_t));
    float *dst = malloc(N * sizeof(float));
    assert_true(src && dst);
    for (uint32_t i = 0; i < N; i++) src[i] = (uint16_t)(i * 40503u + 7u); /* all patterns, shuffled */
    /* odd lengths and unaligned starts */
    static const size_t lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 1001, 65536 + 17};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        for (size_t off = 0; off < 2; off++) {
            size_t n = lens[li];
            for (size_t i = 0; i < N; i++) dst[i] = -12345.0f;
            ec_f16_widen(dst + off, src + off, n);
            for (size_t i = 0; i < N; i++) {
                if (i < off || i >= off + n) {
                    if (dst[i] != -12345.0f) { print_error("widen wrote outside [%zu,%zu)\n", off, off + n); fail(); }
                    continue;
                }
                float want = ec_f16_to_f32(src[i]);
                int ok = isnan(want) ? isnan(dst[i]) : fbits(want) == fbits(dst[i]);
                if (!ok) {
                    print_error("widen n %zu: 0x%04x -> %g, scalar %g\n", n, src[i], dst[i], want);
                    fail();
                }
            }
        }
    free(src);
    free(dst);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_patterns),
        cmocka_unit_test(test_round_nearest_even),
        cmocka_unit_test(test_overflow_and_specials),
        cmocka_unit_test(test_random_nearest),
        cmocka_unit_test(test_widen_matches_scalar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
