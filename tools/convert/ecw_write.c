/* In-memory .ecw writer (see ecw_write.h and docs/FORMAT.md). */
#include "ecw_write.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ecw_format.h"
#include "pb.h"

static void w16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void w32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void w64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void wf(uint8_t *p, float f) { uint32_t u; memcpy(&u, &f, 4); w32(p, u); }
static uint64_t al(uint64_t n) { return (n + 63) & ~(uint64_t)63; }

uint16_t ew_f64_to_f16(double x) {
    uint16_t sign = signbit(x) ? 0x8000 : 0;
    if (isnan(x)) return (uint16_t)(sign | 0x7e00);
    double a = fabs(x);
    if (a >= 65520.0) return (uint16_t)(sign | 0x7c00);
    if (a < 6.103515625e-05) { /* subnormal: units of 2^-24 */
        double r = nearbyint(a * 16777216.0);
        return (uint16_t)(sign | (uint16_t)r);
    }
    int e;
    double f = frexp(a, &e); /* a = f * 2^e, f in [0.5, 1) */
    double r = nearbyint(ldexp(f, 11)); /* 1024 .. 2048 */
    int E = e - 1 + 15;
    if (r >= 2048) { r = 1024; E++; }
    if (E >= 31) return (uint16_t)(sign | 0x7c00);
    return (uint16_t)(sign | (E << 10) | ((int)r - 1024));
}

static effcam_status str_len(const char *s, uint64_t *total, const char *what, effcam_error *err) {
    if (!s) return EFFCAM_OK;
    size_t n = strlen(s);
    if (n >= ECW_MAX_STRING) return cv_fail(err, EFFCAM_E_DIMS, "%s '%.40s...' is longer than %u bytes", what, s, ECW_MAX_STRING - 1);
    *total += n + 1;
    return EFFCAM_OK;
}

static uint32_t put_str(uint8_t *f, uint64_t s_off, uint64_t *at, const char *s) {
    if (!s) return ECW_NONE;
    size_t n = strlen(s) + 1;
    uint32_t o = (uint32_t)*at;
    memcpy(f + s_off + *at, s, n);
    *at += n;
    return o;
}

effcam_status ew_write(const ew_model *m, uint8_t **out, size_t *size, effcam_error *err) {
    *out = NULL;
    *size = 0;
    if (m->n_ops < 1 || (unsigned)m->n_ops > ECW_MAX_OPS) return cv_fail(err, EFFCAM_E_DIMS, "%d ops (1..%u)", m->n_ops, ECW_MAX_OPS);
    if ((unsigned)m->n_tensors > ECW_MAX_TENSORS) return cv_fail(err, EFFCAM_E_DIMS, "%d tensors (at most %u)", m->n_tensors, ECW_MAX_TENSORS);
    if ((unsigned)m->n_taps > ECW_MAX_TAPS) return cv_fail(err, EFFCAM_E_DIMS, "%d taps (at most %u)", m->n_taps, ECW_MAX_TAPS);
    if ((unsigned)m->n_labels > ECW_MAX_LABELS) return cv_fail(err, EFFCAM_E_DIMS, "%d labels (at most %u)", m->n_labels, ECW_MAX_LABELS);
    uint64_t sbytes = 0;
    if (str_len(m->name, &sbytes, "model name", err)) return err->status;
    for (int i = 0; i < m->n_ops; i++)
        if (str_len(m->ops[i].name, &sbytes, "op name", err)) return err->status;
    for (int i = 0; i < m->n_taps; i++)
        if (str_len(m->taps[i].name, &sbytes, "tap name", err)) return err->status;
    for (int i = 0; i < m->n_labels; i++)
        if (str_len(m->labels[i], &sbytes, "label", err)) return err->status;
    if (sbytes > 0xFFFFFFF0u) return cv_fail(err, EFFCAM_E_OVERFLOW, "string section too large");
    uint64_t d_bytes = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ew_tensor *t = &m->tensors[i];
        if (t->ndim < 1 || t->ndim > 4 || (t->dtype != ECW_F16 && t->dtype != ECW_F32))
            return cv_fail(err, EFFCAM_E_ARG, "tensor %d: ndim %d dtype %d", i, t->ndim, t->dtype);
        uint64_t n = 1;
        for (int k = 0; k < t->ndim; k++) {
            if (t->dims[k] < 1 || t->dims[k] > (1 << 24)) return cv_fail(err, EFFCAM_E_DIMS, "tensor %d: dim %d", i, t->dims[k]);
            n *= (uint64_t)t->dims[k];
            if (n > (1ull << 31)) return cv_fail(err, EFFCAM_E_OVERFLOW, "tensor %d: too many elements", i);
        }
        d_bytes = al(d_bytes) + n * (t->dtype == ECW_F16 ? 2u : 4u);
    }
    d_bytes = al(d_bytes);
    uint64_t ops_off = ECW_HEADER_BYTES;
    uint64_t t_off = al(ops_off + (uint64_t)m->n_ops * ECW_OP_BYTES);
    uint64_t taps_off = al(t_off + (uint64_t)m->n_tensors * ECW_TENSOR_BYTES);
    uint64_t lab_off = al(taps_off + (uint64_t)m->n_taps * ECW_TAP_BYTES);
    uint64_t s_off = al(lab_off + (uint64_t)m->n_labels * ECW_LABEL_BYTES);
    uint64_t d_off = al(s_off + sbytes);
    uint64_t fb = d_off + d_bytes;
    if (fb > (uint64_t)SIZE_MAX / 2 || fb > (1ull << 34)) return cv_fail(err, EFFCAM_E_OVERFLOW, "output of %llu bytes", (unsigned long long)fb);
    uint8_t *f = calloc(1, (size_t)fb);
    if (!f) return cv_fail(err, EFFCAM_E_NOMEM, "out of memory for %llu bytes", (unsigned long long)fb);
    memcpy(f, ECW_MAGIC, 8);
    w32(f + ECWH_VERSION, ECW_VERSION);
    w32(f + ECWH_BYTE_ORDER, ECW_BYTE_ORDER);
    w32(f + ECWH_HEADER_BYTES, ECW_HEADER_BYTES);
    w32(f + ECWH_FLAGS, m->flags);
    w64(f + ECWH_FILE_BYTES, fb);
    w32(f + ECWH_N_OPS, (uint32_t)m->n_ops);
    w32(f + ECWH_N_TENSORS, (uint32_t)m->n_tensors);
    w32(f + ECWH_N_TAPS, (uint32_t)m->n_taps);
    w32(f + ECWH_N_LABELS, (uint32_t)m->n_labels);
    w64(f + ECWH_OPS_OFF, ops_off);
    w64(f + ECWH_TENSORS_OFF, t_off);
    w64(f + ECWH_TAPS_OFF, taps_off);
    w64(f + ECWH_LABELS_OFF, lab_off);
    w64(f + ECWH_STRINGS_OFF, s_off);
    w64(f + ECWH_STRINGS_BYTES, sbytes);
    w64(f + ECWH_DATA_OFF, d_off);
    w64(f + ECWH_DATA_BYTES, d_bytes);
    w32(f + ECWH_INPUT_H, (uint32_t)m->input_h);
    w32(f + ECWH_INPUT_W, (uint32_t)m->input_w);
    w32(f + ECWH_INPUT_C, 3);
    w32(f + ECWH_CHANNEL_ORDER, 0);
    for (int c = 0; c < 3; c++) {
        wf(f + ECWH_PRE_MUL + 4 * c, m->pre_mul[c]);
        wf(f + ECWH_PRE_ADD + 4 * c, m->pre_add[c]);
    }
    w32(f + ECWH_RESIZE_POLICY, (uint32_t)m->resize_policy);
    w32(f + ECWH_RESIZE_FILTER, (uint32_t)m->resize_filter);
    w32(f + ECWH_CROP_NUM, (uint32_t)m->crop_num);
    w32(f + ECWH_CROP_DEN, (uint32_t)m->crop_den);
    w32(f + ECWH_DEFAULT_TAP, m->default_tap < 0 ? ECW_NONE : (uint32_t)m->default_tap);
    w32(f + ECWH_SOURCE, (uint32_t)m->source);
    uint64_t sat = 0;
    w32(f + ECWH_NAME, put_str(f, s_off, &sat, m->name));
    for (int i = 0; i < m->n_ops; i++) {
        const ew_op *o = &m->ops[i];
        uint8_t *r = f + ops_off + (uint64_t)i * ECW_OP_BYTES;
        w16(r + ECWO_TYPE, (uint16_t)o->type);
        r[ECWO_ACT] = (uint8_t)o->act;
        r[ECWO_ACT2] = (uint8_t)o->act2;
        w32(r + ECWO_FLAGS, o->flags);
        w32(r + ECWO_IN0, (uint32_t)o->in0);
        w32(r + ECWO_IN1, (uint32_t)o->in1);
        int g[8] = {o->kh, o->kw, o->sh, o->sw, o->pad[0], o->pad[1], o->pad[2], o->pad[3]};
        for (int k = 0; k < 8; k++) w16(r + ECWO_KH + 2 * k, (uint16_t)g[k]);
        w32(r + ECWO_CIN, (uint32_t)o->cin);
        w32(r + ECWO_COUT, (uint32_t)o->cout);
        w32(r + ECWO_CMID, (uint32_t)o->cmid);
        for (int k = 0; k < 4; k++) w32(r + ECWO_T0 + 4 * k, (uint32_t)o->t[k]);
        w32(r + ECWO_NAME, put_str(f, s_off, &sat, o->name));
    }
    uint64_t doff = 0;
    for (int i = 0; i < m->n_tensors; i++) {
        const ew_tensor *t = &m->tensors[i];
        uint64_t n = 1;
        for (int k = 0; k < t->ndim; k++) n *= (uint64_t)t->dims[k];
        doff = al(doff);
        uint64_t es = t->dtype == ECW_F16 ? 2 : 4;
        uint8_t *r = f + t_off + (uint64_t)i * ECW_TENSOR_BYTES;
        w32(r + ECWT_DTYPE, (uint32_t)t->dtype);
        w32(r + ECWT_NDIM, (uint32_t)t->ndim);
        for (int k = 0; k < 4; k++) w32(r + ECWT_DIMS + 4 * k, (uint32_t)(k < t->ndim ? t->dims[k] : 1));
        w64(r + ECWT_OFFSET, doff);
        w64(r + ECWT_NBYTES, n * es);
        w32(r + ECWT_NAME, ECW_NONE);
        uint8_t *d = f + d_off + doff;
        for (uint64_t j = 0; j < n; j++) {
            if (t->dtype == ECW_F16) w16(d + 2 * j, ew_f64_to_f16(t->data[j]));
            else wf(d + 4 * j, (float)t->data[j]);
        }
        doff += n * es;
    }
    for (int i = 0; i < m->n_taps; i++) {
        uint8_t *r = f + taps_off + (uint64_t)i * ECW_TAP_BYTES;
        w32(r + ECWP_NAME, put_str(f, s_off, &sat, m->taps[i].name));
        w32(r + ECWP_VALUE, (uint32_t)m->taps[i].value);
        w32(r + ECWP_KIND, (uint32_t)m->taps[i].kind);
        w32(r + ECWP_SCALE, ECW_NONE);
        w32(r + ECWP_SHIFT, ECW_NONE);
    }
    for (int i = 0; i < m->n_labels; i++) w32(f + lab_off + 4 * (uint64_t)i, put_str(f, s_off, &sat, m->labels[i]));
    uLong crc = crc32(0L, Z_NULL, 0);
    const uint8_t *p = f + ECW_HEADER_BYTES;
    uint64_t left = fb - ECW_HEADER_BYTES;
    while (left) {
        uInt chunk = left > (1u << 30) ? (1u << 30) : (uInt)left;
        crc = crc32(crc, p, chunk);
        p += chunk;
        left -= chunk;
    }
    w32(f + ECWH_BODY_CRC, (uint32_t)crc);
    w32(f + ECWH_HEADER_CRC, (uint32_t)crc32(crc32(0L, Z_NULL, 0), f, ECWH_HEADER_CRC));
    *out = f;
    *size = (size_t)fb;
    return EFFCAM_OK;
}
