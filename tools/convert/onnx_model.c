/* ONNX ModelProto decoding (field numbers from onnx.proto, ONNX 1.12).
 * Two passes over the graph: count, allocate once, fill. Nesting is fixed
 * (model > graph > node > attribute > tensor), so nothing recurses. */
#include "onnx_model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ModelProto */
enum { MP_IR_VERSION = 1, MP_GRAPH = 7, MP_OPSET_IMPORT = 8 };
/* OperatorSetIdProto */
enum { OS_DOMAIN = 1, OS_VERSION = 2 };
/* GraphProto */
enum { GP_NODE = 1, GP_NAME = 2, GP_INITIALIZER = 5, GP_INPUT = 11, GP_OUTPUT = 12 };
/* NodeProto */
enum { NP_INPUT = 1, NP_OUTPUT = 2, NP_NAME = 3, NP_OP_TYPE = 4, NP_ATTRIBUTE = 5, NP_DOMAIN = 7 };
/* AttributeProto */
enum { AP_NAME = 1, AP_F = 2, AP_I = 3, AP_S = 4, AP_T = 5, AP_FLOATS = 7, AP_INTS = 8, AP_TYPE = 20 };
/* TensorProto */
enum { TP_DIMS = 1, TP_DATA_TYPE = 2, TP_FLOAT_DATA = 4, TP_INT32_DATA = 5, TP_INT64_DATA = 7, TP_NAME = 8,
       TP_RAW_DATA = 9, TP_DOUBLE_DATA = 10, TP_EXTERNAL_DATA = 13, TP_DATA_LOCATION = 14 };
/* StringStringEntryProto */
enum { SS_KEY = 1, SS_VALUE = 2 };
/* ValueInfoProto / TypeProto / TypeProto.Tensor / TensorShapeProto / Dimension */
enum { VI_NAME = 1, VI_TYPE = 2, TY_TENSOR = 1, TT_SHAPE = 2, TS_DIM = 1, DM_VALUE = 1 };

void ox_free(ox_model *m) {
    if (!m) return;
    free(m->nodes);
    free(m->inits);
    free(m->inputs);
    free(m->io);
    free(m->attrs);
    memset(m, 0, sizeof *m);
}

static int parse_i64_str(pb_buf s, int64_t *v) {
    if (s.n == 0 || s.n > 19) return -1;
    int64_t r = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9') return -1;
        r = r * 10 + (s.p[i] - '0');
    }
    *v = r;
    return 0;
}

static effcam_status parse_ext_entry(pb_buf b, ox_tensor *t, const char *where, effcam_error *err) {
    pb_cur c;
    pb_init(&c, b, "TensorProto.external_data");
    pb_field f;
    pb_buf key = {0}, val = {0};
    int r;
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == SS_KEY || f.num == SS_VALUE) {
            if (pb_want(&f, PB_LEN, "StringStringEntryProto", f.num == SS_KEY ? "key" : "value", err)) return err->status;
            if (f.num == SS_KEY) key = f.b;
            else val = f.b;
        }
    }
    if (r < 0) return err->status;
    if (pb_eq(key, "location")) {
        t->location = val;
    } else if (pb_eq(key, "offset") || pb_eq(key, "length")) {
        int64_t v;
        if (parse_i64_str(val, &v))
            return cv_fail(err, EFFCAM_E_CORRUPT, "%s: external_data %s is not a decimal number", where,
                           pb_eq(key, "offset") ? "offset" : "length");
        if (pb_eq(key, "offset")) t->ext_offset = v;
        else t->ext_length = v;
    }
    return EFFCAM_OK;
}

effcam_status ox_parse_tensor(pb_buf b, ox_tensor *t, const char *where, effcam_error *err) {
    memset(t, 0, sizeof *t);
    t->msg = b;
    t->ext_offset = t->ext_length = -1;
    pb_cur c;
    pb_init(&c, b, "TensorProto");
    pb_field f;
    int r;
    while ((r = pb_next(&c, &f, err)) > 0) {
        switch (f.num) {
        case TP_DATA_TYPE:
            if (pb_want(&f, PB_VARINT, "TensorProto", "data_type", err)) return err->status;
            t->dtype = (int)(f.v > 1000 ? 1000 : f.v);
            break;
        case TP_NAME:
            if (pb_want(&f, PB_LEN, "TensorProto", "name", err)) return err->status;
            t->name = f.b;
            break;
        case TP_RAW_DATA:
            if (pb_want(&f, PB_LEN, "TensorProto", "raw_data", err)) return err->status;
            t->raw = f.b;
            t->has_raw = 1;
            break;
        case TP_DATA_LOCATION:
            if (pb_want(&f, PB_VARINT, "TensorProto", "data_location", err)) return err->status;
            if (f.v > 1) return cv_fail(err, EFFCAM_E_CORRUPT, "%s: data_location %llu", where, (unsigned long long)f.v);
            t->external = (int)f.v;
            break;
        case TP_EXTERNAL_DATA:
            if (pb_want(&f, PB_LEN, "TensorProto", "external_data", err)) return err->status;
            if (parse_ext_entry(f.b, t, where, err)) return err->status;
            break;
        default: break;
        }
    }
    if (r < 0) return err->status;
    size_t nd = 0;
    int64_t dims[OX_MAX_DIMS];
    if (pb_repeated(b, TP_DIMS, PB_VARINT, dims, OX_MAX_DIMS, &nd, "TensorProto.dims", err)) return err->status;
    if (nd > OX_MAX_DIMS) return cv_fail(err, EFFCAM_E_DIMS, "%s: %zu dims (at most %d)", where, nd, OX_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        if (dims[i] < 0) return cv_fail(err, EFFCAM_E_DIMS, "%s: negative dim %lld", where, (long long)dims[i]);
        if (dims[i] > (int64_t)OX_MAX_NUMEL) return cv_fail(err, EFFCAM_E_DIMS, "%s: dim %lld too large", where, (long long)dims[i]);
        t->dims[i] = dims[i];
        numel *= (uint64_t)dims[i]; /* both <= 2^31 after the check below */
        if (numel > OX_MAX_NUMEL)
            return cv_fail(err, EFFCAM_E_OVERFLOW, "%s: element count exceeds 2^31", where);
    }
    t->numel = numel;
    return EFFCAM_OK;
}

static effcam_status parse_attr(pb_buf b, ox_attr *a, const char *node, effcam_error *err) {
    memset(a, 0, sizeof *a);
    a->msg = b;
    pb_cur c;
    pb_init(&c, b, "AttributeProto");
    pb_field f;
    int r;
    while ((r = pb_next(&c, &f, err)) > 0) {
        switch (f.num) {
        case AP_NAME:
            if (pb_want(&f, PB_LEN, "AttributeProto", "name", err)) return err->status;
            a->name = f.b;
            break;
        case AP_TYPE:
            if (pb_want(&f, PB_VARINT, "AttributeProto", "type", err)) return err->status;
            a->type = (int)(f.v > 1000 ? 1000 : f.v);
            break;
        case AP_F: {
            if (pb_want(&f, PB_I32, "AttributeProto", "f", err)) return err->status;
            uint32_t u = (uint32_t)f.v;
            memcpy(&a->f, &u, 4);
            a->has_f = 1;
            break;
        }
        case AP_I:
            if (pb_want(&f, PB_VARINT, "AttributeProto", "i", err)) return err->status;
            a->i = (int64_t)f.v;
            a->has_i = 1;
            break;
        case AP_S:
            if (pb_want(&f, PB_LEN, "AttributeProto", "s", err)) return err->status;
            a->s = f.b;
            a->has_s = 1;
            break;
        case AP_T: {
            if (pb_want(&f, PB_LEN, "AttributeProto", "t", err)) return err->status;
            char where[160];
            snprintf(where, sizeof where, "node '%s' attribute tensor", node);
            if (ox_parse_tensor(f.b, &a->t, where, err)) return err->status;
            a->has_t = 1;
            break;
        }
        default: break;
        }
    }
    if (r < 0) return err->status;
    return EFFCAM_OK;
}

static effcam_status parse_value_info(pb_buf b, ox_value_info *v, effcam_error *err) {
    memset(v, 0, sizeof *v);
    v->ndim = -1;
    pb_cur c;
    pb_init(&c, b, "ValueInfoProto");
    pb_field f;
    int r;
    pb_buf type = {0};
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == VI_NAME) {
            if (pb_want(&f, PB_LEN, "ValueInfoProto", "name", err)) return err->status;
            v->name = f.b;
        } else if (f.num == VI_TYPE) {
            if (pb_want(&f, PB_LEN, "ValueInfoProto", "type", err)) return err->status;
            type = f.b;
        }
    }
    if (r < 0) return err->status;
    /* TypeProto.tensor_type.shape.dim[].dim_value: three fixed levels */
    pb_buf tensor = {0}, shape = {0};
    pb_init(&c, type, "TypeProto");
    while ((r = pb_next(&c, &f, err)) > 0)
        if (f.num == TY_TENSOR) {
            if (pb_want(&f, PB_LEN, "TypeProto", "tensor_type", err)) return err->status;
            tensor = f.b;
        }
    if (r < 0) return err->status;
    pb_init(&c, tensor, "TypeProto.Tensor");
    int has_shape = 0;
    while ((r = pb_next(&c, &f, err)) > 0)
        if (f.num == TT_SHAPE) {
            if (pb_want(&f, PB_LEN, "TypeProto.Tensor", "shape", err)) return err->status;
            shape = f.b;
            has_shape = 1;
        }
    if (r < 0) return err->status;
    if (!has_shape) return EFFCAM_OK;
    v->ndim = 0;
    pb_init(&c, shape, "TensorShapeProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num != TS_DIM) continue;
        if (pb_want(&f, PB_LEN, "TensorShapeProto", "dim", err)) return err->status;
        if (v->ndim >= OX_MAX_DIMS) return cv_fail(err, EFFCAM_E_DIMS, "graph input/output with more than %d dims", OX_MAX_DIMS);
        int64_t d = -1;
        pb_cur dc;
        pb_field df;
        int dr;
        pb_init(&dc, f.b, "TensorShapeProto.Dimension");
        while ((dr = pb_next(&dc, &df, err)) > 0)
            if (df.num == DM_VALUE) {
                if (pb_want(&df, PB_VARINT, "Dimension", "dim_value", err)) return err->status;
                d = (int64_t)df.v;
            }
        if (dr < 0) return err->status;
        v->dims[v->ndim++] = d < 0 ? -1 : d;
    }
    if (r < 0) return err->status;
    return EFFCAM_OK;
}

/* pass 1 over one node: counts inputs/outputs and attributes */
static effcam_status count_node(pb_buf b, size_t *io, size_t *attrs, effcam_error *err) {
    pb_cur c;
    pb_init(&c, b, "NodeProto");
    pb_field f;
    int r;
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == NP_INPUT || f.num == NP_OUTPUT) {
            if (pb_want(&f, PB_LEN, "NodeProto", f.num == NP_INPUT ? "input" : "output", err)) return err->status;
            if (++*io > OX_MAX_IO) return cv_fail(err, EFFCAM_E_DIMS, "more than %u node inputs/outputs", OX_MAX_IO);
        } else if (f.num == NP_ATTRIBUTE) {
            if (pb_want(&f, PB_LEN, "NodeProto", "attribute", err)) return err->status;
            if (++*attrs > OX_MAX_ATTRS) return cv_fail(err, EFFCAM_E_DIMS, "more than %u attributes", OX_MAX_ATTRS);
        }
    }
    return r < 0 ? err->status : EFFCAM_OK;
}

static effcam_status fill_node(pb_buf b, ox_node *n, pb_buf *io, ox_attr *attrs, int index, effcam_error *err) {
    pb_cur c;
    pb_field f;
    int r;
    memset(n, 0, sizeof *n);
    /* inputs first, then outputs, contiguous in io */
    n->in = io;
    pb_init(&c, b, "NodeProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == NP_INPUT) n->in[n->n_in++] = f.b;
        else if (f.num == NP_NAME) {
            if (pb_want(&f, PB_LEN, "NodeProto", "name", err)) return err->status;
            n->name = f.b;
        } else if (f.num == NP_OP_TYPE) {
            if (pb_want(&f, PB_LEN, "NodeProto", "op_type", err)) return err->status;
            n->op_type = f.b;
        } else if (f.num == NP_DOMAIN) {
            if (pb_want(&f, PB_LEN, "NodeProto", "domain", err)) return err->status;
            n->domain = f.b;
        }
    }
    if (r < 0) return err->status;
    n->out = io + n->n_in;
    n->attrs = attrs;
    char nm[128];
    if (n->name.n) pb_cstr(n->name, nm, sizeof nm);
    else snprintf(nm, sizeof nm, "#%d", index);
    pb_init(&c, b, "NodeProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == NP_OUTPUT) n->out[n->n_out++] = f.b;
        else if (f.num == NP_ATTRIBUTE) {
            if (parse_attr(f.b, &n->attrs[n->n_attrs], nm, err)) return err->status;
            n->n_attrs++;
        }
    }
    return r < 0 ? err->status : EFFCAM_OK;
}

static effcam_status parse_graph(pb_buf g, ox_model *m, effcam_error *err) {
    pb_cur c;
    pb_field f;
    int r;
    size_t n_nodes = 0, n_inits = 0, n_in = 0, n_out = 0, io = 0, attrs = 0;
    pb_init(&c, g, "GraphProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        switch (f.num) {
        case GP_NODE:
            if (pb_want(&f, PB_LEN, "GraphProto", "node", err)) return err->status;
            if (++n_nodes > OX_MAX_NODES) return cv_fail(err, EFFCAM_E_DIMS, "more than %u nodes", OX_MAX_NODES);
            if (count_node(f.b, &io, &attrs, err)) return err->status;
            break;
        case GP_INITIALIZER:
            if (pb_want(&f, PB_LEN, "GraphProto", "initializer", err)) return err->status;
            if (++n_inits > OX_MAX_INITS) return cv_fail(err, EFFCAM_E_DIMS, "more than %u initializers", OX_MAX_INITS);
            break;
        case GP_INPUT:
        case GP_OUTPUT:
            if (pb_want(&f, PB_LEN, "GraphProto", f.num == GP_INPUT ? "input" : "output", err)) return err->status;
            if (++*(f.num == GP_INPUT ? &n_in : &n_out) > OX_MAX_VALUES)
                return cv_fail(err, EFFCAM_E_DIMS, "more than %u graph inputs/outputs", OX_MAX_VALUES);
            break;
        case GP_NAME:
            if (pb_want(&f, PB_LEN, "GraphProto", "name", err)) return err->status;
            m->graph_name = f.b;
            break;
        default: break;
        }
    }
    if (r < 0) return err->status;
    m->nodes = calloc(n_nodes ? n_nodes : 1, sizeof *m->nodes);
    m->inits = calloc(n_inits ? n_inits : 1, sizeof *m->inits);
    m->inputs = calloc(n_in + n_out + 1, sizeof *m->inputs);
    m->io = calloc(io ? io : 1, sizeof *m->io);
    m->attrs = calloc(attrs ? attrs : 1, sizeof *m->attrs);
    if (!m->nodes || !m->inits || !m->inputs || !m->io || !m->attrs)
        return cv_fail(err, EFFCAM_E_NOMEM, "out of memory for %zu nodes", n_nodes);
    m->outputs = m->inputs + n_in;
    size_t io_at = 0, at_at = 0;
    pb_init(&c, g, "GraphProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == GP_NODE) {
            ox_node *n = &m->nodes[m->n_nodes];
            if (fill_node(f.b, n, m->io + io_at, m->attrs + at_at, m->n_nodes, err)) return err->status;
            io_at += (size_t)n->n_in + (size_t)n->n_out;
            at_at += (size_t)n->n_attrs;
            m->n_nodes++;
        } else if (f.num == GP_INITIALIZER) {
            char where[64];
            snprintf(where, sizeof where, "initializer #%d", m->n_inits);
            if (ox_parse_tensor(f.b, &m->inits[m->n_inits], where, err)) return err->status;
            m->n_inits++;
        } else if (f.num == GP_INPUT) {
            if (parse_value_info(f.b, &m->inputs[m->n_inputs++], err)) return err->status;
        } else if (f.num == GP_OUTPUT) {
            if (parse_value_info(f.b, &m->outputs[m->n_outputs++], err)) return err->status;
        }
    }
    return r < 0 ? err->status : EFFCAM_OK;
}

effcam_status ox_parse(const uint8_t *buf, size_t n, ox_model *m, effcam_error *err) {
    memset(m, 0, sizeof *m);
    if (!buf && n) return cv_fail(err, EFFCAM_E_ARG, "NULL buffer");
    pb_buf all = {buf, n};
    pb_cur c;
    pb_field f;
    int r;
    pb_buf graph = {0};
    int has_graph = 0;
    pb_init(&c, all, "ModelProto");
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num == MP_IR_VERSION) {
            if (pb_want(&f, PB_VARINT, "ModelProto", "ir_version", err)) goto fail;
            m->ir_version = (int64_t)f.v;
        } else if (f.num == MP_GRAPH) {
            if (pb_want(&f, PB_LEN, "ModelProto", "graph", err)) goto fail;
            graph = f.b;
            has_graph = 1;
        } else if (f.num == MP_OPSET_IMPORT) {
            if (pb_want(&f, PB_LEN, "ModelProto", "opset_import", err)) goto fail;
            pb_cur oc;
            pb_field of;
            int orr;
            pb_buf dom = {0};
            int64_t ver = 0;
            pb_init(&oc, f.b, "OperatorSetIdProto");
            while ((orr = pb_next(&oc, &of, err)) > 0) {
                if (of.num == OS_DOMAIN) {
                    if (pb_want(&of, PB_LEN, "OperatorSetIdProto", "domain", err)) goto fail;
                    dom = of.b;
                } else if (of.num == OS_VERSION) {
                    if (pb_want(&of, PB_VARINT, "OperatorSetIdProto", "version", err)) goto fail;
                    ver = (int64_t)of.v;
                }
            }
            if (orr < 0) goto fail;
            if (dom.n == 0 || pb_eq(dom, "ai.onnx")) m->opset = ver > 0 && ver < 1000000 ? ver : -1;
        }
    }
    if (r < 0) goto fail;
    if (!has_graph) {
        cv_fail(err, EFFCAM_E_CORRUPT, "ModelProto has no graph (field 7)");
        goto fail;
    }
    if (m->opset <= 0) {
        cv_fail(err, EFFCAM_E_CORRUPT, "ModelProto has no valid opset_import for the default domain (field 8)");
        goto fail;
    }
    if (parse_graph(graph, m, err)) goto fail;
    return EFFCAM_OK;
fail:
    ox_free(m);
    return err ? err->status : EFFCAM_E_CORRUPT;
}

const ox_attr *ox_find_attr(const ox_node *n, const char *name) {
    for (int i = 0; i < n->n_attrs; i++)
        if (pb_eq(n->attrs[i].name, name)) return &n->attrs[i];
    return NULL;
}

/* ---- tensor values ------------------------------------------------------ */
static int elem_size(int dtype) {
    switch (dtype) {
    case OX_FLOAT: case OX_INT32: return 4;
    case OX_INT64: case OX_DOUBLE: return 8;
    case OX_FLOAT16: return 2;
    default: return 0;
    }
}

static double half_to_double(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v;
    if (e == 0) v = m * (1.0 / 16777216.0);
    else if (e == 31) v = m ? (double)NAN : (double)INFINITY;
    else {
        v = (1024 + m);
        int ex = e - 25;
        while (ex > 0) { v *= 2; ex--; }
        while (ex < 0) { v *= 0.5; ex++; }
    }
    return (h & 0x8000) ? -v : v;
}

static void decode_le(const uint8_t *p, int dtype, uint64_t n, double *out) {
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *q = p + i * (uint64_t)elem_size(dtype);
        uint64_t u = 0;
        for (int k = 0; k < elem_size(dtype); k++) u |= (uint64_t)q[k] << (8 * k);
        switch (dtype) {
        case OX_FLOAT: { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); out[i] = f; break; }
        case OX_DOUBLE: { double d; memcpy(&d, &u, 8); out[i] = d; break; }
        case OX_INT32: out[i] = (double)(int32_t)(uint32_t)u; break;
        case OX_INT64: out[i] = (double)(int64_t)u; break;
        case OX_FLOAT16: out[i] = half_to_double((uint16_t)u); break;
        default: out[i] = 0; break;
        }
    }
}

/* a relative path without "..", absolute parts, backslashes or NULs */
static int safe_relpath(pb_buf loc) {
    if (loc.n == 0 || loc.n > 1024 || loc.p[0] == '/') return 0;
    size_t seg = 0;
    for (size_t i = 0; i <= loc.n; i++) {
        if (i < loc.n && (loc.p[i] == 0 || loc.p[i] == '\\' || loc.p[i] == ':')) return 0;
        if (i == loc.n || loc.p[i] == '/') {
            if (i - seg == 2 && loc.p[seg] == '.' && loc.p[seg + 1] == '.') return 0;
            seg = i + 1;
        }
    }
    return 1;
}

static effcam_status read_external(const ox_tensor *t, const char *base_dir, uint64_t nbytes, uint8_t **out,
                                   char *nm, effcam_error *err) {
    if (!base_dir) return cv_fail(err, EFFCAM_E_UNSUPPORTED, "tensor '%s': external data needs the model's folder", nm);
    if (!safe_relpath(t->location))
        return cv_fail(err, EFFCAM_E_CORRUPT, "tensor '%s': external data location must be a relative path inside the model's folder", nm);
    if (t->ext_offset < -1 || t->ext_length < -1)
        return cv_fail(err, EFFCAM_E_CORRUPT, "tensor '%s': negative external offset/length", nm);
    if (t->ext_length >= 0 && (uint64_t)t->ext_length != nbytes)
        return cv_fail(err, EFFCAM_E_CORRUPT, "tensor '%s': external length %lld, expected %llu bytes", nm,
                       (long long)t->ext_length, (unsigned long long)nbytes);
    char loc[1100], path[4200];
    pb_cstr(t->location, loc, sizeof loc);
    snprintf(path, sizeof path, "%s/%s", base_dir, loc);
    FILE *f = fopen(path, "rb");
    if (!f) return cv_fail(err, EFFCAM_E_IO, "tensor '%s': cannot open external data '%s'", nm, loc);
    uint64_t off = t->ext_offset > 0 ? (uint64_t)t->ext_offset : 0;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || off > (uint64_t)size || nbytes > (uint64_t)size - off) {
        fclose(f);
        return cv_fail(err, EFFCAM_E_TRUNCATED, "tensor '%s': external file '%s' (%ld bytes) is shorter than offset %llu + %llu",
                       nm, loc, size, (unsigned long long)off, (unsigned long long)nbytes);
    }
    uint8_t *b = malloc(nbytes ? (size_t)nbytes : 1);
    if (!b) { fclose(f); return cv_fail(err, EFFCAM_E_NOMEM, "tensor '%s': out of memory", nm); }
    if (fseek(f, (long)off, SEEK_SET) != 0 || fread(b, 1, (size_t)nbytes, f) != (size_t)nbytes) {
        free(b);
        fclose(f);
        return cv_fail(err, EFFCAM_E_IO, "tensor '%s': cannot read external data '%s'", nm, loc);
    }
    fclose(f);
    *out = b;
    return EFFCAM_OK;
}

effcam_status ox_tensor_values(const ox_tensor *t, const char *base_dir, double **out, effcam_error *err) {
    *out = NULL;
    char nm[128];
    pb_cstr(t->name, nm, sizeof nm);
    int es = elem_size(t->dtype);
    if (!es) return cv_fail(err, EFFCAM_E_UNSUPPORTED, "tensor '%s': data type %d is not supported", nm, t->dtype);
    uint64_t n = t->numel;
    uint64_t nbytes = n * (uint64_t)es;
    double *v = NULL;
    if (t->external) {
        uint8_t *b = NULL;
        if (read_external(t, base_dir, nbytes, &b, nm, err)) return err->status;
        v = malloc((n ? (size_t)n : 1) * sizeof(double));
        if (!v) { free(b); return cv_fail(err, EFFCAM_E_NOMEM, "tensor '%s': out of memory", nm); }
        decode_le(b, t->dtype, n, v);
        free(b);
    } else if (t->has_raw) {
        if (t->raw.n != nbytes)
            return cv_fail(err, EFFCAM_E_CORRUPT, "tensor '%s': raw_data has %zu bytes, dims need %llu", nm, t->raw.n,
                           (unsigned long long)nbytes);
        v = malloc((n ? (size_t)n : 1) * sizeof(double));
        if (!v) return cv_fail(err, EFFCAM_E_NOMEM, "tensor '%s': out of memory", nm);
        decode_le(t->raw.p, t->dtype, n, v);
    } else {
        /* typed fields: float_data (FLOAT), double_data, int64_data, int32_data (INT32, FLOAT16 bits) */
        uint32_t num = t->dtype == OX_FLOAT ? TP_FLOAT_DATA : t->dtype == OX_DOUBLE ? TP_DOUBLE_DATA
                     : t->dtype == OX_INT64 ? TP_INT64_DATA : TP_INT32_DATA;
        int kind = num == TP_FLOAT_DATA ? PB_I32 : num == TP_DOUBLE_DATA ? PB_I64 : PB_VARINT;
        size_t cnt = 0;
        if (pb_repeated(t->msg, num, kind, NULL, 0, &cnt, "TensorProto data", err)) return err->status;
        if (cnt != n)
            return cv_fail(err, EFFCAM_E_CORRUPT, "tensor '%s': %zu values for %llu elements", nm, cnt, (unsigned long long)n);
        v = malloc((n ? (size_t)n : 1) * sizeof(double));
        void *tmp = malloc((n ? (size_t)n : 1) * 8);
        if (!tmp || !v) { free(tmp); free(v); return cv_fail(err, EFFCAM_E_NOMEM, "tensor '%s': out of memory", nm); }
        if (pb_repeated(t->msg, num, kind, tmp, (size_t)n, &cnt, "TensorProto data", err)) {
            free(tmp);
            free(v);
            return err->status;
        }
        for (uint64_t i = 0; i < n; i++) {
            if (kind == PB_I32) v[i] = ((float *)tmp)[i];
            else if (kind == PB_I64) v[i] = ((double *)tmp)[i];
            else {
                int64_t x = ((int64_t *)tmp)[i];
                if (t->dtype == OX_FLOAT16) v[i] = half_to_double((uint16_t)x);
                else if (t->dtype == OX_INT32) v[i] = (double)(int32_t)x;
                else v[i] = (double)x;
            }
        }
        free(tmp);
    }
    *out = v;
    return EFFCAM_OK;
}
