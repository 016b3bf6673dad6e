/* Op geometry: output shapes, effective padding, scratch sizes, names. */
#include "internal.h"
#include "ops/ops.h"

static const char *const k_op_names[ECW_OP_TYPE_COUNT] = {
    [0] = "?", [ECW_OP_CONV2D] = "conv2d", [ECW_OP_DWCONV] = "dwconv", [ECW_OP_PWCONV] = "pwconv",
    [ECW_OP_SE] = "se", [ECW_OP_ADD] = "add", [ECW_OP_GAP] = "gap", [ECW_OP_DENSE] = "dense", [ECW_OP_ACT] = "act",
};
static const char *const k_act_names[ECW_ACT_COUNT] = {
    "none", "relu", "relu6", "silu", "sigmoid", "hswish", "hsigmoid",
};

const char *ec_op_type_name(int type) {
    return (type > 0 && type < ECW_OP_TYPE_COUNT) ? k_op_names[type] : "?";
}
const char *ec_act_name(int act) { return (act >= 0 && act < ECW_ACT_COUNT) ? k_act_names[act] : "?"; }

int ec_op_weight_slots(const ec_op *op) {
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV:
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: return 1;
    case ECW_OP_SE: return 2;
    default: return 0;
    }
}

uint64_t ec_op_params(const ec_op *op) {
    uint64_t cin = (uint64_t)op->cin, cout = (uint64_t)op->cout, k = (uint64_t)op->kh * (uint64_t)op->kw;
    uint64_t bias = op->t[1] >= 0 ? cout : 0;
    switch (op->type) {
    case ECW_OP_CONV2D: return cout * k * cin + bias;
    case ECW_OP_DWCONV: return k * cin + bias;
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: return cout * cin + bias;
    case ECW_OP_SE: return 2 * cin * (uint64_t)op->cmid + (uint64_t)op->cmid + cin;
    default: return 0;
    }
}

/* One spatial axis: output size and leading pad. */
static int axis(int in, int k, int s, int p0, int p1, int same, int *out, int *pad0) {
    if (same) {
        int o = (in + s - 1) / s;
        long total = (long)(o - 1) * s + k - in;
        if (total < 0) total = 0;
        *out = o;
        *pad0 = (int)(total / 2);
        return o >= 1;
    }
    long span = (long)in + p0 + p1 - k;
    if (span < 0) return 0;
    *out = (int)(span / s + 1);
    *pad0 = p0;
    return 1;
}

effcam_status ec_op_geometry(const ec_op *op, const ec_shape *in, ec_shape *out, int *pt, int *pl, effcam_error *err) {
    *pt = *pl = 0;
    *out = *in;
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV: {
        int same = (op->flags & ECW_OPF_PAD_SAME) != 0;
        if (!axis(in->h, op->kh, op->sh, op->pt, op->pb, same, &out->h, pt) ||
            !axis(in->w, op->kw, op->sw, op->pl, op->pr, same, &out->w, pl))
            return ec_fail(err, EFFCAM_E_DIMS, "op '%s' (%s %dx%d): input %dx%d is too small for the kernel",
                           op->name, ec_op_type_name(op->type), op->kh, op->kw, in->h, in->w);
        out->c = op->cout;
        return EFFCAM_OK;
    }
    case ECW_OP_PWCONV: out->c = op->cout; return EFFCAM_OK;
    case ECW_OP_GAP: out->h = out->w = 1; return EFFCAM_OK;
    case ECW_OP_DENSE: out->h = out->w = 1; out->c = op->cout; return EFFCAM_OK;
    default: return EFFCAM_OK; /* se, add, act: same shape */
    }
}

void ec_conv_dims_of(const ec_op *op, const ec_shape *in, const ec_shape *out, int pt, int pl, ec_conv_dims *d) {
    d->h = in->h; d->w = in->w; d->cin = in->c;
    d->oh = out->h; d->ow = out->w; d->cout = out->c;
    d->kh = op->kh; d->kw = op->kw; d->sh = op->sh; d->sw = op->sw;
    d->pt = pt; d->pl = pl; d->act = op->act;
    d->wdt = op->wdt[0];
    d->wino_pre = op->wino_pre;
    d->wino_u = op->wino_u;
}

size_t ec_op_wino_u_floats(const ec_op *op) {
    if (op->type != ECW_OP_CONV2D) return 0;
    ec_conv_dims d = {0};
    d.h = d.w = d.oh = d.ow = 1; /* any size: the test does not depend on it */
    d.cin = op->cin; d.cout = op->cout;
    d.kh = op->kh; d.kw = op->kw; d.sh = op->sh; d.sw = op->sw;
    d.wdt = op->wdt[0];
    return ec_conv2d_winograd_ok(&d) ? ec_conv3x3_wino_u_floats(op->cin, op->cout) : 0;
}

void ec_pw_dims_of(const ec_op *op, const ec_shape *in, ec_pw_dims *d) {
    d->m = in->h * in->w;
    d->cin = op->cin; d->cout = op->cout; d->act = op->act;
    d->wdt = op->wdt[0];
}

void ec_se_dims_of(const ec_op *op, const ec_shape *in, ec_se_dims *d) {
    d->h = in->h; d->w = in->w; d->c = in->c; d->cmid = op->cmid;
    d->act = op->act; d->gate = op->act2;
    d->wdt1 = op->wdt[0]; d->wdt2 = op->wdt[1];
}


int ec_op_saves_preact(const ec_op *op) {
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV:
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE:
    case ECW_OP_ADD: return op->act != ECW_ACT_NONE;
    default: return 0; /* se saves its own values; act's pre-activation is its input */
    }
}

/* Exact scratch of the op's forward (bwd = 0) or backward (bwd = 1) kernel;
 * it depends on the weight dtypes (fp32 weights need no widening room). */
static size_t scratch_floats(const ec_op *op, const ec_shape *in, int bwd) {
    switch (op->type) {
    case ECW_OP_CONV2D:
    case ECW_OP_DWCONV: {
        ec_shape o;
        int pt, pl;
        if (ec_op_geometry(op, in, &o, &pt, &pl, NULL)) return 0;
        ec_conv_dims d;
        ec_conv_dims_of(op, in, &o, pt, pl, &d);
        if (op->type == ECW_OP_CONV2D) return bwd ? ec_conv2d_backward_scratch_floats(&d) : ec_conv2d_scratch_floats(&d);
        return bwd ? ec_dwconv_backward_scratch_floats(&d) : ec_dwconv_scratch_floats(&d);
    }
    case ECW_OP_PWCONV:
    case ECW_OP_DENSE: {
        ec_pw_dims d;
        ec_pw_dims_of(op, in, &d);
        return bwd ? ec_pwconv_backward_scratch_floats(&d) : ec_pwconv_scratch_floats(&d);
    }
    case ECW_OP_SE: {
        ec_se_dims d;
        ec_se_dims_of(op, in, &d);
        return bwd ? ec_se_backward_scratch_floats(&d) : ec_se_scratch_floats(&d);
    }
    default: return 0;
    }
}

size_t ec_op_scratch_floats(const ec_op *op, const ec_shape *in, const ec_shape *out) {
    (void)out;
    return scratch_floats(op, in, 0);
}

size_t ec_op_backward_scratch_floats(const ec_op *op, const ec_shape *in, const ec_shape *out) {
    (void)out;
    return scratch_floats(op, in, 1);
}
