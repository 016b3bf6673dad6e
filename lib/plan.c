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
    uint32_t n = L->n_ops;
    return mode == EFFCAM_MODE_GRADCAM ? n + 1 + EC_BUF_EXTRA_COUNT + 3 * n + 1 : n + 1 + EC_BUF_EXTRA_COUNT;
}

static const ec_op *get_op(const uint8_t *file, const ec_layout *L, const ec_op *ops, uint32_t i, ec_op *tmp) {
    if (ops) return &ops[i];
    ec_op_decode(file, L, i, tmp);
    return tmp;
}

static int32_t max32(int32_t a, int32_t b) { return a > b ? a : b; }

/* Grad-CAM mode: what the backward pass from the logits to the tap keeps
 * alive, and for how long (see the timeline in internal.h). */
static effcam_status plan_gradcam(const uint8_t *file, const ec_layout *L, const ec_op *ops, const ec_plan_req *req,
                                  ec_buf *b, uint64_t *scratch_floats, effcam_error *err) {
    const uint32_t n = L->n_ops;
    const int32_t END = EC_STEP_END(n), CAM = EC_STEP_CAM(n);
    ec_tap t;
    ec_tap_decode(file, L, (uint32_t)req->tap, &t);
    const uint32_t vt = (uint32_t)t.value;
    ec_buf *V = &b[vt];
    /* the layer's activation A: alive to the end */
    if (t.kind == ECW_TAP_OUTPUT) {
        V->last = END;
    } else {
        ec_buf *tb = &b[ec_buf_single(n, EC_BUF_TAP)];
        tb->bytes = V->bytes; tb->h = V->h; tb->w = V->w; tb->c = V->c;
        tb->first = V->first;
        tb->last = END;
    }
    const uint64_t hw = (uint64_t)V->h * V->w, k = V->c;
    ec_buf *raw = &b[ec_buf_single(n, EC_BUF_RAW)], *nrm = &b[ec_buf_single(n, EC_BUF_NORM)];
    ec_buf *wts = &b[ec_buf_single(n, EC_BUF_WEIGHTS)];
    raw->bytes = nrm->bytes = EC_ALIGN_UP(hw * 4u);
    raw->h = nrm->h = V->h; raw->w = nrm->w = V->w; raw->c = nrm->c = 1;
    raw->first = nrm->first = CAM;
    raw->last = nrm->last = END;
    wts->bytes = EC_ALIGN_UP(k * 4u);
    wts->h = wts->w = 1; wts->c = (uint32_t)k;
    wts->first = req->method == EFFCAM_CAM_SCORECAM ? 0 : CAM;
    wts->last = END;
    uint64_t cs = ec_cam_scratch_floats(req->method, (int)hw, (int)k);
    if (cs > *scratch_floats) *scratch_floats = cs;
    if (req->cam_flags) {
        /* the smoothing passes rerun the forward: keep the input */
        ec_buf *i0 = &b[ec_buf_single(n, EC_BUF_INPUT0)];
        *i0 = b[0];
        i0->first = 0; i0->last = END;
        nrm->first = 0; /* accumulates the maps across the passes */
    }
    if (req->method == EFFCAM_CAM_SCORECAM) {
        /* the masked forward passes reuse every value buffer: keep the
         * unmasked input and the activations apart, for the whole call */
        ec_buf *i0 = &b[ec_buf_single(n, EC_BUF_INPUT0)], *ac = &b[ec_buf_single(n, EC_BUF_ACOPY)];
        *i0 = b[0];
        i0->first = 0; i0->last = END;
        *ac = *V;
        ac->first = 0; ac->last = END;
    }
    if (!ec_method_needs_grad(req->method)) return EFFCAM_OK;

    /* which values depend on the tap: their gradients exist */
    ec_buf *G = &b[ec_buf_grad(n, 0)];
    G[vt].bytes = V->bytes; G[vt].h = V->h; G[vt].w = V->w; G[vt].c = V->c;
    G[vt].first = INT32_MAX;
    for (uint32_t j = vt; j < n; j++) {
        ec_op tmp;
        const ec_op *op = get_op(file, L, ops, j, &tmp);
        int dep = G[op->in0].bytes > 0 || (op->in1 >= 0 && G[op->in1].bytes > 0);
        if (!dep) continue;
        G[j + 1] = b[j + 1];
        G[j + 1].first = INT32_MAX;
    }
    if (G[n].bytes == 0)
        return ec_fail(err, EFFCAM_E_LAYER, "layer '%s' does not influence the logits", t.name);
    G[n].first = (int32_t)n + 1; /* seeded with d score / d logits */
    for (uint32_t j = n; j-- > vt;) {
        if (G[j + 1].bytes == 0) continue;
        ec_op tmp;
        const ec_op *op = get_op(file, L, ops, j, &tmp);
        const int32_t bj = ec_bstep(n, j);
        G[j + 1].last = bj;
        ec_buf *S = &b[ec_buf_saved(n, j)];
        ec_shape in = {b[op->in0].h, b[op->in0].w, (int)b[op->in0].c}, out = {b[j + 1].h, b[j + 1].w, (int)b[j + 1].c};
        if (ec_op_saves_preact(op)) {
            *S = b[j + 1];
            S->first = (int32_t)j + 1;
            S->last = bj;
        } else if (op->type == ECW_OP_SE) {
            ec_se_dims d;
            ec_se_dims_of(op, &in, &d);
            S->bytes = EC_ALIGN_UP((uint64_t)ec_se_saved_floats(&d) * 4u);
            S->h = S->w = 1; S->c = (uint32_t)ec_se_saved_floats(&d);
            S->first = (int32_t)j + 1;
            S->last = bj;
            b[op->in0].last = max32(b[op->in0].last, bj);
        } else if (op->type == ECW_OP_ACT) {
            b[op->in0].last = max32(b[op->in0].last, bj);
        }
        uint64_t bs = ec_op_backward_scratch_floats(op, &in, &out);
        if (bs > *scratch_floats) *scratch_floats = bs;
        int ins[2] = {op->in0, op->in1};
        for (int q = 0; q < 2; q++) {
            int u = ins[q];
            if (u < 0 || G[u].bytes == 0) continue;
            int repeat = q == 1 && ins[1] == ins[0];
            if (G[u].first == INT32_MAX && !repeat) {
                G[u].first = bj;  /* first contribution writes */
            } else if (op->type != ECW_OP_ADD) {
                ec_buf *T = &b[ec_buf_temp(n, j)]; /* later ones accumulate */
                *T = b[u];
                T->first = T->last = bj;
            }
        }
    }
    for (uint32_t v = vt; v <= n; v++)
        if (G[v].bytes && G[v].first == INT32_MAX)
            return ec_fail(err, EFFCAM_E_CORRUPT, "gradient of value %u is never produced", v);
    G[vt].last = END;
    return EFFCAM_OK;
}


/* Is value i + 1 read by no op after op i + 1? */
static int read_by_next_only(const uint8_t *file, const ec_layout *L, const ec_op *ops, uint32_t i) {
    for (uint32_t j = i + 2; j < L->n_ops; j++) {
        ec_op t;
        const ec_op *o = get_op(file, L, ops, j, &t);
        if (o->in0 == (int32_t)(i + 1) || o->in1 == (int32_t)(i + 1)) return 0;
    }
    return 1;
}

/* Does pointwise op pw, reading a value shaped like v, run on the fp16 GEMM
 * with more than one row (the kernel that takes both folds below)? */
static int pw_on_gemm_f16(const ec_op *pw, const ec_buf *v) {
    ec_shape in = {v->h, v->w, (int)v->c};
    ec_pw_dims d;
    ec_pw_dims_of(pw, &in, &d);
    return d.m >= 2 && ec_pwconv_uses_gemm_f16(&d);
}

/* Squeeze-and-excitation gates folded into the projection that follows:
 * when op i is SE and its output (value i + 1) is read only by op i + 1, a
 * pointwise conv on the fp16 GEMM (ec_pwconv_uses_gemm_f16, more than one
 * row), and is neither the tap nor the logits, the engine computes only
 * the gate and op i + 1 scales its packed weights by it
 * (ec_gemm_f16_forward_scaled_isa). Value i + 1 is then never written: it
 * gets 0 bytes (its shape stays, for the ops that ask), and the SE's input
 * lives one step longer, to be read by op i + 1. Its gradient, if
 * Grad-CAM needs one, is a separate buffer, planned before this.
 * tap_value: the tap's value, or -1. */
static void fold_se_gates(const uint8_t *file, const ec_layout *L, const ec_op *ops, int32_t tap_value, ec_buf *b) {
    for (uint32_t i = 0; i + 1 < L->n_ops; i++) {
        ec_op ta, tb;
        const ec_op *se = get_op(file, L, ops, i, &ta);
        if (se->type != ECW_OP_SE || (int32_t)(i + 1) == tap_value) continue;
        const ec_op *pw = get_op(file, L, ops, i + 1, &tb);
        if (pw->type != ECW_OP_PWCONV || pw->in0 != (int32_t)(i + 1) || pw->in1 == (int32_t)(i + 1)) continue;
        if (!read_by_next_only(file, L, ops, i) || !pw_on_gemm_f16(pw, &b[i + 1])) continue;
        b[i + 1].bytes = 0;
        /* op i + 1 reads the SE's input instead */
        b[se->in0].last = max32(b[se->in0].last, (int32_t)(i + 2));
    }
}

/* Residual adds folded into the projection before them: when op i is a
 * pointwise conv without activation on the fp16 GEMM (more than one row),
 * op i + 1 an add without activation reading value i + 1 once and some
 * other value s, and value i + 1 has no other reader and is not the tap, op
 * i writes value i + 2 = W x + b + s itself (ec_gemm_f16_forward_res_isa,
 * bit-identical to the two ops) and op i + 1 does nothing. Value i + 1 is
 * never written: 0 bytes (its gradient, if Grad-CAM needs one, is a
 * separate buffer, planned before this; neither backward reads a forward
 * value without an activation). Value i + 2 is written one step earlier;
 * s, if op i + 1 was its last reader, is last read one step earlier. A
 * pre-activation tap on value i + 2 (tap_output 0) keeps the add: the add
 * writes it. */
static void fold_residual_adds(const uint8_t *file, const ec_layout *L, const ec_op *ops, int32_t tap_value,
                               int tap_output, ec_buf *b) {
    for (uint32_t i = 0; i + 1 < L->n_ops; i++) {
        ec_op ta, tb;
        const ec_op *pw = get_op(file, L, ops, i, &ta);
        if (pw->type != ECW_OP_PWCONV || pw->act != ECW_ACT_NONE || (int32_t)(i + 1) == tap_value) continue;
        if ((int32_t)(i + 2) == tap_value && !tap_output) continue;
        const ec_op *add = get_op(file, L, ops, i + 1, &tb);
        if (add->type != ECW_OP_ADD || add->act != ECW_ACT_NONE || add->in0 == add->in1) continue;
        if (add->in0 != (int32_t)(i + 1) && add->in1 != (int32_t)(i + 1)) continue;
        const int32_t s = add->in0 == (int32_t)(i + 1) ? add->in1 : add->in0;
        if (b[i + 1].bytes == 0 || !read_by_next_only(file, L, ops, i) || !pw_on_gemm_f16(pw, &b[pw->in0])) continue;
        b[i + 1].bytes = 0;
        b[i + 2].first = (int32_t)(i + 1);
        if (b[s].last == (int32_t)(i + 2)) b[s].last = (int32_t)(i + 1);
    }
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
    if (req->mode != EFFCAM_MODE_PREDICT && req->mode != EFFCAM_MODE_GRADCAM)
        return ec_fail(err, EFFCAM_E_UNSUPPORTED, "mode %d is not supported", (int)req->mode);
    if (req->mode == EFFCAM_MODE_GRADCAM && req->tap < 0)
        return ec_fail(err, EFFCAM_E_LAYER, "Grad-CAM needs a layer");
    if (req->h < 1 || req->h > ECW_MAX_INPUT || req->w < 1 || req->w > ECW_MAX_INPUT)
        return ec_fail(err, EFFCAM_E_DIMS, "input %dx%d outside 1..%d", req->h, req->w, ECW_MAX_INPUT);
    const uint32_t n = L->n_ops, nb = ec_plan_nbufs(L, req->mode);
    memset(bufs, 0, sizeof(ec_buf) * nb);
    uint64_t scratch_floats = 0, prepacked = 0;
    effcam_status st;

    /* Pass 1: shapes -> bytes, first step; consumers -> last step. */
    ec_shape in0 = {req->h, req->w, (int)L->input_c};
    if ((st = value_bytes(&in0, &bufs[0].bytes, err))) return st;
    bufs[0].h = (uint16_t)in0.h; bufs[0].w = (uint16_t)in0.w; bufs[0].c = (uint32_t)in0.c;
    bufs[0].first = bufs[0].last = 0;
    for (uint32_t i = 0; i < n; i++) {
        ec_op tmp;
        const ec_op *op = get_op(file, L, ops, i, &tmp);
        if (!ops) tmp.wino_pre = req->prepack && ec_op_wino_u_floats(&tmp) > 0; /* as the loader will set it */
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
        if (op->wino_pre) prepacked += EC_ALIGN_UP((uint64_t)ec_op_wino_u_floats(op) * sizeof(float));
    }
    /* The tap kept readable after predict. */
    ec_buf *tb = &bufs[n + 1 + EC_BUF_TAP];
    ec_tap t = {.value = -1, .kind = ECW_TAP_OUTPUT};
    if (req->tap >= 0) ec_tap_decode(file, L, (uint32_t)req->tap, &t);
    if (req->mode == EFFCAM_MODE_GRADCAM) {
        if ((st = plan_gradcam(file, L, ops, req, bufs, &scratch_floats, err))) return st;
    } else if (req->tap >= 0) {
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
    fold_se_gates(file, L, ops, t.value, bufs);
    fold_residual_adds(file, L, ops, t.value, t.kind == ECW_TAP_OUTPUT, bufs);
    if (scratch_floats > (uint64_t)SIZE_MAX / 8) return ec_fail(err, EFFCAM_E_OVERFLOW, "scratch size overflows");
    out->activation_bytes = place_all(bufs, nb);
    out->scratch_bytes = EC_ALIGN_UP(scratch_floats * 4u);
    out->prepacked_bytes = prepacked;
    out->n_bufs = nb;
    return EFFCAM_OK;
}
