#include "onnx_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

void pbw_free(pbw *w) { free(w->p); memset(w, 0, sizeof *w); }

static void put(pbw *w, const void *p, size_t n) {
    if (w->n + n > w->cap) {
        size_t c = w->cap ? w->cap : 256;
        while (c < w->n + n) c *= 2;
        w->p = realloc(w->p, c);
        w->cap = c;
    }
    if (n) memcpy(w->p + w->n, p, n);
    w->n += n;
}

void pbw_varint(pbw *w, uint64_t v) {
    uint8_t b[10];
    int k = 0;
    do {
        b[k] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) b[k] |= 0x80;
        k++;
    } while (v);
    put(w, b, (size_t)k);
}
void pbw_tag(pbw *w, uint32_t num, int wire) { pbw_varint(w, ((uint64_t)num << 3) | (uint64_t)wire); }
void pbw_int(pbw *w, uint32_t num, int64_t v) { pbw_tag(w, num, 0); pbw_varint(w, (uint64_t)v); }
void pbw_f32(pbw *w, uint32_t num, float v) {
    pbw_tag(w, num, 5);
    uint32_t u;
    memcpy(&u, &v, 4);
    uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    put(w, b, 4);
}
void pbw_bytes(pbw *w, uint32_t num, const void *p, size_t n) { pbw_tag(w, num, 2); pbw_varint(w, n); put(w, p, n); }
void pbw_str(pbw *w, uint32_t num, const char *s) { pbw_bytes(w, num, s, strlen(s)); }
void pbw_msg(pbw *w, uint32_t num, const pbw *sub) { pbw_bytes(w, num, sub->p, sub->n); }

/* ---- ONNX pieces -------------------------------------------------------- */
typedef struct ctx { int fault; tu_rng r; pbw graph; uint8_t *ext; size_t ext_n; int ext_done; } ctx;

static void tensor(ctx *c, pbw *dst, uint32_t field, const char *name, int ndim, const int64_t *dims, const float *v,
                   int weight) {
    pbw t = {0};
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    for (int i = 0; i < ndim; i++) {
        int64_t d = dims[i];
        if (weight && i == 0 && c->fault == OB_HUGE_DIM) d = 1ll << 40;
        if (weight && i == 0 && c->fault == OB_NEG_DIM) d = -3;
        if (weight && c->fault == OB_OVERFLOW_DIMS) d = 1ll << 30;
        if (weight && c->fault == OB_WIRE_DIMS) pbw_f32(&t, 1, (float)d);
        else pbw_int(&t, 1, d);
    }
    pbw_int(&t, 2, 1); /* FLOAT */
    pbw_str(&t, 8, name);
    int ext = weight && (c->fault == OB_EXT_ABS || c->fault == OB_EXT_DOTDOT || c->fault == OB_EXT_OK) && !c->ext_done;
    if (ext) {
        c->ext_done = 1;
        c->ext_n = n * 4;
        c->ext = malloc(c->ext_n);
        memcpy(c->ext, v, c->ext_n); /* little-endian host */
        pbw_int(&t, 14, 1);
        const char *loc = c->fault == OB_EXT_ABS ? "/tmp/w.bin" : c->fault == OB_EXT_DOTDOT ? "sub/../../w.bin" : "w.bin";
        pbw e = {0};
        pbw_str(&e, 1, "location");
        pbw_str(&e, 2, loc);
        pbw_msg(&t, 13, &e);
        pbw_free(&e);
        e = (pbw){0};
        pbw_str(&e, 1, "length");
        char len[32];
        snprintf(len, sizeof len, "%zu", n * 4);
        pbw_str(&e, 2, len);
        pbw_msg(&t, 13, &e);
        pbw_free(&e);
    } else if (weight && (c->fault == OB_TYPED_OK || c->fault == OB_TYPED_COUNT)) {
        size_t m = c->fault == OB_TYPED_COUNT ? n - 1 : n;
        pbw p = {0};
        for (size_t i = 0; i < m; i++) {
            uint32_t u;
            memcpy(&u, &v[i], 4);
            uint8_t b[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
            put(&p, b, 4);
        }
        pbw_msg(&t, 4, &p);
        pbw_free(&p);
    } else {
        size_t bytes = n * 4;
        if (weight && c->fault == OB_RAW_SHORT) bytes -= 4;
        pbw_bytes(&t, 9, v, bytes);
    }
    pbw_msg(dst, field, &t);
    pbw_free(&t);
}

static void init(ctx *c, const char *name, int ndim, const int64_t *dims, float lo, float hi, int weight) {
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)dims[i];
    float *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = tu_uniform(&c->r, lo, hi);
    tensor(c, &c->graph, 5, name, ndim, dims, v, weight);
    free(v);
}

typedef struct attrs { pbw a; } attrs;
static void a_int(attrs *a, const char *name, int64_t v) {
    pbw t = {0};
    pbw_str(&t, 1, name);
    pbw_int(&t, 20, 2);
    pbw_int(&t, 3, v);
    pbw_msg(&a->a, 5, &t);
    pbw_free(&t);
}
static void a_float(attrs *a, const char *name, float v) {
    pbw t = {0};
    pbw_str(&t, 1, name);
    pbw_int(&t, 20, 1);
    pbw_f32(&t, 2, v);
    pbw_msg(&a->a, 5, &t);
    pbw_free(&t);
}
static void a_ints(attrs *a, const char *name, int n, const int64_t *v) {
    pbw t = {0};
    pbw_str(&t, 1, name);
    pbw_int(&t, 20, 7);
    for (int i = 0; i < n; i++) pbw_int(&t, 8, v[i]);
    pbw_msg(&a->a, 5, &t);
    pbw_free(&t);
}

static void node(ctx *c, const char *name, const char *op, int nin, const char *const *in, const char *out, attrs *a) {
    pbw n = {0};
    for (int i = 0; i < nin; i++) pbw_str(&n, 1, in[i]);
    pbw_str(&n, 2, out);
    pbw_str(&n, 3, name);
    if (c->fault == OB_WIRE_OPTYPE && !strcmp(op, "Gemm")) pbw_int(&n, 4, 7);
    else pbw_str(&n, 4, c->fault == OB_UNKNOWN_OP && !strcmp(op, "HardSwish") ? "FancyOp" : op);
    if (a) {
        put(&n, a->a.p, a->a.n);
        pbw_free(&a->a);
    }
    pbw_msg(&c->graph, 1, &n);
    pbw_free(&n);
}

/* A Constant node holding one float (a 0-d tensor in its "value" attribute). */
static void const_scalar(ctx *c, const char *name, const char *out, float v) {
    pbw t = {0}, at = {0};
    attrs a;
    pbw_int(&t, 2, 1);
    pbw_bytes(&t, 9, &v, 4);
    pbw_str(&at, 1, "value");
    pbw_int(&at, 20, 4);
    pbw_msg(&at, 5, &t);
    memset(&a, 0, sizeof a);
    pbw_msg(&a.a, 5, &at);
    node(c, name, "Constant", 0, NULL, out, &a);
    pbw_free(&t);
    pbw_free(&at);
}

static void conv_attrs(ctx *c, attrs *a, int k, int s, int p, int group) {
    int64_t ks[2] = {k, k}, st[2] = {s, s}, pd[4] = {p, p, p, p}, dl[2] = {1, 1};
    memset(a, 0, sizeof *a);
    if (c->fault == OB_DILATED && k == 3 && group > 1) dl[0] = dl[1] = 2;
    a_ints(a, "dilations", 2, dl);
    if (c->fault == OB_ATTR_TYPE && k == 3 && group == 1) a_float(a, "group", 1.0f);
    else if (c->fault == OB_WIRE_GROUP && k == 3 && group == 1) {
        pbw t = {0};
        pbw_str(&t, 1, "group");
        pbw_int(&t, 20, 2);
        pbw_tag(&t, 3, 1);
        uint8_t b[8] = {1, 0, 0, 0, 0, 0, 0, 0};
        put(&t, b, 8);
        pbw_msg(&a->a, 5, &t);
        pbw_free(&t);
    } else a_int(a, "group", group);
    a_ints(a, "kernel_shape", 2, ks);
    a_ints(a, "pads", 4, pd);
    a_ints(a, "strides", 2, st);
}

static void value_info(pbw *dst, uint32_t field, const char *name, int ndim, const int64_t *dims) {
    pbw shape = {0}, tt = {0}, ty = {0}, vi = {0};
    for (int i = 0; i < ndim; i++) {
        pbw d = {0};
        pbw_int(&d, 1, dims[i]);
        pbw_msg(&shape, 1, &d);
        pbw_free(&d);
    }
    pbw_int(&tt, 1, 1);
    pbw_msg(&tt, 2, &shape);
    pbw_msg(&ty, 1, &tt);
    pbw_str(&vi, 1, name);
    pbw_msg(&vi, 2, &ty);
    pbw_msg(dst, field, &vi);
    pbw_free(&shape); pbw_free(&tt); pbw_free(&ty); pbw_free(&vi);
}

int ob_tiny(int fault, uint64_t seed, uint8_t **out, size_t *n, uint8_t **ext_w, size_t *ext_n) {
    ctx c;
    memset(&c, 0, sizeof c);
    c.fault = fault;
    tu_seed(&c.r, seed);
    attrs a;
    const float w = 0.4f;
    /* stem conv 3x3 s2 pad 1, 3 -> 8, then BN */
    int64_t d_stem[4] = {8, 3, 3, 3}, d8[1] = {8};
    if (fault == OB_CHANNELS) d_stem[1] = 4;
    init(&c, "stem.weight", 4, d_stem, -w, w, 1);
    init(&c, "bn.scale", 1, d8, 0.5f, 1.5f, 0);
    init(&c, "bn.bias", 1, d8, -0.2f, 0.2f, 0);
    init(&c, "bn.mean", 1, d8, -0.2f, 0.2f, 0);
    init(&c, "bn.var", 1, d8, 0.5f, 1.5f, 0);
    const char *in0[] = {"input", fault == OB_MISSING_INIT ? "nowhere.weight" : "stem.weight"};
    conv_attrs(&c, &a, 3, 2, 1, 1);
    node(&c, "/features/features.0/features.0.0/Conv", "Conv", 2, in0, "c0", &a);
    if (fault == OB_BN_NOT_AFTER_CONV) {
        node(&c, "/features/features.0/Relu", "Relu", 1, (const char *const[]){"c0"}, "c0r", NULL);
        in0[0] = "c0r";
    } else in0[0] = "c0";
    memset(&a, 0, sizeof a);
    a_float(&a, "epsilon", 1e-3f);
    node(&c, "/features/features.0/features.0.1/BatchNormalization", "BatchNormalization", 5,
         (const char *const[]){in0[0], "bn.scale", "bn.bias", "bn.mean", "bn.var"}, "b0", &a);
    node(&c, "/features/features.0/features.0.2/Sigmoid", "Sigmoid", 1, (const char *const[]){"b0"}, "s0", NULL);
    node(&c, "/features/features.0/features.0.2/Mul", "Mul", 2, (const char *const[]){"b0", "s0"}, "x0", NULL);
    /* SE 8 -> 2 -> 8 */
    int64_t d_fc1[4] = {2, 8, 1, 1}, d_fc2[4] = {8, 2, 1, 1}, d2[1] = {2};
    init(&c, "se.fc1.weight", 4, d_fc1, -w, w, 0);
    init(&c, "se.fc1.bias", 1, d2, -0.1f, 0.1f, 0);
    init(&c, "se.fc2.weight", 4, d_fc2, -w, w, 0);
    init(&c, "se.fc2.bias", 1, d8, -0.1f, 0.1f, 0);
    node(&c, "/features/features.1/block/block.0/avgpool/GlobalAveragePool", "GlobalAveragePool", 1,
         (const char *const[]){"x0"}, "p1", NULL);
    conv_attrs(&c, &a, 1, 1, 0, 1);
    node(&c, "/features/features.1/block/block.0/fc1/Conv", "Conv", 3, (const char *const[]){"p1", "se.fc1.weight", "se.fc1.bias"}, "f1", &a);
    node(&c, "/features/features.1/block/block.0/activation/Relu", "Relu", 1, (const char *const[]){"f1"}, "f1r", NULL);
    conv_attrs(&c, &a, 1, 1, 0, 1);
    node(&c, "/features/features.1/block/block.0/fc2/Conv", "Conv", 3, (const char *const[]){"f1r", "se.fc2.weight", "se.fc2.bias"}, "f2", &a);
    node(&c, "/features/features.1/block/block.0/scale_activation/Sigmoid", "Sigmoid", 1, (const char *const[]){"f2"}, "g", NULL);
    node(&c, "/features/features.1/block/block.0/Mul", "Mul", 2, (const char *const[]){"g", "x0"}, "se", NULL);
    /* project 1x1 8 -> 8, residual add */
    int64_t d_pw[4] = {8, 8, 1, 1};
    init(&c, "proj.weight", 4, d_pw, -w, w, 0);
    init(&c, "proj.bias", 1, d8, -0.1f, 0.1f, 0);
    conv_attrs(&c, &a, 1, 1, 0, 1);
    node(&c, "/features/features.1/block/block.1/Conv", "Conv", 3, (const char *const[]){"se", "proj.weight", "proj.bias"}, "pj", &a);
    node(&c, "/features/features.1/Add", "Add", 2, (const char *const[]){"pj", "x0"}, "x1", NULL);
    /* Clip(0, 6) with Constant inputs */
    const_scalar(&c, "/features/features.2/Constant", "cmin", fault == OB_CLIP_RANGE ? -1.0f : 0.0f);
    const_scalar(&c, "/features/features.2/Constant_1", "cmax", fault == OB_CLIP_RANGE ? 1.0f : 6.0f);
    if (fault == OB_VARIANT_MM) { /* opset < 11 style: min / max as attributes */
        memset(&a, 0, sizeof a);
        a_float(&a, "max", 6.0f);
        a_float(&a, "min", 0.0f);
        node(&c, "/features/features.2/Clip", "Clip", 1, (const char *const[]){"x1"}, "x2", &a);
    } else {
        node(&c, "/features/features.2/Clip", "Clip", 3, (const char *const[]){"x1", "cmin", "cmax"}, "x2", NULL);
    }
    memset(&a, 0, sizeof a);
    a_float(&a, "alpha", 1.0f / 6.0f);
    a_float(&a, "beta", 0.5f);
    node(&c, "/features/features.3/HardSigmoid", "HardSigmoid", 1, (const char *const[]){"x2"}, "hs", &a);
    node(&c, "/features/features.3/Mul", "Mul", 2, (const char *const[]){"x2", "hs"}, "x3", NULL);
    /* Pad (opset 13: pads as an initializer) + depthwise 3x3 + HardSwish */
    {
        int64_t pads[8] = {0, 0, 1, 1, 0, 0, 1, 1}, dp[1] = {8};
        pbw t = {0};
        for (int i = 0; i < 1; i++) pbw_int(&t, 1, dp[i]);
        pbw_int(&t, 2, 7);
        pbw_str(&t, 8, "pads");
        pbw_bytes(&t, 9, pads, sizeof pads);
        pbw_msg(&c.graph, 5, &t);
        pbw_free(&t);
    }
    node(&c, "/features/features.4/Pad", "Pad", 2, (const char *const[]){"x3", "pads"}, "x3p", NULL);
    int64_t d_dw[4] = {8, 1, 3, 3};
    init(&c, "dw.weight", 4, d_dw, -w, w, 0);
    init(&c, "dw.bias", 1, d8, -0.1f, 0.1f, 0);
    conv_attrs(&c, &a, 3, 1, 0, fault == OB_GROUPED ? 2 : 8);
    node(&c, "/features/features.4/Conv", "Conv", 3, (const char *const[]){"x3p", "dw.weight", "dw.bias"}, "x4", &a);
    const char *hin = fault == OB_SELF_LOOP ? "x5" : fault == OB_CYCLE ? "y" : "x4";
    node(&c, "/features/features.4/HardSwish", "HardSwish", 1, (const char *const[]){hin}, "x5", NULL);
    if (fault == OB_CYCLE) node(&c, "/features/Relu", "Relu", 1, (const char *const[]){"x5"}, "y", NULL);
    if (fault == OB_DUP_OUTPUT) node(&c, "/features/Relu", "Relu", 1, (const char *const[]){"x4"}, "x5", NULL);
    if (fault == OB_VARIANT_MM) {
        int64_t axes[2] = {-1, 2}, shp[2] = {1, -1}, d2s[1] = {2};
        memset(&a, 0, sizeof a);
        a_ints(&a, "axes", 2, axes);
        a_int(&a, "keepdims", 1);
        node(&c, "/avgpool/ReduceMean", "ReduceMean", 1, (const char *const[]){"x5"}, "gp", &a);
        node(&c, "/avgpool/Identity", "Identity", 1, (const char *const[]){"gp"}, "gpi", NULL);
        pbw t = {0};
        pbw_int(&t, 1, d2s[0]);
        pbw_int(&t, 2, 7);
        pbw_str(&t, 8, "shape");
        pbw_bytes(&t, 9, shp, sizeof shp);
        pbw_msg(&c.graph, 5, &t);
        pbw_free(&t);
        node(&c, "/Reshape", "Reshape", 2, (const char *const[]){"gpi", "shape"}, "fl0", NULL);
        node(&c, "/classifier/classifier.0/Dropout", "Dropout", 1, (const char *const[]){"fl0"}, "fl", NULL);
        /* the same random weights as the Gemm version, stored transposed [K, N] */
        float wt[5 * 8], wkn[8 * 5], b[5];
        for (int i = 0; i < 40; i++) wt[i] = tu_uniform(&c.r, -1.5f, 1.5f);
        for (int i = 0; i < 5; i++) b[i] = tu_uniform(&c.r, -0.5f, 0.5f);
        for (int i = 0; i < 5; i++)
            for (int k = 0; k < 8; k++) wkn[k * 5 + i] = wt[i * 8 + k];
        int64_t dkn[2] = {8, 5}, d5b[1] = {5};
        tensor(&c, &c.graph, 5, "classifier.1.weight_t", 2, dkn, wkn, 0);
        tensor(&c, &c.graph, 5, "classifier.1.bias", 1, d5b, b, 0);
        node(&c, "/classifier/classifier.1/MatMul", "MatMul", 2, (const char *const[]){"fl", "classifier.1.weight_t"}, "mm", NULL);
        node(&c, "/classifier/classifier.1/Add", "Add", 2, (const char *const[]){"classifier.1.bias", "mm"}, "logits", NULL);
    } else {
        node(&c, "/avgpool/GlobalAveragePool", "GlobalAveragePool", 1, (const char *const[]){"x5"}, "gp", NULL);
        memset(&a, 0, sizeof a);
        a_int(&a, "axis", 1);
        node(&c, "/Flatten", "Flatten", 1, (const char *const[]){"gp"}, "fl", &a);
        int64_t d_fc[2] = {5, 8}, d5[1] = {5};
        init(&c, "classifier.1.weight", 2, d_fc, -1.5f, 1.5f, 0);
        init(&c, "classifier.1.bias", 1, d5, -0.5f, 0.5f, 0);
        memset(&a, 0, sizeof a);
        a_float(&a, "alpha", 1.0f);
        a_float(&a, "beta", 1.0f);
        a_int(&a, "transB", 1);
        node(&c, "/classifier/classifier.1/Gemm", "Gemm", 3, (const char *const[]){"fl", "classifier.1.weight", "classifier.1.bias"}, "logits", &a);
    }
    const char *last = "logits";
    if (fault == OB_HEAD_RELU) {
        node(&c, "/classifier/Relu", "Relu", 1, (const char *const[]){"logits"}, "lr", NULL);
        last = "lr";
    }
    memset(&a, 0, sizeof a);
    a_int(&a, "axis", 1);
    node(&c, "/Softmax", "Softmax", 1, (const char *const[]){last}, "probs", &a);
    pbw_str(&c.graph, 2, "tiny_onnx");
    int64_t din[4] = {1, 3, 16, 16}, dout[2] = {1, 5};
    value_info(&c.graph, 11, "input", 4, din);
    if (fault == OB_TWO_INPUTS) value_info(&c.graph, 11, "input2", 4, din);
    value_info(&c.graph, 12, "probs", 2, dout);
    /* ModelProto: ir_version, opset_import, producer, graph last */
    pbw m = {0}, os = {0};
    pbw_int(&m, 1, 8);
    pbw_str(&os, 1, "");
    pbw_int(&os, 2, 13);
    pbw_msg(&m, 8, &os);
    pbw_free(&os);
    pbw_str(&m, 2, "effcam-test");
    if (fault == OB_VARINT_LONG) {
        pbw_tag(&m, 5, 0);
        uint8_t b[11] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
        put(&m, b, 11);
    }
    if (fault == OB_HUGE_LEN) {
        pbw_tag(&m, 7, 2);
        pbw_varint(&m, 1ull << 40);
        put(&m, c.graph.p, c.graph.n);
    } else if (fault != OB_NO_GRAPH) {
        pbw_msg(&m, 7, &c.graph);
    }
    pbw_free(&c.graph);
    *out = m.p;
    *n = m.n;
    if (ext_w) { *ext_w = c.ext; *ext_n = c.ext_n; }
    else free(c.ext);
    return 0;
}
