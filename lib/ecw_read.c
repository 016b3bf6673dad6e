/* .ecw reader: validates every field of a file image before anything uses
 * it (docs/FORMAT.md, "Validation"). Reads little-endian fields byte by byte,
 * never by casting the file to a struct, so unaligned or hostile data is
 * safe. Allocates nothing. */
#include <math.h>
#include <string.h>

#include "internal.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | ((uint64_t)rd32(p + 4) << 32); }
static float rdf32(const uint8_t *p) {
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

effcam_status ec_read_header(const uint8_t *h, size_t bytes, ec_layout *L, effcam_error *err) {
    memset(L, 0, sizeof *L);
    if (!h) return ec_fail(err, EFFCAM_E_ARG, "no model data");
    if (bytes < 8) return ec_fail(err, EFFCAM_E_TRUNCATED, "model data is %zu bytes, shorter than the magic", bytes);
    if (memcmp(h, ECW_MAGIC, 8) != 0) return ec_fail(err, EFFCAM_E_MAGIC, "bad magic: not an .ecw model file");
    if (bytes < ECW_HEADER_BYTES)
        return ec_fail(err, EFFCAM_E_TRUNCATED, "model data is %zu bytes, the header alone is %u", bytes, ECW_HEADER_BYTES);
    L->version = rd32(h + ECWH_VERSION);
    if (L->version != ECW_VERSION)
        return ec_fail(err, EFFCAM_E_VERSION, "format version %u, this library reads version %u", L->version, ECW_VERSION);
    if (rd32(h + ECWH_BYTE_ORDER) != ECW_BYTE_ORDER)
        return ec_fail(err, EFFCAM_E_VERSION, "byte-order mark 0x%08x, expected 0x%08x (little-endian)", rd32(h + ECWH_BYTE_ORDER), ECW_BYTE_ORDER);
    if (rd32(h + ECWH_HEADER_BYTES) != ECW_HEADER_BYTES)
        return ec_fail(err, EFFCAM_E_CORRUPT, "header_bytes %u, expected %u", rd32(h + ECWH_HEADER_BYTES), ECW_HEADER_BYTES);
    uint32_t hcrc = ec_crc32(h, ECWH_HEADER_CRC);
    if (hcrc != rd32(h + ECWH_HEADER_CRC))
        return ec_fail(err, EFFCAM_E_CHECKSUM, "header CRC 0x%08x, stored 0x%08x", hcrc, rd32(h + ECWH_HEADER_CRC));
    L->flags = rd32(h + ECWH_FLAGS);
    L->file_bytes = rd64(h + ECWH_FILE_BYTES);
    L->n_ops = rd32(h + ECWH_N_OPS);
    L->n_tensors = rd32(h + ECWH_N_TENSORS);
    L->n_taps = rd32(h + ECWH_N_TAPS);
    L->n_labels = rd32(h + ECWH_N_LABELS);
    L->ops_off = rd64(h + ECWH_OPS_OFF);
    L->tensors_off = rd64(h + ECWH_TENSORS_OFF);
    L->taps_off = rd64(h + ECWH_TAPS_OFF);
    L->labels_off = rd64(h + ECWH_LABELS_OFF);
    L->strings_off = rd64(h + ECWH_STRINGS_OFF);
    L->strings_bytes = rd64(h + ECWH_STRINGS_BYTES);
    L->data_off = rd64(h + ECWH_DATA_OFF);
    L->data_bytes = rd64(h + ECWH_DATA_BYTES);
    L->input_h = rd32(h + ECWH_INPUT_H);
    L->input_w = rd32(h + ECWH_INPUT_W);
    L->input_c = rd32(h + ECWH_INPUT_C);
    L->channel_order = rd32(h + ECWH_CHANNEL_ORDER);
    for (int i = 0; i < 3; i++) {
        L->pre_mul[i] = rdf32(h + ECWH_PRE_MUL + 4 * i);
        L->pre_add[i] = rdf32(h + ECWH_PRE_ADD + 4 * i);
    }
    L->resize_policy = rd32(h + ECWH_RESIZE_POLICY);
    L->resize_filter = rd32(h + ECWH_RESIZE_FILTER);
    L->crop_num = rd32(h + ECWH_CROP_NUM);
    L->crop_den = rd32(h + ECWH_CROP_DEN);
    L->default_tap = rd32(h + ECWH_DEFAULT_TAP);
    L->source = rd32(h + ECWH_SOURCE);
    L->name_str = rd32(h + ECWH_NAME);

    if (L->flags & ~ECW_FLAG_HEAD_SOFTMAX) return ec_fail(err, EFFCAM_E_CORRUPT, "unknown header flags 0x%x", L->flags);
    if (rd32(h + ECWH_RESERVED0) != 0) return ec_fail(err, EFFCAM_E_CORRUPT, "reserved header field is not zero");
    if (L->n_ops < 1 || L->n_ops > ECW_MAX_OPS)
        return ec_fail(err, EFFCAM_E_CORRUPT, "n_ops %u outside 1..%u", L->n_ops, ECW_MAX_OPS);
    if (L->n_tensors > ECW_MAX_TENSORS) return ec_fail(err, EFFCAM_E_CORRUPT, "n_tensors %u > %u", L->n_tensors, ECW_MAX_TENSORS);
    if (L->n_taps > ECW_MAX_TAPS) return ec_fail(err, EFFCAM_E_CORRUPT, "n_taps %u > %u", L->n_taps, ECW_MAX_TAPS);
    if (L->n_labels > ECW_MAX_LABELS) return ec_fail(err, EFFCAM_E_CORRUPT, "n_labels %u > %u", L->n_labels, ECW_MAX_LABELS);
    if (L->input_h < 1 || L->input_h > ECW_MAX_INPUT || L->input_w < 1 || L->input_w > ECW_MAX_INPUT)
        return ec_fail(err, EFFCAM_E_DIMS, "model input %ux%u outside 1..%d", L->input_h, L->input_w, ECW_MAX_INPUT);
    if (L->input_c != 3) return ec_fail(err, EFFCAM_E_UNSUPPORTED, "input channels %u (only 3 is supported)", L->input_c);
    if (L->channel_order > 1) return ec_fail(err, EFFCAM_E_CORRUPT, "channel order %u", L->channel_order);
    for (int i = 0; i < 3; i++)
        if (!isfinite(L->pre_mul[i]) || !isfinite(L->pre_add[i]))
            return ec_fail(err, EFFCAM_E_CORRUPT, "preprocessing constant for channel %d is not finite", i);
    if (L->resize_policy > 2) return ec_fail(err, EFFCAM_E_CORRUPT, "resize policy %u", L->resize_policy);
    if (L->resize_filter > 3) return ec_fail(err, EFFCAM_E_CORRUPT, "resize filter %u", L->resize_filter);
    if (L->resize_policy == 1 && (L->crop_num < 1 || L->crop_den < L->crop_num || L->crop_den > 64 * L->crop_num))
        return ec_fail(err, EFFCAM_E_CORRUPT, "crop ratio %u/%u", L->crop_num, L->crop_den);
    if (L->source > 3) return ec_fail(err, EFFCAM_E_CORRUPT, "source %u", L->source);
    if (L->default_tap != ECW_NONE && L->default_tap >= L->n_taps)
        return ec_fail(err, EFFCAM_E_CORRUPT, "default tap %u >= n_taps %u", L->default_tap, L->n_taps);
    return EFFCAM_OK;
}

/* A section [off, off + n*rec) must start 64-aligned at or after *cursor and
 * end within the file. */
static effcam_status check_section(const char *what, uint64_t off, uint64_t n, uint64_t rec,
                                   uint64_t *cursor, uint64_t file_bytes, effcam_error *err) {
    uint64_t len = n * rec; /* n <= 100000, rec <= 64: no overflow */
    if (off % ECW_ALIGN) return ec_fail(err, EFFCAM_E_CORRUPT, "%s section offset %llu is not 64-aligned", what, (unsigned long long)off);
    if (off < *cursor) return ec_fail(err, EFFCAM_E_CORRUPT, "%s section at %llu overlaps the previous section (ends at %llu)", what, (unsigned long long)off, (unsigned long long)*cursor);
    if (off > file_bytes || len > file_bytes - off)
        return ec_fail(err, EFFCAM_E_CORRUPT, "%s section [%llu, +%llu) runs past the end of the file (%llu bytes)", what,
                       (unsigned long long)off, (unsigned long long)len, (unsigned long long)file_bytes);
    *cursor = off + len;
    return EFFCAM_OK;
}

/* NUL-terminated string of at most ECW_MAX_STRING bytes inside the strings section. */
static int string_ok(const uint8_t *file, const ec_layout *L, uint32_t off) {
    if (off >= L->strings_bytes) return 0;
    const uint8_t *s = file + L->strings_off + off;
    uint64_t room = L->strings_bytes - off;
    if (room > ECW_MAX_STRING + 1) room = ECW_MAX_STRING + 1;
    return memchr(s, 0, (size_t)room) != NULL;
}

const char *ec_string(const uint8_t *file, const ec_layout *L, uint32_t off) {
    if (off == ECW_NONE) return "";
    return (const char *)(file + L->strings_off + off);
}

/* Kernel dtype of weight tensor t (EC_WDT_*); fp16 for an invalid index
 * (the validation refuses those). Only called once the tensor table's
 * section is known to lie inside the file. */
static int weight_dtype(const uint8_t *file, const ec_layout *L, int t) {
    if (t < 0 || (uint32_t)t >= L->n_tensors) return EC_WDT_F16;
    return rd32(file + L->tensors_off + (uint64_t)t * ECW_TENSOR_BYTES + ECWT_DTYPE) == ECW_F32 ? EC_WDT_F32 : EC_WDT_F16;
}

void ec_op_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_op *op) {
    const uint8_t *r = file + L->ops_off + (uint64_t)i * ECW_OP_BYTES;
    op->type = rd16(r + ECWO_TYPE);
    op->act = r[ECWO_ACT];
    op->act2 = r[ECWO_ACT2];
    op->flags = (int)rd32(r + ECWO_FLAGS);
    op->in0 = (int32_t)rd32(r + ECWO_IN0);
    op->in1 = (int32_t)rd32(r + ECWO_IN1);
    op->kh = rd16(r + ECWO_KH);
    op->kw = rd16(r + ECWO_KH + 2);
    op->sh = rd16(r + ECWO_KH + 4);
    op->sw = rd16(r + ECWO_KH + 6);
    op->pt = rd16(r + ECWO_PAD);
    op->pl = rd16(r + ECWO_PAD + 2);
    op->pb = rd16(r + ECWO_PAD + 4);
    op->pr = rd16(r + ECWO_PAD + 6);
    op->cin = (int)rd32(r + ECWO_CIN);
    op->cout = (int)rd32(r + ECWO_COUT);
    op->cmid = (int)rd32(r + ECWO_CMID);
    for (int k = 0; k < 4; k++) op->t[k] = (int32_t)rd32(r + ECWO_T0 + 4 * k);
    op->wdt[0] = weight_dtype(file, L, op->t[0]);
    op->wdt[1] = op->type == ECW_OP_SE ? weight_dtype(file, L, op->t[2]) : EC_WDT_F16;
    uint32_t nm = rd32(r + ECWO_NAME);
    op->name = string_ok(file, L, nm) ? ec_string(file, L, nm) : "";
    op->readers = 0; /* counted by the loader over the whole graph */
    op->wino_pre = 0;
    op->wino_u = NULL;
}

void ec_tensor_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_tensor *t) {
    const uint8_t *r = file + L->tensors_off + (uint64_t)i * ECW_TENSOR_BYTES;
    t->dtype = (int)rd32(r + ECWT_DTYPE);
    t->ndim = (int)rd32(r + ECWT_NDIM);
    for (int k = 0; k < 4; k++) t->dims[k] = rd32(r + ECWT_DIMS + 4 * k);
    t->offset = rd64(r + ECWT_OFFSET);
    t->nbytes = rd64(r + ECWT_NBYTES);
    uint32_t nm = rd32(r + ECWT_NAME);
    t->name = string_ok(file, L, nm) ? ec_string(file, L, nm) : "";
    t->data = NULL;
    if (t->offset <= L->data_bytes && t->nbytes <= L->data_bytes - t->offset)
        t->data = file + L->data_off + t->offset;
}

void ec_tap_decode(const uint8_t *file, const ec_layout *L, uint32_t i, ec_tap *t) {
    const uint8_t *r = file + L->taps_off + (uint64_t)i * ECW_TAP_BYTES;
    uint32_t nm = rd32(r + ECWP_NAME);
    t->name = string_ok(file, L, nm) ? ec_string(file, L, nm) : "";
    t->value = (int32_t)rd32(r + ECWP_VALUE);
    t->kind = (int)rd32(r + ECWP_KIND);
    t->scale_t = (int32_t)rd32(r + ECWP_SCALE);
    t->shift_t = (int32_t)rd32(r + ECWP_SHIFT);
}

int ec_find_tap(const uint8_t *file, const ec_layout *L, const char *name) {
    for (uint32_t i = 0; i < L->n_taps; i++) {
        ec_tap t;
        ec_tap_decode(file, L, i, &t);
        if (strcmp(t.name, name) == 0) return (int)i;
    }
    return -1;
}

static int channels_of(const uint8_t *file, const ec_layout *L, int v) {
    if (v == 0) return (int)L->input_c;
    ec_op op;
    ec_op_decode(file, L, (uint32_t)(v - 1), &op);
    return op.cout;
}

/* Value is spatially 1x1 for every input size (produced by gap / dense). */
static int is_vector(const uint8_t *file, const ec_layout *L, int v) {
    for (int guard = 0; v > 0 && guard <= (int)ECW_MAX_OPS; guard++) {
        ec_op op;
        ec_op_decode(file, L, (uint32_t)(v - 1), &op);
        if (op.type == ECW_OP_GAP || op.type == ECW_OP_DENSE) return 1;
        if (op.type == ECW_OP_ACT || op.type == ECW_OP_SE || op.type == ECW_OP_ADD) { v = op.in0; continue; }
        return 0;
    }
    return 0;
}

/* Any dtype the kernels take for weights: f16 or f32 (want_tensor). */
#define EC_ANY_WEIGHT 0

/* Tensor t must exist with dtype (or, for EC_ANY_WEIGHT, f16 or f32) and
 * exact dims (ndim given). Its nbytes was checked against its own dtype and
 * dims with the tensor records. */
static effcam_status want_tensor(const uint8_t *file, const ec_layout *L, uint32_t opi, int slot, int t,
                                 int dtype, int ndim, const int *dims, effcam_error *err) {
    if (t < 0 || (uint32_t)t >= L->n_tensors)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u: tensor slot %d index %d out of range (n_tensors %u)", opi, slot, t, L->n_tensors);
    ec_tensor tt;
    ec_tensor_decode(file, L, (uint32_t)t, &tt);
    int dtype_ok = dtype == EC_ANY_WEIGHT ? (tt.dtype == ECW_F16 || tt.dtype == ECW_F32) : tt.dtype == dtype;
    if (!dtype_ok || tt.ndim != ndim)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u: tensor %d has dtype %d ndim %d, expected dtype %s ndim %d", opi, t,
                       tt.dtype, tt.ndim, dtype == EC_ANY_WEIGHT ? "1 or 2" : dtype == ECW_F16 ? "1" : "2", ndim);
    for (int k = 0; k < ndim; k++)
        if ((int64_t)tt.dims[k] != dims[k])
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u: tensor %d dim %d is %u, expected %d", opi, t, k, tt.dims[k], dims[k]);
    return EFFCAM_OK;
}

static effcam_status check_tensor_record(const uint8_t *file, const ec_layout *L, uint32_t i, effcam_error *err) {
    const uint8_t *r = file + L->tensors_off + (uint64_t)i * ECW_TENSOR_BYTES;
    ec_tensor t;
    ec_tensor_decode(file, L, i, &t);
    if (t.dtype != ECW_F16 && t.dtype != ECW_F32) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: unknown dtype %d", i, t.dtype);
    if (t.ndim < 1 || t.ndim > 4) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: ndim %d outside 1..4", i, t.ndim);
    uint64_t n = 1;
    for (int k = 0; k < 4; k++) {
        if (k >= t.ndim && t.dims[k] != 1) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: unused dim %d is %u, not 1", i, k, t.dims[k]);
        if (t.dims[k] == 0) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: dim %d is 0", i, k);
        if (__builtin_mul_overflow(n, (uint64_t)t.dims[k], &n))
            return ec_fail(err, EFFCAM_E_OVERFLOW, "tensor %u: element count overflows", i);
    }
    uint64_t esz = t.dtype == ECW_F16 ? 2 : 4, nb;
    if (__builtin_mul_overflow(n, esz, &nb)) return ec_fail(err, EFFCAM_E_OVERFLOW, "tensor %u: byte size overflows", i);
    if (nb != t.nbytes) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: nbytes %llu but dims give %llu", i, (unsigned long long)t.nbytes, (unsigned long long)nb);
    if (t.offset % ECW_ALIGN) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: offset %llu not 64-aligned", i, (unsigned long long)t.offset);
    if (t.offset > L->data_bytes || t.nbytes > L->data_bytes - t.offset)
        return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: [%llu, +%llu) outside the data section (%llu bytes)", i,
                       (unsigned long long)t.offset, (unsigned long long)t.nbytes, (unsigned long long)L->data_bytes);
    uint32_t nm = rd32(r + ECWT_NAME);
    if (nm != ECW_NONE && !string_ok(file, L, nm)) return ec_fail(err, EFFCAM_E_CORRUPT, "tensor %u: bad name string offset %u", i, nm);
    return EFFCAM_OK;
}

static effcam_status check_op(const uint8_t *file, const ec_layout *L, uint32_t i, uint64_t *params, effcam_error *err) {
    ec_op op;
    ec_op_decode(file, L, i, &op);
    const uint8_t *r = file + L->ops_off + (uint64_t)i * ECW_OP_BYTES;
    uint32_t nm = rd32(r + ECWO_NAME);
    if (nm != ECW_NONE && !string_ok(file, L, nm)) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u: bad name string offset %u", i, nm);
    if (op.type < 1 || op.type >= ECW_OP_TYPE_COUNT) return ec_fail(err, EFFCAM_E_UNSUPPORTED, "op %u: unknown op type %d", i, op.type);
    const char *tn = ec_op_type_name(op.type);
    if (op.act >= ECW_ACT_COUNT || op.act2 >= ECW_ACT_COUNT)
        return ec_fail(err, EFFCAM_E_UNSUPPORTED, "op %u (%s): unknown activation %d/%d", i, tn, op.act, op.act2);
    if (op.flags & ~(int)ECW_OPF_PAD_SAME) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): unknown flags 0x%x", i, tn, op.flags);
    if (op.in0 < 0 || (uint32_t)op.in0 > i)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): input value %d is not an earlier value (0..%u)", i, tn, op.in0, i);
    int want_in1 = op.type == ECW_OP_ADD;
    if (want_in1 ? (op.in1 < 0 || (uint32_t)op.in1 > i) : op.in1 != -1)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): second input %d invalid", i, tn, op.in1);
    if (op.cin < 1 || op.cin > (int)ECW_MAX_CHANNELS || op.cout < 1 || op.cout > (int)ECW_MAX_CHANNELS)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): channels %d -> %d outside 1..%u", i, tn, op.cin, op.cout, ECW_MAX_CHANNELS);
    int cin_actual = channels_of(file, L, op.in0);
    if (op.cin != cin_actual)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): cin %d but its input value %d has %d channels", i, tn, op.cin, op.in0, cin_actual);
    if (want_in1 && channels_of(file, L, op.in1) != op.cin)
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (add): inputs have %d and %d channels", i, op.cin, channels_of(file, L, op.in1));
    if (want_in1 && is_vector(file, L, op.in0) != is_vector(file, L, op.in1))
        return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (add): a vector and a feature map cannot be added", i);
    int used = 0; /* tensor slots the op uses */
    int c = op.cin;
    effcam_status st = EFFCAM_OK;
    switch (op.type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV: {
        if (op.kh < 1 || op.kh > (int)ECW_MAX_KERNEL || op.kw < 1 || op.kw > (int)ECW_MAX_KERNEL)
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): kernel %dx%d outside 1..%u", i, tn, op.kh, op.kw, ECW_MAX_KERNEL);
        if (op.sh < 1 || op.sh > (int)ECW_MAX_STRIDE || op.sw < 1 || op.sw > (int)ECW_MAX_STRIDE)
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): stride %dx%d outside 1..%u", i, tn, op.sh, op.sw, ECW_MAX_STRIDE);
        if (op.pt >= op.kh || op.pb >= op.kh || op.pl >= op.kw || op.pr >= op.kw)
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): padding %d,%d,%d,%d not smaller than the kernel", i, tn, op.pt, op.pl, op.pb, op.pr);
        if (op.type == ECW_OP_CONV2D) {
            int d[4] = {op.cout, op.kh, op.kw, op.cin};
            st = want_tensor(file, L, i, 0, op.t[0], EC_ANY_WEIGHT, 4, d, err);
        } else {
            if (op.cout != op.cin) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (dwconv): cin %d != cout %d", i, op.cin, op.cout);
            int d[3] = {op.kh, op.kw, c};
            st = want_tensor(file, L, i, 0, op.t[0], EC_ANY_WEIGHT, 3, d, err);
        }
        if (st) return st;
        if (op.t[1] != -1) {
            int d[1] = {op.cout};
            if ((st = want_tensor(file, L, i, 1, op.t[1], ECW_F32, 1, d, err))) return st;
        }
        used = 2;
        break;
    }
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: {
        if (op.kh != 1 || op.kw != 1 || op.sh != 1 || op.sw != 1 || op.pt || op.pl || op.pb || op.pr || op.flags)
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): kernel/stride must be 1 and padding 0", i, tn);
        if (op.type == ECW_OP_DENSE && !is_vector(file, L, op.in0))
            return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (dense): input value %d is not a pooled vector", i, op.in0);
        int d[2] = {op.cout, op.cin};
        if ((st = want_tensor(file, L, i, 0, op.t[0], EC_ANY_WEIGHT, 2, d, err))) return st;
        if (op.t[1] != -1) {
            int d1[1] = {op.cout};
            if ((st = want_tensor(file, L, i, 1, op.t[1], ECW_F32, 1, d1, err))) return st;
        }
        used = 2;
        break;
    }
    case ECW_OP_SE: {
        if (op.cout != op.cin) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (se): cin %d != cout %d", i, op.cin, op.cout);
        if (op.cmid < 1 || op.cmid > (int)ECW_MAX_CHANNELS) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (se): cmid %d", i, op.cmid);
        int d0[2] = {op.cmid, c}, d1[1] = {op.cmid}, d2[2] = {c, op.cmid}, d3[1] = {c};
        if ((st = want_tensor(file, L, i, 0, op.t[0], EC_ANY_WEIGHT, 2, d0, err))) return st;
        if ((st = want_tensor(file, L, i, 1, op.t[1], ECW_F32, 1, d1, err))) return st;
        if ((st = want_tensor(file, L, i, 2, op.t[2], EC_ANY_WEIGHT, 2, d2, err))) return st;
        if ((st = want_tensor(file, L, i, 3, op.t[3], ECW_F32, 1, d3, err))) return st;
        used = 4;
        break;
    }
    case ECW_OP_ADD:
    case ECW_OP_GAP:
    case ECW_OP_ACT:
        if (op.cout != op.cin) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): cin %d != cout %d", i, tn, op.cin, op.cout);
        break;
    }
    for (int k = used; k < 4; k++)
        if (op.t[k] != -1) return ec_fail(err, EFFCAM_E_CORRUPT, "op %u (%s): unused tensor slot %d is %d, not -1", i, tn, k, op.t[k]);
    *params += ec_op_params(&op);
    return EFFCAM_OK;
}

effcam_status ec_validate(const uint8_t *file, size_t bytes, int check_body_crc, ec_layout *L, effcam_error *err) {
    effcam_status st = ec_read_header(file, bytes, L, err);
    if (st) return st;
    if (L->file_bytes > bytes)
        return ec_fail(err, EFFCAM_E_TRUNCATED, "the header declares %llu bytes, only %zu are present", (unsigned long long)L->file_bytes, bytes);
    if (L->file_bytes < ECW_HEADER_BYTES) return ec_fail(err, EFFCAM_E_CORRUPT, "file_bytes %llu smaller than the header", (unsigned long long)L->file_bytes);
    uint64_t cur = ECW_HEADER_BYTES, fb = L->file_bytes;
    if ((st = check_section("ops", L->ops_off, L->n_ops, ECW_OP_BYTES, &cur, fb, err))) return st;
    if ((st = check_section("tensors", L->tensors_off, L->n_tensors, ECW_TENSOR_BYTES, &cur, fb, err))) return st;
    if ((st = check_section("taps", L->taps_off, L->n_taps, ECW_TAP_BYTES, &cur, fb, err))) return st;
    if ((st = check_section("labels", L->labels_off, L->n_labels, ECW_LABEL_BYTES, &cur, fb, err))) return st;
    if (L->strings_bytes > fb) return ec_fail(err, EFFCAM_E_CORRUPT, "strings section larger than the file");
    if ((st = check_section("strings", L->strings_off, L->strings_bytes, 1, &cur, fb, err))) return st;
    if (L->data_bytes > fb) return ec_fail(err, EFFCAM_E_CORRUPT, "data section larger than the file");
    if ((st = check_section("data", L->data_off, L->data_bytes, 1, &cur, fb, err))) return st;
    if (L->data_off + L->data_bytes != fb)
        return ec_fail(err, EFFCAM_E_CORRUPT, "data section ends at %llu, file_bytes is %llu",
                       (unsigned long long)(L->data_off + L->data_bytes), (unsigned long long)fb);
    if (check_body_crc) {
        uint32_t crc = ec_crc32(file + ECW_HEADER_BYTES, (size_t)(fb - ECW_HEADER_BYTES));
        uint32_t want = rd32(file + ECWH_BODY_CRC);
        if (crc != want) return ec_fail(err, EFFCAM_E_CHECKSUM, "body CRC 0x%08x, stored 0x%08x", crc, want);
    }
    if (L->name_str != ECW_NONE && !string_ok(file, L, L->name_str)) return ec_fail(err, EFFCAM_E_CORRUPT, "bad model name string");
    for (uint32_t i = 0; i < L->n_tensors; i++)
        if ((st = check_tensor_record(file, L, i, err))) return st;
    L->n_params = 0;
    for (uint32_t i = 0; i < L->n_ops; i++)
        if ((st = check_op(file, L, i, &L->n_params, err))) return st;
    ec_op last;
    ec_op_decode(file, L, L->n_ops - 1, &last);
    if (last.type != ECW_OP_DENSE) return ec_fail(err, EFFCAM_E_CORRUPT, "the last op is %s, it must be dense (the logits)", ec_op_type_name(last.type));
    L->n_classes = (uint32_t)last.cout;
    for (uint32_t i = 0; i < L->n_taps; i++) {
        const uint8_t *r = file + L->taps_off + (uint64_t)i * ECW_TAP_BYTES;
        if (!string_ok(file, L, rd32(r + ECWP_NAME))) return ec_fail(err, EFFCAM_E_CORRUPT, "tap %u: bad name string", i);
        ec_tap t;
        ec_tap_decode(file, L, i, &t);
        if (t.value < 1 || (uint32_t)t.value > L->n_ops) return ec_fail(err, EFFCAM_E_CORRUPT, "tap %u (%s): value %d outside 1..%u", i, t.name, t.value, L->n_ops);
        if (t.kind < ECW_TAP_OUTPUT || t.kind > ECW_TAP_PRE_BN) return ec_fail(err, EFFCAM_E_CORRUPT, "tap %u (%s): kind %d", i, t.name, t.kind);
        for (int k = 20; k < 32; k++)
            if (r[k]) return ec_fail(err, EFFCAM_E_CORRUPT, "tap %u: reserved bytes are not zero", i);
        if (t.kind == ECW_TAP_PRE_BN) {
            int d[1] = {channels_of(file, L, t.value)};
            if ((st = want_tensor(file, L, i, 0, t.scale_t, ECW_F32, 1, d, err))) return st;
            if ((st = want_tensor(file, L, i, 1, t.shift_t, ECW_F32, 1, d, err))) return st;
        } else if (t.scale_t != -1 || t.shift_t != -1) {
            return ec_fail(err, EFFCAM_E_CORRUPT, "tap %u (%s): scale/shift set on a tap that is not pre-BN", i, t.name);
        }
    }
    if (L->n_labels != 0 && L->n_labels != L->n_classes)
        return ec_fail(err, EFFCAM_E_CORRUPT, "%u labels for %u classes", L->n_labels, L->n_classes);
    for (uint32_t i = 0; i < L->n_labels; i++)
        if (!string_ok(file, L, rd32(file + L->labels_off + 4ull * i))) return ec_fail(err, EFFCAM_E_CORRUPT, "label %u: bad string", i);
    return EFFCAM_OK;
}
