/* One handler per supported ONNX op type: the symbolic rewrite of
 * torch.onnx.export's graphs onto effcam ops (see docs/CONVERT.md). */
#include "cv_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- attributes (type-checked) -------------------------------------------- */
static const ox_attr *attr(cv *c, const ox_node *n, const char *name, int type, int *bad) {
    const ox_attr *a = ox_find_attr(n, name);
    *bad = 0;
    if (!a) return NULL;
    int t = a->type;
    if (!t) t = a->has_t ? OX_A_TENSOR : a->has_s ? OX_A_STRING : a->has_f ? OX_A_FLOAT : a->has_i ? OX_A_INT : 0;
    if (t != type) {
        cv_err(c, EFFCAM_E_CORRUPT, "attribute '%s' has type %d, expected %d", name, t, type);
        *bad = 1;
    }
    return a;
}

static int attr_int(cv *c, const ox_node *n, const char *name, int64_t def, int64_t *out) {
    int bad;
    const ox_attr *a = attr(c, n, name, OX_A_INT, &bad);
    if (bad) return -1;
    *out = a ? a->i : def;
    return 0;
}

static int attr_float(cv *c, const ox_node *n, const char *name, double def, double *out, int *present) {
    int bad;
    const ox_attr *a = attr(c, n, name, OX_A_FLOAT, &bad);
    if (bad) return -1;
    *out = a ? a->f : def;
    if (present) *present = a != NULL;
    return 0;
}

/* INTS attribute; *count = -1 when absent */
static int attr_ints(cv *c, const ox_node *n, const char *name, int64_t *out, int cap, int *count) {
    int bad;
    const ox_attr *a = attr(c, n, name, OX_A_INTS, &bad);
    *count = -1;
    if (bad) return -1;
    if (!a) return 0;
    size_t k = 0;
    if (pb_repeated(a->msg, 8, PB_VARINT, out, (size_t)cap, &k, "AttributeProto.ints", c->err)) return -1;
    if (k > (size_t)cap) {
        cv_err(c, EFFCAM_E_UNSUPPORTED, "attribute '%s' has %zu values (at most %d expected)", name, k, cap);
        return -1;
    }
    *count = (int)k;
    return 0;
}

static int attr_str(cv *c, const ox_node *n, const char *name, pb_buf *out) {
    int bad;
    const ox_attr *a = attr(c, n, name, OX_A_STRING, &bad);
    if (bad) return -1;
    out->p = NULL;
    out->n = 0;
    if (a) *out = a->s;
    return 0;
}

static int need_in(cv *c, const ox_node *n, int k, const char *what) {
    int vi = cv_in(c, n, k);
    if (vi < 0) cv_err(c, EFFCAM_E_CORRUPT, "missing input %d (%s)", k, what);
    return vi;
}

static int out0(cv *c, const ox_node *n) { return cv_map_get(&c->names, n->out[0]); }

/* extra outputs (Dropout mask, BN running stats) must be unused */
static int extra_outputs_unused(cv *c, const ox_node *n) {
    for (int k = 1; k < n->n_out; k++) {
        if (!n->out[k].n) continue;
        int vi = cv_map_get(&c->names, n->out[k]);
        if (vi >= 0 && c->v[vi].uses) {
            cv_err(c, EFFCAM_E_UNSUPPORTED, "output %d is used (only the first output is supported)", k);
            return -1;
        }
    }
    return 0;
}

static void alias(cv *c, int out, int in) {
    cv_val *o = &c->v[out];
    const cv_val *i = &c->v[in];
    pb_buf name = o->name;
    int producer = o->producer, uses = o->uses;
    *o = *i;
    o->name = name;
    o->producer = producer;
    o->uses = uses + i->uses - 1; /* the alias takes the input's other consumers into account */
    o->orig = -1;
    if (i->kind == K_SIG || i->kind == K_HSIG || i->kind == K_POOL) o->orig = i->orig >= 0 ? i->orig : in;
}

/* ---- Conv --------------------------------------------------------------- */
static int do_conv(cv *c, const ox_node *n) {
    int x = need_in(c, n, 0, "X"), wv = need_in(c, n, 1, "W");
    if (x < 0 || wv < 0) return -1;
    int bv = cv_in(c, n, 2);
    int64_t group, st[2] = {1, 1}, pads[4] = {0, 0, 0, 0}, dil[2] = {1, 1}, ks[2];
    int nst, npads, ndil, nks;
    pb_buf autopad;
    if (attr_int(c, n, "group", 1, &group) || attr_ints(c, n, "strides", st, 2, &nst) ||
        attr_ints(c, n, "pads", pads, 4, &npads) || attr_ints(c, n, "dilations", dil, 2, &ndil) ||
        attr_ints(c, n, "kernel_shape", ks, 2, &nks) || attr_str(c, n, "auto_pad", &autopad))
        return -1;
    if ((nst >= 0 && nst != 2) || (npads >= 0 && npads != 4) || (ndil >= 0 && ndil != 2) || (nks >= 0 && nks != 2))
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "only 2-D convolutions are supported"), -1;
    if (dil[0] != 1 || dil[1] != 1) return cv_err(c, EFFCAM_E_UNSUPPORTED, "dilated convolutions are not supported"), -1;
    unsigned flags = 0;
    if (autopad.n && !pb_eq(autopad, "NOTSET")) {
        if (pb_eq(autopad, "VALID")) memset(pads, 0, sizeof pads);
        else if (pb_eq(autopad, "SAME_UPPER")) flags = ECW_OPF_PAD_SAME;
        else return cv_err(c, EFFCAM_E_UNSUPPORTED, "auto_pad other than NOTSET, VALID, SAME_UPPER"), -1;
    }
    const ox_tensor *W = c->v[wv].kind == K_CONST ? c->v[wv].t : NULL;
    if (!W) return cv_err(c, EFFCAM_E_UNSUPPORTED, "weights must be an initializer or a Constant"), -1;
    if (W->ndim != 4) return cv_err(c, EFFCAM_E_UNSUPPORTED, "weights of rank %d (4 expected)", W->ndim), -1;
    int64_t cout = W->dims[0], cin_g = W->dims[1], kh = W->dims[2], kw = W->dims[3];
    if (nks >= 0 && (ks[0] != kh || ks[1] != kw)) return cv_err(c, EFFCAM_E_CORRUPT, "kernel_shape disagrees with the weights"), -1;
    if (kh < 1 || kw < 1 || kh > ECW_MAX_KERNEL || kw > ECW_MAX_KERNEL)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "kernel %lldx%lld (1..%u)", (long long)kh, (long long)kw, ECW_MAX_KERNEL), -1;
    if (st[0] < 1 || st[1] < 1 || st[0] > ECW_MAX_STRIDE || st[1] > ECW_MAX_STRIDE)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "stride %lldx%lld (1..%u)", (long long)st[0], (long long)st[1], ECW_MAX_STRIDE), -1;
    if (cout < 1 || cout > ECW_MAX_CHANNELS || cin_g < 1 || cin_g > ECW_MAX_CHANNELS)
        return cv_err(c, EFFCAM_E_DIMS, "weights [%lld,%lld,..] out of range", (long long)cout, (long long)cin_g), -1;
    int o = out0(c, n);
    cv_val *xv = &c->v[x];
    /* squeeze-excitation: fc1 on the pooled vector, fc2 after it */
    if (xv->kind == K_POOL || xv->kind == K_SE) {
        if (kh != 1 || kw != 1 || st[0] != 1 || st[1] != 1 || pads[0] || pads[1] || pads[2] || pads[3] || group != 1 || flags)
            return cv_err(c, EFFCAM_E_UNSUPPORTED, "a convolution on a pooled vector must be 1x1 (squeeze-excitation)"), -1;
        double *w = NULL, *b = NULL;
        uint64_t nw, nb = 0;
        if (cv_const(c, wv, "weights", &w, &nw)) return -1;
        if (bv >= 0 && cv_const(c, bv, "bias", &b, &nb)) { free(w); return -1; }
        if (b && nb != (uint64_t)cout) { free(w); free(b); return cv_err(c, EFFCAM_E_CORRUPT, "bias has %llu values for %lld channels", (unsigned long long)nb, (long long)cout), -1; }
        if (!b) b = calloc((size_t)cout, sizeof *b);
        if (!b) { free(w); return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1; }
        if (xv->kind == K_POOL) {
            if (xv->resolved >= 0 || xv->uses != 1) { free(w); free(b); return cv_err(c, EFFCAM_E_UNSUPPORTED, "a pooled vector feeding a 1x1 Conv must have no other consumer"), -1; }
            const cv_val *src = &c->v[xv->src];
            if (cin_g != src->c) { free(w); free(b); return cv_err(c, EFFCAM_E_CORRUPT, "weights expect %lld input channels, got %d", (long long)cin_g, src->c), -1; }
            if (c->n_se == c->cap_se) {
                int nc = c->cap_se ? c->cap_se * 2 : 16;
                cv_se *ns = realloc(c->se, (size_t)nc * sizeof *ns);
                if (!ns) { free(w); free(b); return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1; }
                c->se = ns;
                c->cap_se = nc;
            }
            cv_se *s = &c->se[c->n_se];
            memset(s, 0, sizeof *s);
            s->x = xv->src;
            s->c = src->c;
            s->cmid = (int)cout;
            s->w1 = w;
            s->b1 = b;
            s->stage = 1;
            c->v[o].kind = K_SE;
            c->v[o].se = c->n_se++;
            c->v[o].se_stage = 1;
            return 0;
        }
        cv_se *s = &c->se[xv->se];
        if (xv->se_stage != s->stage || (s->stage != 1 && s->stage != 2) || xv->uses != 1 || cin_g != s->cmid || cout != s->c) {
            free(w);
            free(b);
            return cv_err(c, EFFCAM_E_UNSUPPORTED, "squeeze-excitation: the second 1x1 Conv must map %d back to %d channels", s->cmid, s->c), -1;
        }
        s->w2 = w;
        s->b2 = b;
        s->stage = 3;
        c->v[o].kind = K_SE;
        c->v[o].se = xv->se;
        c->v[o].se_stage = 3;
        return 0;
    }
    if (xv->kind == K_PAD) {
        if (flags) return cv_err(c, EFFCAM_E_UNSUPPORTED, "Pad followed by auto_pad SAME"), -1;
        for (int k = 0; k < 4; k++) pads[k] += xv->pads[k];
        if (xv->uses != 1) return cv_err(c, EFFCAM_E_UNSUPPORTED, "a Pad output must feed only one Conv"), -1;
        x = xv->src;
    }
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    const cv_val *in = &c->v[fx];
    /* ONNX pads: [top, left, bottom, right] */
    for (int k = 0; k < 4; k++)
        if (pads[k] < 0 || pads[k] >= (k % 2 ? kw : kh))
            return cv_err(c, EFFCAM_E_UNSUPPORTED, "padding %lld must be in 0..kernel-1", (long long)pads[k]), -1;
    int C = in->c, type;
    if (group == 1) {
        if (cin_g != C) return cv_err(c, EFFCAM_E_CORRUPT, "weights expect %lld input channels, the input has %d", (long long)cin_g, C), -1;
        int pw = kh == 1 && kw == 1 && st[0] == 1 && st[1] == 1 && !pads[0] && !pads[1] && !pads[2] && !pads[3] && !flags;
        type = pw ? ECW_OP_PWCONV : ECW_OP_CONV2D;
    } else if (group == C && cin_g == 1 && cout == C) {
        type = ECW_OP_DWCONV;
    } else {
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "grouped convolution (group %lld, %d channels) is not supported", (long long)group, C), -1;
    }
    if (in->vec && type != ECW_OP_PWCONV)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "only 1x1 convolutions can follow a global pool"), -1;
    double *w = NULL, *b = NULL;
    uint64_t nw, nb = 0;
    if (cv_const(c, wv, "weights", &w, &nw)) return -1;
    if (bv >= 0 && cv_const(c, bv, "bias", &b, &nb)) { free(w); return -1; }
    if (b && nb != (uint64_t)cout) { free(w); free(b); return cv_err(c, EFFCAM_E_CORRUPT, "bias has %llu values for %lld channels", (unsigned long long)nb, (long long)cout), -1; }
    size_t K = (size_t)(kh * kw);
    double *t = malloc(nw ? (size_t)nw * sizeof *t : sizeof *t);
    if (!t) { free(w); free(b); return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1; }
    int op = cv_emit(c, type, ECW_ACT_NONE, in->op + 1, -1, C, (int)cout);
    if (op < 0) { free(w); free(b); free(t); return -1; }
    cv_op *e = &c->ops[op];
    e->o.kh = (int)kh; e->o.kw = (int)kw; e->o.sh = (int)st[0]; e->o.sw = (int)st[1];
    e->o.flags = flags;
    for (int k = 0; k < 4; k++) e->o.pad[k] = (int)pads[k];
    if (type == ECW_OP_CONV2D) {
        /* [cout, cin, kh, kw] -> [cout, kh, kw, cin] */
        for (int64_t co = 0; co < cout; co++)
            for (int64_t ci = 0; ci < C; ci++)
                for (size_t k = 0; k < K; k++) t[((size_t)co * K + k) * (size_t)C + (size_t)ci] = w[((size_t)co * (size_t)C + (size_t)ci) * K + k];
        e->wndim[0] = 4; e->wdims[0][0] = (int)cout; e->wdims[0][1] = (int)kh; e->wdims[0][2] = (int)kw; e->wdims[0][3] = C;
    } else if (type == ECW_OP_PWCONV) {
        memcpy(t, w, (size_t)nw * sizeof *t);
        e->wndim[0] = 2; e->wdims[0][0] = (int)cout; e->wdims[0][1] = C;
    } else {
        /* [c, 1, kh, kw] -> [kh, kw, c] */
        for (int64_t ch = 0; ch < C; ch++)
            for (size_t k = 0; k < K; k++) t[k * (size_t)C + (size_t)ch] = w[(size_t)ch * K + k];
        e->wndim[0] = 3; e->wdims[0][0] = (int)kh; e->wdims[0][1] = (int)kw; e->wdims[0][2] = C;
    }
    free(w);
    e->w[0] = t;
    e->is_w[0] = 1;
    if (b) {
        e->w[1] = b;
        e->wndim[1] = 1;
        e->wdims[1][0] = (int)cout;
    }
    cv_val *ov = &c->v[o];
    ov->kind = K_FEAT;
    ov->op = op; ov->post = 0; ov->epoch = e->epoch; ov->c = (int)cout; ov->vec = in->vec;
    return 0;
}

/* ---- BatchNormalization, folded into the conv before it ------------------- */
static int do_bn(cv *c, const ox_node *n) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    double eps;
    int64_t training = 0;
    if (attr_float(c, n, "epsilon", 1e-5, &eps, NULL) || attr_int(c, n, "training_mode", 0, &training)) return -1;
    if (training) return cv_err(c, EFFCAM_E_UNSUPPORTED, "training_mode BatchNormalization"), -1;
    if (extra_outputs_unused(c, n)) return -1;
    const cv_val *v = &c->v[x];
    if (v->kind != K_FEAT || v->op < 0 || v->post || v->uses != 1 || v->epoch != c->ops[v->op].epoch ||
        c->ops[v->op].o.act != ECW_ACT_NONE ||
        (c->ops[v->op].o.type != ECW_OP_CONV2D && c->ops[v->op].o.type != ECW_OP_DWCONV && c->ops[v->op].o.type != ECW_OP_PWCONV))
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "BatchNormalization must directly follow a Conv whose output has no other consumer"), -1;
    cv_op *e = &c->ops[v->op];
    int C = e->o.cout;
    double *p[4] = {NULL, NULL, NULL, NULL};
    static const char *const what[4] = {"scale", "B", "mean", "var"};
    for (int k = 0; k < 4; k++) {
        int vi = need_in(c, n, k + 1, what[k]);
        uint64_t cnt;
        if (vi < 0 || cv_const(c, vi, what[k], &p[k], &cnt)) goto fail;
        if (cnt != (uint64_t)C) { cv_err(c, EFFCAM_E_CORRUPT, "%s has %llu values for %d channels", what[k], (unsigned long long)cnt, C); goto fail; }
    }
    if (!e->w[1]) {
        e->w[1] = calloc((size_t)C, sizeof(double));
        if (!e->w[1]) { cv_err(c, EFFCAM_E_NOMEM, "out of memory"); goto fail; }
        e->wndim[1] = 1;
        e->wdims[1][0] = C;
    }
    size_t per = 1;
    for (int k = 0; k < e->wndim[0]; k++) per *= (size_t)e->wdims[0][k];
    per /= (size_t)C;
    for (int ch = 0; ch < C; ch++) {
        double var = p[3][ch] + eps;
        if (!(var > 0)) { cv_err(c, EFFCAM_E_CORRUPT, "variance + epsilon <= 0 at channel %d", ch); goto fail; }
        double s = p[0][ch] / sqrt(var);
        if (e->o.type == ECW_OP_DWCONV)
            for (size_t k = 0; k < per; k++) e->w[0][k * (size_t)C + (size_t)ch] *= s;
        else
            for (size_t k = 0; k < per; k++) e->w[0][(size_t)ch * per + k] *= s;
        e->w[1][ch] = (e->w[1][ch] - p[2][ch]) * s + p[1][ch];
    }
    for (int k = 0; k < 4; k++) free(p[k]);
    e->epoch++;
    int o = out0(c, n);
    c->v[o].kind = K_FEAT;
    c->v[o].op = v->op; c->v[o].post = 0; c->v[o].epoch = e->epoch; c->v[o].c = C; c->v[o].vec = v->vec;
    return 0;
fail:
    for (int k = 0; k < 4; k++) free(p[k]);
    return -1;
}

/* ---- activations ---------------------------------------------------------- */
static int do_act(cv *c, const ox_node *n, int act) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    return cv_apply_act(c, x, act, 1, out0(c, n));
}

static int scalar_const(cv *c, int vi, const char *what, double *out) {
    double *v;
    uint64_t cnt;
    if (cv_const(c, vi, what, &v, &cnt)) return -1;
    if (cnt != 1) { free(v); return cv_err(c, EFFCAM_E_UNSUPPORTED, "%s must be a scalar", what), -1; }
    *out = v[0];
    free(v);
    return 0;
}

static int do_clip(cv *c, const ox_node *n) {
    double lo = -INFINITY, hi = INFINITY;
    int has_lo = 0, has_hi = 0;
    if (attr_float(c, n, "min", -INFINITY, &lo, &has_lo) || attr_float(c, n, "max", INFINITY, &hi, &has_hi)) return -1;
    int vlo = cv_in(c, n, 1), vhi = cv_in(c, n, 2);
    if (vlo >= 0) { if (scalar_const(c, vlo, "min", &lo)) return -1; has_lo = 1; }
    if (vhi >= 0) { if (scalar_const(c, vhi, "max", &hi)) return -1; has_hi = 1; }
    int act;
    if (has_lo && lo == 0 && has_hi && hi == 6) act = ECW_ACT_RELU6;
    else if (has_lo && lo == 0 && !has_hi) act = ECW_ACT_RELU;
    else return cv_err(c, EFFCAM_E_UNSUPPORTED, "Clip(%g, %g): only Clip(0, 6) (ReLU6) and Clip(0) (ReLU)", lo, hi), -1;
    return do_act(c, n, act);
}

static int do_sigmoid(cv *c, const ox_node *n, int hard) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    if (hard) {
        double a, b;
        if (attr_float(c, n, "alpha", 0.2, &a, NULL) || attr_float(c, n, "beta", 0.5, &b, NULL)) return -1;
        if (fabs(a - 1.0 / 6.0) > 1e-6 || fabs(b - 0.5) > 1e-6)
            return cv_err(c, EFFCAM_E_UNSUPPORTED, "HardSigmoid(alpha %g, beta %g): only alpha 1/6, beta 1/2 (PyTorch)", a, b), -1;
    }
    if (c->v[x].kind != K_FEAT && c->v[x].kind != K_SE) {
        x = cv_feat(c, x);
        if (x < 0) return -1;
    }
    int o = out0(c, n);
    c->v[o].kind = hard ? K_HSIG : K_SIG;
    c->v[o].src = x;
    c->v[o].resolved = -1;
    return 0;
}

static int same_feat(const cv *c, int a, int b) {
    const cv_val *x = &c->v[a], *y = &c->v[b];
    return x->kind == K_FEAT && y->kind == K_FEAT && x->op == y->op && x->post == y->post && x->epoch == y->epoch;
}

static int do_mul(cv *c, const ox_node *n) {
    int a = need_in(c, n, 0, "A"), b = need_in(c, n, 1, "B");
    if (a < 0 || b < 0) return -1;
    int o = out0(c, n);
    for (int pass = 0; pass < 2; pass++) {
        int x = pass ? b : a, g = pass ? a : b;
        const cv_val *gv = &c->v[g];
        if ((gv->kind != K_SIG && gv->kind != K_HSIG) || gv->resolved >= 0) continue;
        int act = gv->kind == K_SIG ? ECW_ACT_SILU : ECW_ACT_HSWISH;
        if (gv->src == x && gv->uses == 1) return cv_apply_act(c, x, act, 2, o); /* x * sigmoid(x) */
        const cv_val *s = &c->v[gv->src];
        if (s->kind == K_SE) { /* x * gate(SE(x)) */
            cv_se *se = &c->se[s->se];
            if (s->se_stage != 3 || se->stage != 3 || s->uses != 1 || gv->uses != 1)
                return cv_err(c, EFFCAM_E_UNSUPPORTED, "squeeze-excitation gate used outside the SE pattern"), -1;
            int fx = cv_feat(c, x);
            if (fx < 0) return -1;
            if (!same_feat(c, fx, se->x))
                return cv_err(c, EFFCAM_E_UNSUPPORTED, "squeeze-excitation gate multiplies a different tensor than the pooled one"), -1;
            se->gate = gv->kind == K_SIG ? ECW_ACT_SIGMOID : ECW_ACT_HSIGMOID;
            se->stage = 4;
            const cv_val *xv = &c->v[fx];
            int op = cv_emit(c, ECW_OP_SE, se->act1, xv->op + 1, -1, se->c, se->c);
            if (op < 0) return -1;
            cv_op *e = &c->ops[op];
            e->o.act2 = se->gate;
            e->o.cmid = se->cmid;
            e->w[0] = se->w1; e->is_w[0] = 1; e->wndim[0] = 2; e->wdims[0][0] = se->cmid; e->wdims[0][1] = se->c;
            e->w[1] = se->b1; e->wndim[1] = 1; e->wdims[1][0] = se->cmid;
            e->w[2] = se->w2; e->is_w[2] = 1; e->wndim[2] = 2; e->wdims[2][0] = se->c; e->wdims[2][1] = se->cmid;
            e->w[3] = se->b2; e->wndim[3] = 1; e->wdims[3][0] = se->c;
            se->w1 = se->b1 = se->w2 = se->b2 = NULL;
            c->v[o].kind = K_FEAT;
            c->v[o].op = op; c->v[o].post = 1; c->v[o].epoch = 0; c->v[o].c = se->c; c->v[o].vec = 0;
            return 0;
        }
    }
    return cv_err(c, EFFCAM_E_UNSUPPORTED, "only x*Sigmoid(x), x*HardSigmoid(x) and the squeeze-excitation gate are supported"), -1;
}

/* ---- pooling, flatten, head ---------------------------------------------- */
static int do_pool(cv *c, const ox_node *n, int reduce) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    if (reduce) {
        int64_t axes[4], keep;
        int na;
        if (attr_ints(c, n, "axes", axes, 4, &na) || attr_int(c, n, "keepdims", 1, &keep)) return -1;
        if (na < 0 && cv_in(c, n, 1) >= 0) { /* opset 18: axes as an input */
            double *v;
            uint64_t cnt;
            if (cv_const(c, cv_in(c, n, 1), "axes", &v, &cnt)) return -1;
            na = cnt <= 4 ? (int)cnt : 5;
            for (int k = 0; k < na && k < 4; k++) axes[k] = (int64_t)v[k];
            free(v);
        }
        int ok = na == 2;
        for (int k = 0; ok && k < 2; k++) {
            int64_t a = axes[k] < 0 ? axes[k] + 4 : axes[k];
            ok = a == 2 + k || (a == 3 - k && axes[0] != axes[1]);
        }
        if (!ok) return cv_err(c, EFFCAM_E_UNSUPPORTED, "ReduceMean must reduce axes (2, 3)"), -1;
    }
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    if (c->v[fx].vec) return cv_err(c, EFFCAM_E_UNSUPPORTED, "global pool of an already pooled vector"), -1;
    int o = out0(c, n);
    c->v[o].kind = K_POOL;
    c->v[o].src = fx;
    c->v[o].c = c->v[fx].c;
    c->v[o].resolved = -1;
    return 0;
}

static int do_flatten(cv *c, const ox_node *n, int reshape) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    const cv_val *v = &c->v[x];
    int C = v->kind == K_POOL ? v->c : v->c;
    if (!(v->kind == K_POOL || (v->kind == K_FEAT && v->vec)))
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "only a globally pooled vector can be flattened"), -1;
    if (reshape) {
        int sv = need_in(c, n, 1, "shape");
        double *s;
        uint64_t cnt;
        if (sv < 0 || cv_const(c, sv, "shape", &s, &cnt)) return -1;
        int ok = cnt >= 1 && cnt <= 4;
        double prod = 1;
        for (uint64_t k = 0; ok && k < cnt; k++) {
            ok = s[k] == -1 || s[k] == 0 || s[k] == 1 || s[k] == C;
            if (s[k] > 0) prod *= s[k];
        }
        free(s);
        if (!ok || (prod != 1 && prod != C)) return cv_err(c, EFFCAM_E_UNSUPPORTED, "Reshape of a pooled vector to a shape other than [1, C]"), -1;
    } else {
        int64_t axis;
        if (attr_int(c, n, "axis", 1, &axis)) return -1;
        if (axis != 1) return cv_err(c, EFFCAM_E_UNSUPPORTED, "Flatten axis %lld (1 expected)", (long long)axis), -1;
    }
    alias(c, out0(c, n), x);
    return 0;
}

static int dense(cv *c, const ox_node *n, int x, int bv, const double *w, int64_t N, int64_t K, int transposed, double alpha,
                 double beta) {
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    const cv_val *in = &c->v[fx];
    if (!in->vec) return cv_err(c, EFFCAM_E_UNSUPPORTED, "Gemm/MatMul input must be a globally pooled vector"), -1;
    if (K != in->c) return cv_err(c, EFFCAM_E_CORRUPT, "weights expect %lld inputs, the vector has %d", (long long)K, in->c), -1;
    if (N < 1 || N > ECW_MAX_CHANNELS) return cv_err(c, EFFCAM_E_DIMS, "%lld outputs (1..%u)", (long long)N, ECW_MAX_CHANNELS), -1;
    double *b = NULL;
    uint64_t nb = 0;
    if (bv >= 0) {
        if (cv_const(c, bv, "C", &b, &nb)) return -1;
        if (nb != (uint64_t)N && nb != 1) { free(b); return cv_err(c, EFFCAM_E_CORRUPT, "bias has %llu values for %lld outputs", (unsigned long long)nb, (long long)N), -1; }
    }
    double *t = malloc((size_t)(N * K) * sizeof *t);
    double *bb = b ? malloc((size_t)N * sizeof *bb) : NULL;
    if (!t || (b && !bb)) { free(t); free(b); free(bb); return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1; }
    for (int64_t i = 0; i < N; i++)
        for (int64_t k = 0; k < K; k++) t[i * K + k] = alpha * (transposed ? w[k * N + i] : w[i * K + k]);
    if (b)
        for (int64_t i = 0; i < N; i++) bb[i] = beta * b[nb == 1 ? 0 : i];
    free(b);
    int op = cv_emit(c, ECW_OP_DENSE, ECW_ACT_NONE, in->op + 1, -1, in->c, (int)N);
    if (op < 0) { free(t); free(bb); return -1; }
    cv_op *e = &c->ops[op];
    e->w[0] = t; e->is_w[0] = 1; e->wndim[0] = 2; e->wdims[0][0] = (int)N; e->wdims[0][1] = (int)K;
    if (bb) { e->w[1] = bb; e->wndim[1] = 1; e->wdims[1][0] = (int)N; }
    int o = out0(c, n);
    c->v[o].kind = K_FEAT;
    c->v[o].op = op; c->v[o].post = 0; c->v[o].epoch = 0; c->v[o].c = (int)N; c->v[o].vec = 1;
    return 0;
}

static int do_gemm(cv *c, const ox_node *n, int matmul) {
    int a = need_in(c, n, 0, "A"), bv = need_in(c, n, 1, "B");
    if (a < 0 || bv < 0) return -1;
    int64_t ta = 0, tb = 0;
    double alpha = 1, beta = 1;
    if (!matmul && (attr_int(c, n, "transA", 0, &ta) || attr_int(c, n, "transB", 0, &tb) ||
                    attr_float(c, n, "alpha", 1.0, &alpha, NULL) || attr_float(c, n, "beta", 1.0, &beta, NULL)))
        return -1;
    if (ta) return cv_err(c, EFFCAM_E_UNSUPPORTED, "transA = 1"), -1;
    if (c->v[bv].kind != K_CONST || c->v[bv].t->ndim != 2)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "B must be a 2-D initializer or Constant"), -1;
    const ox_tensor *B = c->v[bv].t;
    int64_t N = tb ? B->dims[0] : B->dims[1], K = tb ? B->dims[1] : B->dims[0];
    double *w;
    uint64_t nw;
    if (cv_const(c, bv, "B", &w, &nw)) return -1;
    int r = dense(c, n, a, matmul ? -1 : cv_in(c, n, 2), w, N, K, !tb, alpha, beta);
    free(w);
    return r;
}

static int do_add(cv *c, const ox_node *n) {
    int a = need_in(c, n, 0, "A"), b = need_in(c, n, 1, "B");
    if (a < 0 || b < 0) return -1;
    int o = out0(c, n);
    for (int pass = 0; pass < 2; pass++) { /* MatMul + Add: the bias */
        int x = pass ? b : a, k = pass ? a : b;
        if (c->v[k].kind != K_CONST) continue;
        const cv_val *v = &c->v[x];
        if (v->kind != K_FEAT || v->op < 0 || v->post || v->uses != 1 || v->epoch != c->ops[v->op].epoch ||
            c->ops[v->op].o.type != ECW_OP_DENSE || c->ops[v->op].w[1] || c->ops[v->op].o.act)
            return cv_err(c, EFFCAM_E_UNSUPPORTED, "adding a constant is supported only as the bias of a MatMul"), -1;
        cv_op *e = &c->ops[v->op];
        double *bias;
        uint64_t nb;
        if (cv_const(c, k, "bias", &bias, &nb)) return -1;
        if (nb != (uint64_t)e->o.cout) { free(bias); return cv_err(c, EFFCAM_E_CORRUPT, "bias has %llu values for %d outputs", (unsigned long long)nb, e->o.cout), -1; }
        e->w[1] = bias; e->wndim[1] = 1; e->wdims[1][0] = e->o.cout;
        c->v[o] = (cv_val){.name = c->v[o].name, .producer = c->v[o].producer, .uses = c->v[o].uses, .kind = K_FEAT,
                           .op = v->op, .post = 0, .epoch = v->epoch, .c = v->c, .vec = 1, .resolved = -1, .orig = -1};
        return 0;
    }
    int fa = cv_feat(c, a);
    if (fa < 0) return -1;
    int fb = cv_feat(c, b);
    if (fb < 0) return -1;
    const cv_val *va = &c->v[fa], *vb = &c->v[fb];
    if (va->c != vb->c || va->vec != vb->vec)
        return cv_err(c, EFFCAM_E_CORRUPT, "Add of tensors with %d and %d channels", va->c, vb->c), -1;
    int op = cv_emit(c, ECW_OP_ADD, ECW_ACT_NONE, va->op + 1, vb->op + 1, va->c, va->c);
    if (op < 0) return -1;
    c->v[o].kind = K_FEAT;
    c->v[o].op = op; c->v[o].post = 0; c->v[o].epoch = 0; c->v[o].c = va->c; c->v[o].vec = va->vec;
    return 0;
}

static int do_softmax(cv *c, const ox_node *n) {
    int x = need_in(c, n, 0, "X");
    if (x < 0) return -1;
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    const cv_val *v = &c->v[fx];
    if (!v->vec || v->op < 0 || c->ops[v->op].o.type != ECW_OP_DENSE)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "Softmax only on the final logits"), -1;
    int o = out0(c, n);
    alias(c, o, fx);
    c->v[o].softmax = 1;
    return 0;
}

static int do_pad(cv *c, const ox_node *n) {
    int x = need_in(c, n, 0, "data");
    if (x < 0) return -1;
    pb_buf mode;
    int64_t p[8];
    int np;
    double val = 0;
    if (attr_str(c, n, "mode", &mode) || attr_ints(c, n, "pads", p, 8, &np) || attr_float(c, n, "value", 0, &val, NULL)) return -1;
    if (mode.n && !pb_eq(mode, "constant")) return cv_err(c, EFFCAM_E_UNSUPPORTED, "only constant padding"), -1;
    if (np < 0) {
        int pv = need_in(c, n, 1, "pads");
        double *v;
        uint64_t cnt;
        if (pv < 0 || cv_const(c, pv, "pads", &v, &cnt)) return -1;
        if (cnt != 8) { free(v); return cv_err(c, EFFCAM_E_UNSUPPORTED, "pads of %llu values (8 expected)", (unsigned long long)cnt), -1; }
        for (int k = 0; k < 8; k++) p[k] = (int64_t)v[k];
        free(v);
        np = 8;
        int cvi = cv_in(c, n, 2);
        if (cvi >= 0 && scalar_const(c, cvi, "constant_value", &val)) return -1;
    }
    if (np != 8 || p[0] || p[1] || p[4] || p[5] || val != 0)
        return cv_err(c, EFFCAM_E_UNSUPPORTED, "only zero padding of the spatial dimensions"), -1;
    for (int k = 0; k < 8; k++)
        if (p[k] < 0 || p[k] > ECW_MAX_KERNEL) return cv_err(c, EFFCAM_E_UNSUPPORTED, "pad %lld out of range", (long long)p[k]), -1;
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    int o = out0(c, n);
    c->v[o].kind = K_PAD;
    c->v[o].src = fx;
    c->v[o].pads[0] = (int)p[2]; c->v[o].pads[1] = (int)p[3]; c->v[o].pads[2] = (int)p[6]; c->v[o].pads[3] = (int)p[7];
    return 0;
}

static int do_constant(cv *c, const ox_node *n) {
    int bad;
    const ox_attr *a = attr(c, n, "value", OX_A_TENSOR, &bad);
    if (bad) return -1;
    if (!a || !a->has_t) return cv_err(c, EFFCAM_E_UNSUPPORTED, "only Constant with a 'value' tensor"), -1;
    int o = out0(c, n);
    c->v[o].kind = K_CONST;
    c->v[o].t = &a->t;
    return 0;
}

static int do_identity(cv *c, const ox_node *n) {
    int x = need_in(c, n, 0, "input");
    if (x < 0) return -1;
    if (extra_outputs_unused(c, n)) return -1;
    alias(c, out0(c, n), x);
    return 0;
}

int cv_run_node(cv *c, const ox_node *n) {
    pb_buf t = n->op_type;
    if (pb_eq(t, "Conv")) return do_conv(c, n);
    if (pb_eq(t, "BatchNormalization")) return do_bn(c, n);
    if (pb_eq(t, "Relu")) return do_act(c, n, ECW_ACT_RELU);
    if (pb_eq(t, "HardSwish")) return do_act(c, n, ECW_ACT_HSWISH);
    if (pb_eq(t, "Clip")) return do_clip(c, n);
    if (pb_eq(t, "Sigmoid")) return do_sigmoid(c, n, 0);
    if (pb_eq(t, "HardSigmoid")) return do_sigmoid(c, n, 1);
    if (pb_eq(t, "Mul")) return do_mul(c, n);
    if (pb_eq(t, "Add")) return do_add(c, n);
    if (pb_eq(t, "GlobalAveragePool")) return do_pool(c, n, 0);
    if (pb_eq(t, "ReduceMean")) return do_pool(c, n, 1);
    if (pb_eq(t, "Flatten")) return do_flatten(c, n, 0);
    if (pb_eq(t, "Reshape")) return do_flatten(c, n, 1);
    if (pb_eq(t, "Gemm")) return do_gemm(c, n, 0);
    if (pb_eq(t, "MatMul")) return do_gemm(c, n, 1);
    if (pb_eq(t, "Softmax")) return do_softmax(c, n);
    if (pb_eq(t, "Pad")) return do_pad(c, n);
    if (pb_eq(t, "Constant")) return do_constant(c, n);
    if (pb_eq(t, "Identity") || pb_eq(t, "Dropout")) return do_identity(c, n);
    return cv_err(c, EFFCAM_E_UNSUPPORTED, "unsupported op type '%s'", c->optype), -1;
}
