/* The memory planner: every buffer's lifetime and offset, and the exact
 * arena size, from (model, input size, mode) before anything is allocated.
 *
 * Timeline (predict): step 0 writes the input (value 0); op i runs at step
 * i + 1 and writes value i + 1. A value lives from the step that writes it to
 * the last step that reads it. Buffers whose lifetimes overlap never share
 * bytes; the rest are packed greedily, largest first, each at the lowest
 * offset that fits (as tflite-micro's greedy planner). Scratch is one
 * separate region sized by the largest per-op need. No fudge margins: the
 * engine uses exactly these offsets, and a test checks the high-water mark
 * equals the plan. */
#include <string.h>

#include "internal.h"

uint32_t ec_plan_nbufs(const ec_layout *L, effcam_mode mode) {
    (void)mode;
    return L->n_ops + 1 + EC_BUF_EXTRA_COUNT;
}

static const ec_op *get_op(const uint8_t *file, const ec_layout *L, const ec_op *ops, uint32_t i, ec_op *tmp) {
    if (ops) return &ops[i];
    ec_op_decode(file, L, i, tmp);
    return tmp;
}

static effcam_status value_bytes(const ec_shape *s, uint64_t *bytes, effcam_error *err) {
    uint64_t n = (uint64_t)s->h * (uint64_t)s->w; /* each <= 2^14 after geometry; c <= 2^16 */
    if (__builtin_mul_overflow(n, (uint64_t)s->c * 4u, &n) || n > (uint64_t)SIZE_MAX / 2)
        return ec_fail(err, EFFCAM_E_OVERFLOW, "activation %dx%dx%d overflows", s->h, s->w, s->c);
    *bytes = EC_ALIGN_UP(n);
    return EFFCAM_OK;
}

/* Greedy placement: largest first (ties: earliest index), lowest offset
 * that does not overlap any placed buffer alive at the same time. */
static uint64_t place_all(ec_buf *b, uint32_t n) {
    const uint64_t UNPLACED = UINT64_MAX;
    uint64_t peak = 0;
    for (uint32_t i = 0; i < n; i++) b[i].offset = UNPLACED;
    for (;;) {
        int64_t pick = -1;
        for (uint32_t i = 0; i < n; i++)
            if (b[i].offset == UNPLACED && b[i].bytes > 0 && (pick < 0 || b[i].bytes > b[pick].bytes)) pick = i;
        if (pick < 0) break;
        ec_buf *p = &b[pick];
        uint64_t off = 0;
        for (int moved = 1; moved;) {
            moved = 0;
            for (uint32_t j = 0; j < n; j++) {
                const ec_buf *q = &b[j];
                if (q->offset == UNPLACED || q->bytes == 0 || (int64_t)j == pick) continue;
                if (q->last < p->first || p->last < q->first) continue;       /* not alive together */
                if (q->offset + q->bytes <= off || off + p->bytes <= q->offset) continue; /* no overlap */
                off = q->offset + q->bytes;
                moved = 1;
            }
        }
        p->offset = off;
        if (off + p->bytes > peak) peak = off + p->bytes;
    }
    for (uint32_t i = 0; i < n; i++)
        if (b[i].offset == UNPLACED) b[i].offset = 0; /* zero-byte buffers */
    return peak;
}

effcam_status ec_plan(const uint8_t *file, const ec_layout *L, const ec_op *ops, const ec_plan_req *req, ec_buf *bufs,
                      ec_plan_out *out, effcam_error *err) {
    if (req->mode != EFFCAM_MODE_PREDICT)
        return ec_fail(err, EFFCAM_E_UNSUPPORTED, "mode %d is not supported by this build", (int)req->mode);
    if (req->h < 1 || req->h > ECW_MAX_INPUT || req->w < 1 || req->w > ECW_MAX_INPUT)
        return ec_fail(err, EFFCAM_E_DIMS, "input %dx%d outside 1..%d", req->h, req->w, ECW_MAX_INPUT);
    const uint32_t n = L->n_ops, nb = ec_plan_nbufs(L, req->mode);
    memset(bufs, 0, sizeof(ec_buf) * nb);
    uint64_t scratch_floats = 0;
    effcam_status st;

    /* Pass 1: shapes -> bytes, first step; consumers -> last step. */
    ec_shape in0 = {req->h, req->w, (int)L->input_c};
    if ((st = value_bytes(&in0, &bufs[0].bytes, err))) return st;
    bufs[0].h = (uint16_t)in0.h; bufs[0].w = (uint16_t)in0.w; bufs[0].c = (uint32_t)in0.c;
    bufs[0].first = bufs[0].last = 0;
    for (uint32_t i = 0; i < n; i++) {
        ec_op tmp;
        const ec_op *op = get_op(file, L, ops, i, &tmp);
        const ec_buf *a = &bufs[op->in0];
        ec_shape in = {a->h, a->w, (int)a->c};
        if (op->type == ECW_OP_ADD) {
            const ec_buf *b = &bufs[op->in1];
            if (b->h != a->h || b->w != a->w || b->c != a->c)
                return ec_fail(err, EFFCAM_E_DIMS, "op %u '%s' (add): input shapes %dx%dx%d and %dx%dx%d differ at input %dx%d", i,
                               op->name, in.h, in.w, in.c, b->h, b->w, (int)b->c, req->h, req->w);
        }
        ec_shape o;
        int pt, pl;
        if ((st = ec_op_geometry(op, &in, &o, &pt, &pl, err))) return st;
        if (o.h > 65535 || o.w > 65535)
            return ec_fail(err, EFFCAM_E_DIMS, "op %u '%s': output %dx%d is larger than 65535", i, op->name, o.h, o.w);
        ec_buf *v = &bufs[i + 1];
        if ((st = value_bytes(&o, &v->bytes, err))) return st;
        v->h = (uint16_t)o.h; v->w = (uint16_t)o.w; v->c = (uint32_t)o.c;
        v->first = v->last = (int32_t)(i + 1);
        bufs[op->in0].last = (int32_t)(i + 1);
        if (op->in1 >= 0) bufs[op->in1].last = (int32_t)(i + 1);
        uint64_t sf = ec_op_scratch_floats(op, &in, &o);
        if (sf > scratch_floats) scratch_floats = sf;
    }
    /* The tap kept readable after predict. */
    ec_buf *tb = &bufs[n + 1 + EC_BUF_TAP];
    if (req->tap >= 0) {
        ec_tap t;
        ec_tap_decode(file, L, (uint32_t)req->tap, &t);
        ec_buf *v = &bufs[t.value];
        if (t.kind == ECW_TAP_OUTPUT) {
            v->last = (int32_t)(n + 1);
        } else {
            tb->bytes = v->bytes;
            tb->h = v->h; tb->w = v->w; tb->c = v->c;
            tb->first = v->first;
            tb->last = (int32_t)(n + 1);
        }
    }
    if (scratch_floats > (uint64_t)SIZE_MAX / 8) return ec_fail(err, EFFCAM_E_OVERFLOW, "scratch size overflows");
    out->activation_bytes = place_all(bufs, nb);
    out->scratch_bytes = EC_ALIGN_UP(scratch_floats * 4u);
    out->n_bufs = nb;
    return EFFCAM_OK;
}
