#include "ecw_build.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <zlib.h>

#include "ecw_format.h"
#include "ops/ops.h"

typedef struct tb_tensor_rec { int dtype, ndim, dims[4]; uint8_t *data; size_t nbytes; } tb_tensor_rec;
typedef struct tb_tap_rec { uint32_t name; int value, kind, scale_t, shift_t; } tb_tap_rec;

struct tb_builder {
    int h, w;
    uint8_t ops[ECW_MAX_OPS][ECW_OP_BYTES];
    int n_ops;
    tb_tensor_rec tensors[512];
    int n_tensors;
    tb_tap_rec taps[64];
    int n_taps;
    uint32_t labels[256];
    int n_labels;
    char strings[16384];
    uint32_t strings_bytes;
};

uint32_t tb_rd32(const uint8_t *p) { return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24); }
uint64_t tb_rd64(const uint8_t *p) { return (uint64_t)tb_rd32(p) | ((uint64_t)tb_rd32(p + 4) << 32); }
void tb_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
void tb_wr32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
void tb_wr64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static uint32_t crc(const uint8_t *p, size_t n) { return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n); }

void tb_fix_crcs(uint8_t *f, size_t size) {
    uint64_t fb = tb_rd64(f + ECWH_FILE_BYTES);
    if (fb > size) fb = size;
    if (fb >= ECW_HEADER_BYTES) tb_wr32(f + ECWH_BODY_CRC, crc(f + ECW_HEADER_BYTES, (size_t)(fb - ECW_HEADER_BYTES)));
    tb_wr32(f + ECWH_HEADER_CRC, crc(f, ECWH_HEADER_CRC));
}

static uint32_t str(tb_builder *b, const char *s) {
    if (!s) return ECW_NONE;
    uint32_t off = b->strings_bytes;
    size_t n = strlen(s) + 1;
    memcpy(b->strings + off, s, n);
    b->strings_bytes += (uint32_t)n;
    return off;
}

tb_builder *tb_new(int h, int w) {
    tb_builder *b = calloc(1, sizeof *b);
    b->h = h;
    b->w = w;
    return b;
}

void tb_free(tb_builder *b) {
    if (!b) return;
    for (int i = 0; i < b->n_tensors; i++) free(b->tensors[i].data);
    free(b);
}

int tb_tensor(tb_builder *b, tu_rng *r, int dtype, int ndim, const int *dims, float lo, float hi) {
    tb_tensor_rec *t = &b->tensors[b->n_tensors];
    t->dtype = dtype;
    t->ndim = ndim;
    size_t n = 1;
    for (int k = 0; k < 4; k++) {
        t->dims[k] = k < ndim ? dims[k] : 1;
        n *= (size_t)t->dims[k];
    }
    t->nbytes = n * (dtype == ECW_F16 ? 2 : 4);
    t->data = malloc(t->nbytes);
    for (size_t i = 0; i < n; i++) {
        float v = tu_uniform(r, lo, hi);
        if (dtype == ECW_F16) tb_wr16(t->data + 2 * i, ec_f32_to_f16(v));
        else memcpy(t->data + 4 * i, &v, 4);
    }
    return b->n_tensors++;
}

int tb_op(tb_builder *b, int type, int act, int act2, int flags, int in0, int in1, int kh, int kw, int sh, int sw, int pt,
          int pl, int pb, int pr, int cin, int cout, int cmid, int t0, int t1, int t2, int t3, const char *name) {
    uint8_t *r = b->ops[b->n_ops];
    memset(r, 0, ECW_OP_BYTES);
    tb_wr16(r + ECWO_TYPE, (uint16_t)type);
    r[ECWO_ACT] = (uint8_t)act;
    r[ECWO_ACT2] = (uint8_t)act2;
    tb_wr32(r + ECWO_FLAGS, (uint32_t)flags);
    tb_wr32(r + ECWO_IN0, (uint32_t)in0);
    tb_wr32(r + ECWO_IN1, (uint32_t)in1);
    int g[8] = {kh, kw, sh, sw, pt, pl, pb, pr};
    for (int k = 0; k < 8; k++) tb_wr16(r + ECWO_KH + 2 * k, (uint16_t)g[k]);
    tb_wr32(r + ECWO_CIN, (uint32_t)cin);
    tb_wr32(r + ECWO_COUT, (uint32_t)cout);
    tb_wr32(r + ECWO_CMID, (uint32_t)cmid);
    int t[4] = {t0, t1, t2, t3};
    for (int k = 0; k < 4; k++) tb_wr32(r + ECWO_T0 + 4 * k, (uint32_t)t[k]);
    tb_wr32(r + ECWO_NAME, str(b, name));
    return ++b->n_ops;
}

void tb_tap(tb_builder *b, const char *name, int value, int kind, int scale_t, int shift_t) {
    tb_tap_rec *t = &b->taps[b->n_taps++];
    t->name = str(b, name);
    t->value = value;
    t->kind = kind;
    t->scale_t = scale_t;
    t->shift_t = shift_t;
}

void tb_label(tb_builder *b, const char *label) { b->labels[b->n_labels++] = str(b, label); }

static size_t al(size_t n) { return (n + 63) & ~(size_t)63; }

int tb_finish(tb_builder *b, int default_tap, uint8_t **out, size_t *size) {
    uint32_t name = str(b, "tiny-test");
    size_t ops_off = ECW_HEADER_BYTES;
    size_t t_off = al(ops_off + (size_t)b->n_ops * ECW_OP_BYTES);
    size_t taps_off = al(t_off + (size_t)b->n_tensors * ECW_TENSOR_BYTES);
    size_t lab_off = al(taps_off + (size_t)b->n_taps * ECW_TAP_BYTES);
    size_t s_off = al(lab_off + (size_t)b->n_labels * 4);
    size_t d_off = al(s_off + b->strings_bytes);
    size_t d_bytes = 0;
    for (int i = 0; i < b->n_tensors; i++) d_bytes = al(d_bytes) + b->tensors[i].nbytes;
    d_bytes = al(d_bytes);
    size_t fb = d_off + d_bytes;
    uint8_t *f = aligned_alloc(64, al(fb));
    memset(f, 0, al(fb));
    memcpy(f, ECW_MAGIC, 8);
    tb_wr32(f + ECWH_VERSION, ECW_VERSION);
    tb_wr32(f + ECWH_BYTE_ORDER, ECW_BYTE_ORDER);
    tb_wr32(f + ECWH_HEADER_BYTES, ECW_HEADER_BYTES);
    tb_wr64(f + ECWH_FILE_BYTES, fb);
    tb_wr32(f + ECWH_N_OPS, (uint32_t)b->n_ops);
    tb_wr32(f + ECWH_N_TENSORS, (uint32_t)b->n_tensors);
    tb_wr32(f + ECWH_N_TAPS, (uint32_t)b->n_taps);
    tb_wr32(f + ECWH_N_LABELS, (uint32_t)b->n_labels);
    tb_wr64(f + ECWH_OPS_OFF, ops_off);
    tb_wr64(f + ECWH_TENSORS_OFF, t_off);
    tb_wr64(f + ECWH_TAPS_OFF, taps_off);
    tb_wr64(f + ECWH_LABELS_OFF, lab_off);
    tb_wr64(f + ECWH_STRINGS_OFF, s_off);
    tb_wr64(f + ECWH_STRINGS_BYTES, b->strings_bytes);
    tb_wr64(f + ECWH_DATA_OFF, d_off);
    tb_wr64(f + ECWH_DATA_BYTES, d_bytes);
    tb_wr32(f + ECWH_INPUT_H, (uint32_t)b->h);
    tb_wr32(f + ECWH_INPUT_W, (uint32_t)b->w);
    tb_wr32(f + ECWH_INPUT_C, 3);
    float mul = 1.0f / 127.5f, add = -1.0f;
    for (int c = 0; c < 3; c++) {
        memcpy(f + ECWH_PRE_MUL + 4 * c, &mul, 4);
        memcpy(f + ECWH_PRE_ADD + 4 * c, &add, 4);
    }
    tb_wr32(f + ECWH_DEFAULT_TAP, default_tap < 0 ? ECW_NONE : (uint32_t)default_tap);
    tb_wr32(f + ECWH_NAME, name);
    memcpy(f + ops_off, b->ops, (size_t)b->n_ops * ECW_OP_BYTES);
    size_t doff = 0;
    for (int i = 0; i < b->n_tensors; i++) {
        tb_tensor_rec *t = &b->tensors[i];
        doff = al(doff);
        uint8_t *r = f + t_off + (size_t)i * ECW_TENSOR_BYTES;
        tb_wr32(r + ECWT_DTYPE, (uint32_t)t->dtype);
        tb_wr32(r + ECWT_NDIM, (uint32_t)t->ndim);
        for (int k = 0; k < 4; k++) tb_wr32(r + ECWT_DIMS + 4 * k, (uint32_t)t->dims[k]);
        tb_wr64(r + ECWT_OFFSET, doff);
        tb_wr64(r + ECWT_NBYTES, t->nbytes);
        tb_wr32(r + ECWT_NAME, ECW_NONE);
        memcpy(f + d_off + doff, t->data, t->nbytes);
        doff += t->nbytes;
    }
    for (int i = 0; i < b->n_taps; i++) {
        uint8_t *r = f + taps_off + (size_t)i * ECW_TAP_BYTES;
        tb_wr32(r + ECWP_NAME, b->taps[i].name);
        tb_wr32(r + ECWP_VALUE, (uint32_t)b->taps[i].value);
        tb_wr32(r + ECWP_KIND, (uint32_t)b->taps[i].kind);
        tb_wr32(r + ECWP_SCALE, (uint32_t)b->taps[i].scale_t);
        tb_wr32(r + ECWP_SHIFT, (uint32_t)b->taps[i].shift_t);
    }
    for (int i = 0; i < b->n_labels; i++) tb_wr32(f + lab_off + 4 * (size_t)i, b->labels[i]);
    memcpy(f + s_off, b->strings, b->strings_bytes);
    tb_fix_crcs(f, fb);
    *out = f;
    *size = fb;
    return 0;
}

/* dtype of the k-th weight tensor of the tiny model (in creation order) */
static int tiny_wdt(int weights, int k) {
    static const int mixed_f32 = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 4) | (1 << 9);
    if (weights == TB_WEIGHTS_F32) return ECW_F32;
    if (weights == TB_WEIGHTS_MIXED) return (mixed_f32 >> k) & 1 ? ECW_F32 : ECW_F16;
    return ECW_F16;
}

int tb_build_tiny(uint64_t seed, int h, int w, int classes, uint8_t **out, size_t *size) {
    return tb_build_tiny_weights(seed, h, w, classes, TB_WEIGHTS_F16, out, size);
}

int tb_build_tiny_weights(uint64_t seed, int h, int w, int classes, int weights, uint8_t **out, size_t *size) {
    tu_rng r;
    tu_seed(&r, seed);
    tb_builder *b = tb_new(h, w);
    const float wl = -0.35f, wh = 0.35f;
    int k = 0; /* weight tensors made so far */
    int d4[4], d3[3], d2[2], d1[1];
    /* stem: conv2d 3x3 s2 same, 3 -> 8, silu */
    d4[0] = 8; d4[1] = 3; d4[2] = 3; d4[3] = 3;
    int t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 4, d4, wl, wh);
    d1[0] = 8;
    int t1 = tb_tensor(b, &r, ECW_F32, 1, d1, -0.1f, 0.1f);
    int stem = tb_op(b, ECW_OP_CONV2D, ECW_ACT_SILU, 0, ECW_OPF_PAD_SAME, 0, -1, 3, 3, 2, 2, 0, 0, 0, 0, 3, 8, 0, t0, t1, -1, -1, "stem");
    /* dwconv 3x3 s1 pad 1, silu */
    d3[0] = 3; d3[1] = 3; d3[2] = 8;
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 3, d3, wl * 2, wh * 2);
    t1 = tb_tensor(b, &r, ECW_F32, 1, d1, -0.1f, 0.1f);
    int dw = tb_op(b, ECW_OP_DWCONV, ECW_ACT_SILU, 0, 0, stem, -1, 3, 3, 1, 1, 1, 1, 1, 1, 8, 8, 0, t0, t1, -1, -1, "b1_dw");
    /* se 8 -> 2 -> 8 */
    d2[0] = 2; d2[1] = 8;
    int s0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    int c2[1] = {2};
    int s1 = tb_tensor(b, &r, ECW_F32, 1, c2, -0.1f, 0.1f);
    d2[0] = 8; d2[1] = 2;
    int s2 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    int s3 = tb_tensor(b, &r, ECW_F32, 1, d1, -0.1f, 0.1f);
    int se = tb_op(b, ECW_OP_SE, ECW_ACT_SILU, ECW_ACT_SIGMOID, 0, dw, -1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 8, 2, s0, s1, s2, s3, "b1_se");
    /* project pwconv 8 -> 8 (no act), residual add with stem */
    d2[0] = 8; d2[1] = 8;
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    t1 = tb_tensor(b, &r, ECW_F32, 1, d1, -0.1f, 0.1f);
    int proj = tb_op(b, ECW_OP_PWCONV, 0, 0, 0, se, -1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 8, 0, t0, t1, -1, -1, "b1_project");
    int add1 = tb_op(b, ECW_OP_ADD, 0, 0, 0, proj, stem, 1, 1, 1, 1, 0, 0, 0, 0, 8, 8, 0, -1, -1, -1, -1, "b1_add");
    /* expand pwconv 8 -> 16 relu6, dwconv 5x5 s2 pad (1,2,2,1) hswish, project 16 -> 12 */
    d2[0] = 16; d2[1] = 8;
    int c16[1] = {16};
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    t1 = tb_tensor(b, &r, ECW_F32, 1, c16, -0.1f, 0.1f);
    int ex = tb_op(b, ECW_OP_PWCONV, ECW_ACT_RELU6, 0, 0, add1, -1, 1, 1, 1, 1, 0, 0, 0, 0, 8, 16, 0, t0, t1, -1, -1, "b2_expand");
    d3[0] = 5; d3[1] = 5; d3[2] = 16;
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 3, d3, wl, wh);
    t1 = tb_tensor(b, &r, ECW_F32, 1, c16, -0.1f, 0.1f);
    int dw2 = tb_op(b, ECW_OP_DWCONV, ECW_ACT_HSWISH, 0, 0, ex, -1, 5, 5, 2, 2, 1, 2, 2, 1, 16, 16, 0, t0, t1, -1, -1, "b2_dw");
    d2[0] = 12; d2[1] = 16;
    int c12[1] = {12};
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    t1 = tb_tensor(b, &r, ECW_F32, 1, c12, -0.1f, 0.1f);
    int p2 = tb_op(b, ECW_OP_PWCONV, 0, 0, 0, dw2, -1, 1, 1, 1, 1, 0, 0, 0, 0, 16, 12, 0, t0, t1, -1, -1, "b2_project");
    /* top: conv2d 3x3 s1 explicit pad 1 (12 -> 20) silu, with a pre-BN tap */
    d4[0] = 20; d4[1] = 3; d4[2] = 3; d4[3] = 12;
    int c20[1] = {20};
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 4, d4, wl * 0.5f, wh * 0.5f);
    t1 = tb_tensor(b, &r, ECW_F32, 1, c20, -0.1f, 0.1f);
    int top = tb_op(b, ECW_OP_CONV2D, ECW_ACT_SILU, 0, 0, p2, -1, 3, 3, 1, 1, 1, 1, 1, 1, 12, 20, 0, t0, t1, -1, -1, "top_conv");
    int bn_scale = tb_tensor(b, &r, ECW_F32, 1, c20, 0.5f, 1.5f);
    int bn_shift = tb_tensor(b, &r, ECW_F32, 1, c20, -0.2f, 0.2f);
    int act = tb_op(b, ECW_OP_ACT, ECW_ACT_RELU, 0, 0, top, -1, 1, 1, 1, 1, 0, 0, 0, 0, 20, 20, 0, -1, -1, -1, -1, "top_relu");
    int gap = tb_op(b, ECW_OP_GAP, 0, 0, 0, act, -1, 1, 1, 1, 1, 0, 0, 0, 0, 20, 20, 0, -1, -1, -1, -1, "pool");
    d2[0] = 10; d2[1] = 20;
    int c10[1] = {10};
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, wl, wh);
    t1 = tb_tensor(b, &r, ECW_F32, 1, c10, -0.1f, 0.1f);
    int fc1 = tb_op(b, ECW_OP_DENSE, ECW_ACT_HSWISH, 0, 0, gap, -1, 1, 1, 1, 1, 0, 0, 0, 0, 20, 10, 0, t0, t1, -1, -1, "fc1");
    d2[0] = classes; d2[1] = 10;
    int cc[1] = {classes};
    t0 = tb_tensor(b, &r, tiny_wdt(weights, k++), 2, d2, -1.5f, 1.5f);
    t1 = tb_tensor(b, &r, ECW_F32, 1, cc, -0.5f, 0.5f);
    tb_op(b, ECW_OP_DENSE, 0, 0, 0, fc1, -1, 1, 1, 1, 1, 0, 0, 0, 0, 10, classes, 0, t0, t1, -1, -1, "logits");
    tb_tap(b, "stem", stem, ECW_TAP_OUTPUT, -1, -1);
    tb_tap(b, "block1", add1, ECW_TAP_OUTPUT, -1, -1);
    tb_tap(b, "top_conv", top, ECW_TAP_PRE_BN, bn_scale, bn_shift);
    tb_tap(b, "top_bn", top, ECW_TAP_PREACT, -1, -1);
    tb_tap(b, "top", act, ECW_TAP_OUTPUT, -1, -1);
    tb_tap(b, "pool", gap, ECW_TAP_OUTPUT, -1, -1);
    /* the SE output: a tap keeps it materialised (not folded into b1_project) */
    tb_tap(b, "b1_se", se, ECW_TAP_OUTPUT, -1, -1);
    /* the projection's output: a tap keeps it materialised (the residual
     * add b1_add is not folded into b1_project) */
    tb_tap(b, "b1_project", proj, ECW_TAP_OUTPUT, -1, -1);
    /* the add's pre-activation (equal to its output: no activation): the
     * add writes it, so this tap keeps the add unfolded too */
    tb_tap(b, "block1_pre", add1, ECW_TAP_PREACT, -1, -1);
    for (int c = 0; c < classes; c++) {
        char nm[32];
        snprintf(nm, sizeof nm, "class %d", c);
        tb_label(b, nm);
    }
    int rc = tb_finish(b, 4, out, size);
    tb_free(b);
    return rc;
}
