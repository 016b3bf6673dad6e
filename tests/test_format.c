/* Hostile model files: every malformed input gets an error code and a
 * message, never a crash, never a read past the data (ASan), never an
 * allocation (the planner works on the caller's bytes only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "ecw_build.h"
#include "ecw_format.h"
#include "internal.h"
#include "effcam.h"
#include "test_util.h"

static uint8_t *g_file;
static size_t g_size;

static int setup(void **state) {
    (void)state;
    return tb_build_tiny(7, 32, 32, 6, &g_file, &g_size);
}
static int teardown(void **state) { (void)state; free(g_file); return 0; }

/* A private, exactly-sized heap copy so ASan sees any overread. */
static uint8_t *dup_exact(const uint8_t *src, size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    memcpy(p, src, n);
    return p;
}

static effcam_status try_plan(const uint8_t *f, size_t n, effcam_error *err) {
    effcam_plan p;
    return effcam_plan_memory(f, n, NULL, 0, &p, err);
}

/* Load + predict must also succeed or fail cleanly. */
static effcam_status try_load(const uint8_t *f, size_t n, effcam_error *err) {
    effcam_plan p;
    effcam_status st = effcam_plan_memory(f, n, NULL, 0, &p, err);
    if (st) return st;
    if (p.total_bytes > (64u << 20)) return EFFCAM_OK; /* valid but large: plan only */
    uint8_t *arena = aligned_alloc(64, (p.total_bytes + 63) & ~(size_t)63);
    effcam_model *m;
    effcam_ctx *c;
    st = effcam_load_memory(f, n, NULL, 0, arena, p.total_bytes, &m, &c, err);
    if (!st) {
        int h = p.height, w = p.width;
        float *x = calloc((size_t)h * w * 3, sizeof(float));
        st = effcam_predict_f32(c, x, h, w, 0);
        free(x);
        effcam_free(m);
    }
    free(arena);
    return st;
}

static void expect(const uint8_t *f, size_t n, effcam_status want, const char *what) {
    uint8_t *d = dup_exact(f, n);
    effcam_error err = {0};
    effcam_status st = try_plan(d, n, &err);
    if (st != want) fail_msg("%s: got %s (%s), want %s", what, effcam_strerror(st), err.message, effcam_strerror(want));
    if (st != EFFCAM_OK) {
        assert_int_equal(err.status, st);
        assert_true(strlen(err.message) > 0);
    }
    free(d);
}

/* Mutates a copy with fn, repairs CRCs (so the deep checks are reached), and expects want. */
typedef void (*mutator)(uint8_t *f, size_t n);
static void expect_mut_of(const uint8_t *file, size_t size, mutator fn, effcam_status want, const char *what) {
    uint8_t *d = dup_exact(file, size);
    fn(d, size);
    tb_fix_crcs(d, size);
    expect(d, size, want, what);
    free(d);
}
static void expect_mut(mutator fn, effcam_status want, const char *what) { expect_mut_of(g_file, g_size, fn, want, what); }

static uint8_t *op_rec(uint8_t *f, int i) { return f + tb_rd64(f + ECWH_OPS_OFF) + (size_t)i * ECW_OP_BYTES; }
static uint8_t *t_rec(uint8_t *f, int i) { return f + tb_rd64(f + ECWH_TENSORS_OFF) + (size_t)i * ECW_TENSOR_BYTES; }
static uint8_t *tap_rec(uint8_t *f, int i) { return f + tb_rd64(f + ECWH_TAPS_OFF) + (size_t)i * ECW_TAP_BYTES; }

static void m_magic(uint8_t *f, size_t n) { (void)n; f[0] = 'X'; }
static void m_version(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_VERSION, 2); }
static void m_order(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_BYTE_ORDER, 0x04030201u); }
static void m_hdrbytes(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_HEADER_BYTES, 128); }
static void m_nops0(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_N_OPS, 0); }
static void m_nops_huge(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_N_OPS, 0xFFFFFFFFu); }
static void m_ntensors_huge(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_N_TENSORS, 1u << 30); }
static void m_ops_off_past(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_OPS_OFF, 1ull << 62); }
static void m_ops_off_wrap(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_OPS_OFF, UINT64_MAX - 63); }
static void m_ops_misaligned(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_OPS_OFF, tb_rd64(f + ECWH_OPS_OFF) + 4); }
static void m_overlap(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_TENSORS_OFF, tb_rd64(f + ECWH_OPS_OFF)); }
static void m_strings_huge(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_STRINGS_BYTES, UINT64_MAX); }
static void m_data_huge(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_DATA_BYTES, UINT64_MAX - 5); }
static void m_input_zero(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_INPUT_H, 0); }
static void m_input_huge(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_INPUT_W, 1u << 31); }
static void m_input_c(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_INPUT_C, 4); }
static void m_premul_nan(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_PRE_MUL, 0x7FC00000u); }
static void m_default_tap(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_DEFAULT_TAP, 999); }
static void m_flags(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_FLAGS, 0x80); }
static void m_name_str(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_NAME, 0x7FFFFFF0u); }
static void m_file_bytes_small(uint8_t *f, size_t n) { (void)n; tb_wr64(f + ECWH_FILE_BYTES, 100); }
static void m_op_type(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 2), 99); }
static void m_op_act(uint8_t *f, size_t n) { (void)n; op_rec(f, 0)[ECWO_ACT] = 200; }
static void m_op_cycle(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_IN0, 5); }
static void m_op_self(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_IN0, 2); }
static void m_op_negin(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_IN0, (uint32_t)-7); }
static void m_op_cin(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_CIN, 9); }
static void m_op_kernel0(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 0) + ECWO_KH, 0); }
static void m_op_kernel16(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 0) + ECWO_KH + 2, 16); }
static void m_op_stride0(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 0) + ECWO_KH + 4, 0); }
static void m_op_stride9(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 1) + ECWO_KH + 6, 9); }
static void m_op_pad(uint8_t *f, size_t n) { (void)n; tb_wr16(op_rec(f, 1) + ECWO_PAD, 3); }
static void m_op_cout_huge(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 0) + ECWO_COUT, 0x7FFFFFFF); }
static void m_op_tensor_idx(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 0) + ECWO_T0, 100000); }
static void m_op_tensor_neg(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 0) + ECWO_T0, (uint32_t)-2); }
static void m_op_tensor_slot(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 0) + ECWO_T0 + 8, 0); }
static void m_op_wrong_tensor(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 0) + ECWO_T0, 2); }
static void m_op_add_in1(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 4) + ECWO_IN1, (uint32_t)-1); }
static void m_op_flags(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_FLAGS, 6); }
static void m_op_name(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 1) + ECWO_NAME, 0xFFFFFF00u); }
static void m_last_not_dense(uint8_t *f, size_t n) {
    (void)n;
    uint32_t last = tb_rd32(f + ECWH_N_OPS) - 1;
    tb_wr32(f + ECWH_N_OPS, last); /* drop the final dense: now ends with dense(fc1)... */
    tb_wr32(f + ECWH_N_OPS, 3);    /* ...end after se */
}
static void m_dense_on_map(uint8_t *f, size_t n) { (void)n; tb_wr32(op_rec(f, 11) + ECWO_IN0, 10); tb_wr32(op_rec(f, 11) + ECWO_CIN, 20); }
static void m_t_dtype(uint8_t *f, size_t n) { (void)n; tb_wr32(t_rec(f, 0) + ECWT_DTYPE, 7); }
static void m_t_ndim(uint8_t *f, size_t n) { (void)n; tb_wr32(t_rec(f, 0) + ECWT_NDIM, 5); }
static void m_t_dim0(uint8_t *f, size_t n) { (void)n; tb_wr32(t_rec(f, 0) + ECWT_DIMS, 0); }
static void m_t_overflow(uint8_t *f, size_t n) {
    (void)n;
    for (int k = 0; k < 4; k++) tb_wr32(t_rec(f, 0) + ECWT_DIMS + 4 * k, 0xFFFFFFFFu);
    tb_wr32(t_rec(f, 0) + ECWT_NDIM, 4);
}
static void m_t_nbytes(uint8_t *f, size_t n) { (void)n; tb_wr64(t_rec(f, 0) + ECWT_NBYTES, 2); }
static void m_t_offset(uint8_t *f, size_t n) { (void)n; tb_wr64(t_rec(f, 1) + ECWT_OFFSET, 1ull << 40); }
static void m_t_offset_wrap(uint8_t *f, size_t n) { (void)n; tb_wr64(t_rec(f, 1) + ECWT_OFFSET, UINT64_MAX - 63); }
static void m_t_misaligned(uint8_t *f, size_t n) { (void)n; tb_wr64(t_rec(f, 1) + ECWT_OFFSET, tb_rd64(t_rec(f, 1) + ECWT_OFFSET) + 2); }
static void m_tap_value(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 0) + ECWP_VALUE, 0); }
static void m_tap_value_big(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 0) + ECWP_VALUE, 4000); }
static void m_tap_kind(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 0) + ECWP_KIND, 3); }
static void m_tap_prebn_missing(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 2) + ECWP_SCALE, (uint32_t)-1); }
static void m_tap_prebn_wrong(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 2) + ECWP_SCALE, 0); }
static void m_tap_name(uint8_t *f, size_t n) { (void)n; tb_wr32(tap_rec(f, 0) + ECWP_NAME, ECW_NONE); }
static void m_labels_count(uint8_t *f, size_t n) { (void)n; tb_wr32(f + ECWH_N_LABELS, 5); }
static void m_string_no_nul(uint8_t *f, size_t n) {
    (void)n;
    uint64_t so = tb_rd64(f + ECWH_STRINGS_OFF), sb = tb_rd64(f + ECWH_STRINGS_BYTES);
    memset(f + so, 'A', sb); /* no NUL anywhere */
}

static void test_header_and_sections(void **state) {
    (void)state;
    expect(g_file, g_size, EFFCAM_OK, "pristine");
    expect_mut(m_magic, EFFCAM_E_MAGIC, "magic");
    expect_mut(m_version, EFFCAM_E_VERSION, "version");
    expect_mut(m_order, EFFCAM_E_VERSION, "byte order");
    expect_mut(m_hdrbytes, EFFCAM_E_CORRUPT, "header_bytes");
    expect_mut(m_nops0, EFFCAM_E_CORRUPT, "n_ops 0");
    expect_mut(m_nops_huge, EFFCAM_E_CORRUPT, "n_ops huge");
    expect_mut(m_ntensors_huge, EFFCAM_E_CORRUPT, "n_tensors huge");
    expect_mut(m_ops_off_past, EFFCAM_E_CORRUPT, "ops offset past end");
    expect_mut(m_ops_off_wrap, EFFCAM_E_CORRUPT, "ops offset wraps");
    expect_mut(m_ops_misaligned, EFFCAM_E_CORRUPT, "ops misaligned");
    expect_mut(m_overlap, EFFCAM_E_CORRUPT, "overlapping sections");
    expect_mut(m_strings_huge, EFFCAM_E_CORRUPT, "strings size huge");
    expect_mut(m_data_huge, EFFCAM_E_CORRUPT, "data size huge");
    expect_mut(m_input_zero, EFFCAM_E_DIMS, "input 0");
    expect_mut(m_input_huge, EFFCAM_E_DIMS, "input huge");
    expect_mut(m_input_c, EFFCAM_E_UNSUPPORTED, "input channels");
    expect_mut(m_premul_nan, EFFCAM_E_CORRUPT, "NaN preprocessing");
    expect_mut(m_default_tap, EFFCAM_E_CORRUPT, "default tap");
    expect_mut(m_flags, EFFCAM_E_CORRUPT, "flags");
    expect_mut(m_name_str, EFFCAM_E_CORRUPT, "name string");
    expect_mut(m_file_bytes_small, EFFCAM_E_CORRUPT, "file_bytes too small");
    expect_mut(m_string_no_nul, EFFCAM_E_CORRUPT, "strings without NUL");
    /* header CRC not repaired */
    uint8_t *d = dup_exact(g_file, g_size);
    d[ECWH_INPUT_H] ^= 1;
    expect(d, g_size, EFFCAM_E_CHECKSUM, "header crc");
    free(d);
}

static void test_ops_tensors_taps(void **state) {
    (void)state;
    expect_mut(m_op_type, EFFCAM_E_UNSUPPORTED, "op type");
    expect_mut(m_op_act, EFFCAM_E_UNSUPPORTED, "activation");
    expect_mut(m_op_cycle, EFFCAM_E_CORRUPT, "input from a later op (cycle)");
    expect_mut(m_op_self, EFFCAM_E_CORRUPT, "input is own output");
    expect_mut(m_op_negin, EFFCAM_E_CORRUPT, "negative input");
    expect_mut(m_op_cin, EFFCAM_E_CORRUPT, "cin mismatch");
    expect_mut(m_op_kernel0, EFFCAM_E_CORRUPT, "kernel 0");
    expect_mut(m_op_kernel16, EFFCAM_E_CORRUPT, "kernel 16");
    expect_mut(m_op_stride0, EFFCAM_E_CORRUPT, "stride 0");
    expect_mut(m_op_stride9, EFFCAM_E_CORRUPT, "stride 9");
    expect_mut(m_op_pad, EFFCAM_E_CORRUPT, "padding >= kernel");
    expect_mut(m_op_cout_huge, EFFCAM_E_CORRUPT, "cout huge");
    expect_mut(m_op_tensor_idx, EFFCAM_E_CORRUPT, "tensor index");
    expect_mut(m_op_tensor_neg, EFFCAM_E_CORRUPT, "negative tensor index");
    expect_mut(m_op_tensor_slot, EFFCAM_E_CORRUPT, "unused slot set");
    expect_mut(m_op_wrong_tensor, EFFCAM_E_CORRUPT, "tensor of wrong shape");
    expect_mut(m_op_add_in1, EFFCAM_E_CORRUPT, "add without second input");
    expect_mut(m_op_flags, EFFCAM_E_CORRUPT, "op flags");
    expect_mut(m_op_name, EFFCAM_E_CORRUPT, "op name");
    expect_mut(m_last_not_dense, EFFCAM_E_CORRUPT, "last op not dense");
    expect_mut(m_dense_on_map, EFFCAM_E_CORRUPT, "dense on a feature map");
    expect_mut(m_t_dtype, EFFCAM_E_CORRUPT, "dtype");
    expect_mut(m_t_ndim, EFFCAM_E_CORRUPT, "ndim");
    expect_mut(m_t_dim0, EFFCAM_E_CORRUPT, "dim 0");
    expect_mut(m_t_overflow, EFFCAM_E_OVERFLOW, "dims overflow");
    expect_mut(m_t_nbytes, EFFCAM_E_CORRUPT, "nbytes mismatch");
    expect_mut(m_t_offset, EFFCAM_E_CORRUPT, "tensor past data");
    expect_mut(m_t_offset_wrap, EFFCAM_E_CORRUPT, "tensor offset wraps");
    expect_mut(m_t_misaligned, EFFCAM_E_CORRUPT, "tensor misaligned");
    expect_mut(m_tap_value, EFFCAM_E_CORRUPT, "tap on the input");
    expect_mut(m_tap_value_big, EFFCAM_E_CORRUPT, "tap past the ops");
    expect_mut(m_tap_kind, EFFCAM_E_CORRUPT, "tap kind");
    expect_mut(m_tap_prebn_missing, EFFCAM_E_CORRUPT, "pre-BN tap without scale");
    expect_mut(m_tap_prebn_wrong, EFFCAM_E_CORRUPT, "pre-BN tap with wrong tensor");
    expect_mut(m_tap_name, EFFCAM_E_CORRUPT, "tap without name");
    expect_mut(m_labels_count, EFFCAM_E_CORRUPT, "label count");
}

/* Weight tensors (t0 of conv2d / dwconv / pwconv / dense, t0 and t2 of se)
 * may each be f16 or f32, their nbytes must match their own dtype; biases
 * and pre-BN scale / shift stay f32. Tensor indices of tb_build_tiny: 0 stem
 * weights, 1 stem bias, 4 / 6 se W1 / W2, 18 pre-BN scale. */
static void retype(uint8_t *f, int t, int dtype, int fix_nbytes) {
    uint8_t *r = t_rec(f, t);
    uint64_t nb = tb_rd64(r + ECWT_NBYTES);
    if (fix_nbytes) nb = tb_rd32(r + ECWT_DTYPE) == ECW_F32 ? nb / 2 : nb * 2;
    tb_wr32(r + ECWT_DTYPE, (uint32_t)dtype);
    tb_wr64(r + ECWT_NBYTES, nb);
}
static void m_w0_f16_same_nbytes(uint8_t *f, size_t n) { (void)n; retype(f, 0, ECW_F16, 0); }
static void m_w0_f16(uint8_t *f, size_t n) { (void)n; retype(f, 0, ECW_F16, 1); }
static void m_se_w2_f16(uint8_t *f, size_t n) { (void)n; retype(f, 6, ECW_F16, 1); }
static void m_bias_f16(uint8_t *f, size_t n) { (void)n; retype(f, 1, ECW_F16, 1); }
static void m_scale_f16(uint8_t *f, size_t n) { (void)n; retype(f, 18, ECW_F16, 1); }
static void m_f16_w0_f32_same_nbytes(uint8_t *f, size_t n) { (void)n; retype(f, 0, ECW_F32, 0); }

static void test_weight_dtypes(void **state) {
    (void)state;
    uint8_t *f32, *mixed;
    size_t n32, nmx;
    tb_build_tiny_weights(7, 32, 32, 6, TB_WEIGHTS_F32, &f32, &n32);
    tb_build_tiny_weights(7, 32, 32, 6, TB_WEIGHTS_MIXED, &mixed, &nmx);
    effcam_error err;
    assert_int_equal(try_load(f32, n32, &err), EFFCAM_OK);
    assert_int_equal(try_load(mixed, nmx, &err), EFFCAM_OK);
    expect_mut_of(f32, n32, m_w0_f16_same_nbytes, EFFCAM_E_CORRUPT, "f32 weights relabelled f16, nbytes of f32");
    expect_mut_of(f32, n32, m_w0_f16, EFFCAM_OK, "conv2d weights f16 in an f32 model");
    expect_mut_of(f32, n32, m_se_w2_f16, EFFCAM_OK, "se W2 f16, W1 f32");
    expect_mut_of(f32, n32, m_bias_f16, EFFCAM_E_CORRUPT, "f16 bias");
    expect_mut_of(f32, n32, m_scale_f16, EFFCAM_E_CORRUPT, "f16 pre-BN scale");
    expect_mut(m_f16_w0_f32_same_nbytes, EFFCAM_E_CORRUPT, "f16 weights relabelled f32, nbytes of f16");
    free(f32);
    free(mixed);
}

static void test_body_checksum(void **state) {
    (void)state;
    uint8_t *d = dup_exact(g_file, g_size);
    d[g_size - 100] ^= 0x40; /* a weight byte */
    effcam_model *m;
    effcam_error err;
    assert_int_equal(effcam_load_memory(d, g_size, NULL, 0, NULL, 0, &m, NULL, &err), EFFCAM_E_CHECKSUM);
    assert_int_equal(effcam_load_memory(d, g_size, NULL, EFFCAM_LOAD_NO_CHECKSUM, NULL, 0, &m, NULL, &err), EFFCAM_OK);
    effcam_free(m);
    free(d);
}

/* Truncated at every length: the header declares more than is present. */
static void test_truncated_everywhere(void **state) {
    (void)state;
    for (size_t n = 0; n < g_size; n++) {
        uint8_t *d = dup_exact(g_file, n);
        effcam_error err;
        effcam_status st = try_plan(d, n, &err);
        if (st != EFFCAM_E_TRUNCATED) fail_msg("truncated to %zu of %zu: %s (%s)", n, g_size, effcam_strerror(st), err.message);
        free(d);
    }
    /* ... and with the header rewritten to claim the shorter length, every
     * section boundary and some points inside each are refused as corrupt */
    for (size_t n = ECW_HEADER_BYTES; n < g_size; n += 7) {
        uint8_t *d = dup_exact(g_file, n);
        tb_wr64(d + ECWH_FILE_BYTES, n);
        tb_fix_crcs(d, n);
        effcam_error err;
        effcam_status st = try_plan(d, n, &err);
        if (st == EFFCAM_OK) fail_msg("file cut to %zu bytes with a consistent header was accepted", n);
        free(d);
    }
}

/* Random corruption with repaired CRCs: anything goes except a crash. If
 * the file still validates, it must also load and predict inside the plan
 * (ASan watches the exactly-sized arena). */
static void test_random_mutations(void **state) {
    (void)state;
    tu_rng r;
    tu_seed(&r, 2024);
    int accepted = 0;
    for (int it = 0; it < 3000; it++) {
        uint8_t *d = dup_exact(g_file, g_size);
        int flips = tu_int(&r, 1, 4);
        for (int k = 0; k < flips; k++) {
            size_t pos = it % 3 == 0 ? (size_t)tu_int(&r, 0, (int)g_size - 1)
                                     : (size_t)tu_int(&r, 0, (int)(tb_rd64(g_file + ECWH_DATA_OFF)) - 1);
            d[pos] = (uint8_t)tu_next(&r);
        }
        tb_fix_crcs(d, g_size);
        effcam_error err;
        effcam_status st = try_load(d, g_size, &err);
        if (st == EFFCAM_OK) accepted++;
        else assert_true(strlen(err.message) > 0 || st == EFFCAM_E_DIMS);
        free(d);
    }
    fprintf(stderr, "random mutations: %d of 3000 still valid (loaded and ran)\n", accepted);
}

static void test_absurd_requests(void **state) {
    (void)state;
    effcam_plan p;
    effcam_error err;
    effcam_spec s = {.height = 100000, .width = 5};
    assert_int_equal(effcam_plan_memory(g_file, g_size, &s, 0, &p, &err), EFFCAM_E_DIMS);
    s.height = -3;
    assert_int_equal(effcam_plan_memory(g_file, g_size, &s, 0, &p, &err), EFFCAM_E_DIMS);
    s.height = 1; s.width = 1; /* too small for the 5x5 stride-2 kernel after the stem */
    assert_int_equal(effcam_plan_memory(g_file, g_size, &s, 0, &p, &err), EFFCAM_E_DIMS);
    effcam_spec l = {.layer = "no_such_layer"};
    assert_int_equal(effcam_plan_memory(g_file, g_size, &l, 0, &p, &err), EFFCAM_E_LAYER);
    assert_non_null(strstr(err.message, "no_such_layer"));
    effcam_spec md = {.mode = (effcam_mode)7};
    assert_int_equal(effcam_plan_memory(g_file, g_size, &md, 0, &p, &err), EFFCAM_E_ARG);
    assert_int_equal(effcam_plan_memory(NULL, 10, NULL, 0, &p, &err), EFFCAM_E_ARG);
    assert_int_equal(effcam_plan_file("/nonexistent.ecw", NULL, 0, &p, &err), EFFCAM_E_IO);
    assert_int_equal(effcam_plan_file("/tmp", NULL, 0, &p, &err), EFFCAM_E_IO);
    /* every status has a string */
    for (int i = 0; i < EFFCAM_STATUS_COUNT; i++) assert_non_null(effcam_strerror((effcam_status)i));
    assert_string_equal(effcam_strerror((effcam_status)999), "unknown status code");
}

/* crc32.c's folded CRC == zlib's crc32 on random buffers: every length
 * 0..300 and some long ones, at 16 byte offsets, from several starting
 * values (0, all ones, random), and split into two calls. */
static void test_crc32_fast(void **state) {
    (void)state;
    const size_t N = 70000;
    uint8_t *buf = malloc(N + 16);
    assert_non_null(buf);
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < N + 16; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        buf[i] = (uint8_t)s;
    }
    const uint32_t starts[3] = {0u, 0xFFFFFFFFu, 0x1234ABCDu};
    size_t lens[340];
    int nl = 0;
    for (size_t n = 0; n <= 300; n++) lens[nl++] = n;
    const size_t big[] = {1000, 4095, 4096, 4097, 65536, 65537, 69999, 70000};
    for (size_t k = 0; k < sizeof big / sizeof big[0]; k++) lens[nl++] = big[k];
    int checked = 0;
    for (int li = 0; li < nl; li++)
        for (size_t off = 0; off < 16; off += (lens[li] > 4096 ? 5 : 1))
            for (int si = 0; si < 3; si++) {
                const uint8_t *p = buf + off;
                const size_t n = lens[li];
                uint32_t want = (uint32_t)crc32(starts[si], p, (uInt)n);
                uint32_t got = ec_crc32_update(starts[si], p, n, 1);
                if (got != want) fail_msg("crc32 n %zu off %zu start %08x: %08x, zlib %08x", n, off, starts[si], got, want);
                uint32_t two = ec_crc32_update(ec_crc32_update(starts[si], p, n / 3, 1), p + n / 3, n - n / 3, 1);
                assert_int_equal(two, want);
                checked++;
            }
    assert_int_equal(ec_crc32(buf, N), (uint32_t)crc32(0, buf, (uInt)N));
    /* 1 MiB and more: one part per thread, joined */
    const size_t M = (3u << 20) + 77;
    uint8_t *huge = malloc(M);
    assert_non_null(huge);
    for (size_t i = 0; i < M; i++) huge[i] = buf[i % N] ^ (uint8_t)(i >> 16);
    const uint32_t want = (uint32_t)crc32(0, huge, (uInt)M);
    for (int t = 1; t <= 3; t++) {
        effcam_set_threads(t);
        assert_int_equal(ec_crc32(huge, M), want);
        assert_int_equal(ec_crc32(huge + 1, M - 1), (uint32_t)crc32(0, huge + 1, (uInt)(M - 1)));
    }
    effcam_set_threads(1);
    free(huge);
    print_message("crc32: %d cases equal to zlib's\n", checked);
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32_fast),
        cmocka_unit_test(test_header_and_sections),
        cmocka_unit_test(test_ops_tensors_taps),
        cmocka_unit_test(test_weight_dtypes),
        cmocka_unit_test(test_body_checksum),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_random_mutations),
        cmocka_unit_test(test_absurd_requests),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
