/* ONNX -> .ecw: graph checks, the symbolic walk over the nodes (handlers in
 * cv_ops.c), taps and writing. See docs/CONVERT.md. */
#include "cv_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- hash map ------------------------------------------------------------ */
static uint64_t hash(pb_buf k) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < k.n; i++) h = (h ^ k.p[i]) * 1099511628211ull;
    return h;
}

static int keq(pb_buf a, pb_buf b) { return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0); }

int cv_map_get(const cv_map *h, pb_buf k) {
    if (!h->cap) return -1;
    for (size_t i = hash(k) & (h->cap - 1);; i = (i + 1) & (h->cap - 1)) {
        if (h->vals[i] < 0) return -1;
        if (keq(h->keys[i], k)) return h->vals[i];
    }
}

int cv_map_put(cv_map *h, pb_buf k, int v) {
    if ((h->n + 1) * 2 > h->cap) {
        size_t nc = h->cap ? h->cap * 2 : 64;
        pb_buf *nk = calloc(nc, sizeof *nk);
        int *nv = malloc(nc * sizeof *nv);
        if (!nk || !nv) { free(nk); free(nv); return -1; }
        for (size_t i = 0; i < nc; i++) nv[i] = -1;
        for (size_t j = 0; j < h->cap; j++) {
            if (h->vals[j] < 0) continue;
            size_t i = hash(h->keys[j]) & (nc - 1);
            while (nv[i] >= 0) i = (i + 1) & (nc - 1);
            nk[i] = h->keys[j];
            nv[i] = h->vals[j];
        }
        free(h->keys);
        free(h->vals);
        h->keys = nk;
        h->vals = nv;
        h->cap = nc;
    }
    size_t i = hash(k) & (h->cap - 1);
    for (; h->vals[i] >= 0; i = (i + 1) & (h->cap - 1))
        if (keq(h->keys[i], k)) return 1;
    h->keys[i] = k;
    h->vals[i] = v;
    h->n++;
    return 0;
}

void cv_map_free(cv_map *h) {
    free(h->keys);
    free(h->vals);
    memset(h, 0, sizeof *h);
}

/* ---- helpers ------------------------------------------------------------- */
effcam_status cv_err(cv *c, effcam_status st, const char *fmt, ...) {
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->node >= 0) return cv_fail(c->err, st, "node '%s' (%s): %s", c->nname, c->optype, msg);
    return cv_fail(c->err, st, "%s", msg);
}

int cv_in(cv *c, const ox_node *n, int k) {
    if (k >= n->n_in || n->in[k].n == 0) return -1;
    return cv_map_get(&c->names, n->in[k]); /* present: checked before the walk */
}

int cv_const(cv *c, int vi, const char *what, double **vals, uint64_t *numel) {
    *vals = NULL;
    if (vi < 0 || c->v[vi].kind != K_CONST) {
        cv_err(c, EFFCAM_E_UNSUPPORTED, "%s must be an initializer or a Constant", what);
        return -1;
    }
    if (ox_tensor_values(c->v[vi].t, c->o->base_dir, vals, c->err)) {
        char m[256];
        memcpy(m, c->err->message, sizeof m);
        m[sizeof m - 1] = 0;
        cv_err(c, c->err->status, "%s: %s", what, m);
        return -1;
    }
    *numel = c->v[vi].t->numel;
    return 0;
}

int cv_emit(cv *c, int type, int act, int in0, int in1, int cin, int cout) {
    if ((unsigned)c->n_ops >= ECW_MAX_OPS) {
        cv_err(c, EFFCAM_E_DIMS, "more than %u effcam ops", ECW_MAX_OPS);
        return -1;
    }
    cv_op *op = &c->ops[c->n_ops];
    memset(op, 0, sizeof *op);
    op->o.type = type;
    op->o.act = act;
    op->o.in0 = in0;
    op->o.in1 = in1;
    op->o.kh = op->o.kw = op->o.sh = op->o.sw = 1;
    op->o.cin = cin;
    op->o.cout = cout;
    for (int k = 0; k < 4; k++) op->o.t[k] = -1;
    if (c->node >= 0) snprintf(op->name, sizeof op->name, "%s", c->nname);
    return c->n_ops++;
}

static void set_feat(cv *c, int out, int op, int post, int ch, int vec) {
    cv_val *v = &c->v[out];
    v->kind = K_FEAT;
    v->op = op;
    v->post = post;
    v->epoch = op >= 0 ? c->ops[op].epoch : 0;
    v->c = ch;
    v->vec = vec;
}

static int fusable_type(int t) {
    return t == ECW_OP_CONV2D || t == ECW_OP_DWCONV || t == ECW_OP_PWCONV || t == ECW_OP_DENSE || t == ECW_OP_ADD;
}

int cv_apply_act(cv *c, int x, int act, int expect_uses, int out) {
    cv_val *v = &c->v[x];
    if (v->kind == K_SE) {
        cv_se *s = &c->se[v->se];
        if (v->se_stage != s->stage || v->uses != expect_uses) {
            cv_err(c, EFFCAM_E_UNSUPPORTED, "squeeze-excitation value used outside the SE pattern");
            return -1;
        }
        if (s->stage == 1) {
            s->act1 = act;
            s->stage = 2;
        } else if (s->stage == 3 && (act == ECW_ACT_SIGMOID || act == ECW_ACT_HSIGMOID)) {
            s->gate = act;
            s->stage = 4;
        } else {
            cv_err(c, EFFCAM_E_UNSUPPORTED, "activation at an unexpected place in a squeeze-excitation");
            return -1;
        }
        c->v[out].kind = K_SE;
        c->v[out].se = v->se;
        c->v[out].se_stage = s->stage;
        return 0;
    }
    int fx = cv_feat(c, x);
    if (fx < 0) return -1;
    v = &c->v[fx];
    if (v->op >= 0) {
        cv_op *op = &c->ops[v->op];
        if (!v->post && op->o.act == ECW_ACT_NONE && v->epoch == op->epoch && fusable_type(op->o.type) &&
            fx == x && v->uses == expect_uses) {
            op->o.act = act;
            set_feat(c, out, v->op, 1, v->c, v->vec);
            return 0;
        }
    }
    int ch = v->c, vec = v->vec, in0 = v->op + 1;
    int o = cv_emit(c, ECW_OP_ACT, act, in0, -1, ch, ch);
    if (o < 0) return -1;
    set_feat(c, out, o, 1, ch, vec);
    return 0;
}

int cv_feat(cv *c, int vi) {
    if (vi < 0) {
        cv_err(c, EFFCAM_E_CORRUPT, "missing input");
        return -1;
    }
    cv_val *v = &c->v[vi];
    switch (v->kind) {
    case K_FEAT: return vi;
    case K_SIG:
    case K_HSIG:
    case K_POOL:
        if (v->orig >= 0) { /* an alias: emit (once) at the original, then share its value */
            int r = v->orig;
            if (c->v[r].kind != K_FEAT && cv_feat(c, r) < 0) return -1; /* depth 1: originals have orig -1 */
            const cv_val *rv = &c->v[r];
            v = &c->v[vi];
            v->kind = K_FEAT; v->op = rv->op; v->post = rv->post; v->epoch = rv->epoch; v->c = rv->c; v->vec = rv->vec;
            return vi;
        }
        break;
    case K_CONST: cv_err(c, EFFCAM_E_UNSUPPORTED, "a constant is used as a feature map"); return -1;
    case K_SE: cv_err(c, EFFCAM_E_UNSUPPORTED, "an unfinished squeeze-excitation is used as a feature map"); return -1;
    case K_PAD: cv_err(c, EFFCAM_E_UNSUPPORTED, "a Pad output feeds something other than a Conv"); return -1;
    default: cv_err(c, EFFCAM_E_CORRUPT, "value used before it is produced"); return -1;
    }
    /* emit the pending sigmoid / pool; the result lives in the value itself */
    int src = v->src;
    if (v->kind == K_POOL) {
        const cv_val *s = &c->v[src];
        int o = cv_emit(c, ECW_OP_GAP, 0, s->op + 1, -1, s->c, s->c);
        if (o < 0) return -1;
        v->kind = K_FEAT;
        set_feat(c, vi, o, 0, s->c, 1);
        return vi;
    }
    int act = v->kind == K_SIG ? ECW_ACT_SIGMOID : ECW_ACT_HSIGMOID;
    if (c->v[src].kind != K_FEAT) {
        cv_err(c, EFFCAM_E_UNSUPPORTED, "sigmoid of a squeeze-excitation value used outside the SE pattern");
        return -1;
    }
    if (cv_apply_act(c, src, act, 1, vi)) return -1;
    return vi;
}

/* ---- scopes -> module paths ---------------------------------------------- */
typedef struct cv_scopes { cv_map map; char **paths; int n, cap; } cv_scopes;

static int scope_record(cv_scopes *s, const char *path, int value) {
    pb_buf k = {(const uint8_t *)path, strlen(path)};
    int i = cv_map_get(&s->map, k);
    if (i >= 0) {
        for (size_t j = hash(k) & (s->map.cap - 1);; j = (j + 1) & (s->map.cap - 1))
            if (keq(s->map.keys[j], k)) { s->map.vals[j] = value; return 0; }
    }
    if (s->n >= 262144) return 0;
    if (s->n == s->cap) {
        int nc = s->cap ? s->cap * 2 : 256;
        char **np = realloc(s->paths, (size_t)nc * sizeof *np);
        if (!np) return -1;
        s->paths = np;
        s->cap = nc;
    }
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p) return -1;
    memcpy(p, path, len + 1);
    s->paths[s->n++] = p;
    pb_buf kk = {(const uint8_t *)p, len};
    return cv_map_put(&s->map, kk, value) < 0 ? -1 : 0;
}

/* "/features/features.7/features.7.0/block/block.2/Mul" -> features,
 * features.7, features.7.0, features.7.0.block, features.7.0.block.2 */
static int scope_node(cv_scopes *s, pb_buf name, int value) {
    if (name.n < 2 || name.p[0] != '/' || name.n > 2000) return 0;
    char full[1024], prev[1024];
    size_t base = 0, flen = 0;
    prev[0] = 0;
    full[0] = 0;
    size_t i = 1;
    for (;;) {
        size_t j = i;
        while (j < name.n && name.p[j] != '/') j++;
        if (j >= name.n) break; /* the last component is the op, not a scope */
        size_t cl = j - i;
        if (cl == 0 || cl >= sizeof prev) break;
        char comp[1024];
        memcpy(comp, name.p + i, cl);
        comp[cl] = 0;
        if (memchr(comp, 0, cl)) break;
        size_t pl = strlen(prev);
        if (pl && cl > pl && strncmp(comp, prev, pl) == 0 && comp[pl] == '.') {
            /* a child of the previous component: replaces it */
        } else {
            base = flen ? flen + 1 : 0;
        }
        if (base + cl >= sizeof full) break;
        if (base) full[base - 1] = '.';
        memcpy(full + base, comp, cl + 1);
        flen = base + cl;
        memcpy(prev, comp, cl + 1);
        if (scope_record(s, full, value)) return -1;
        i = j + 1;
    }
    return 0;
}

static void scopes_free(cv_scopes *s) {
    for (int i = 0; i < s->n; i++) free(s->paths[i]);
    free(s->paths);
    cv_map_free(&s->map);
}

/* ---- taps ---------------------------------------------------------------- */
typedef struct cv_taps { ew_tap *t; char **names; int n, cap; cv_map seen; } cv_taps;

static int tap_kind(const cv *c, int vi, int *value) {
    if (vi < 0) return -1;
    const cv_val *v = &c->v[vi];
    if ((v->kind == K_SIG || v->kind == K_HSIG || v->kind == K_POOL) && v->resolved >= 0) v = &c->v[v->resolved];
    if (v->kind != K_FEAT || v->op < 0 || v->epoch != c->ops[v->op].epoch) return -1;
    const cv_op *op = &c->ops[v->op];
    *value = v->op + 1;
    if (v->post || op->o.act == ECW_ACT_NONE) return ECW_TAP_OUTPUT;
    return fusable_type(op->o.type) ? ECW_TAP_PREACT : -1;
}

static int tap_add(cv_taps *t, const char *name, size_t len, int value, int kind) {
    if (len == 0 || len >= ECW_MAX_STRING || memchr(name, 0, len) || t->n >= (int)ECW_MAX_TAPS) return 0;
    pb_buf k = {(const uint8_t *)name, len};
    if (cv_map_get(&t->seen, k) >= 0) return 0;
    if (t->n == t->cap) {
        int nc = t->cap ? t->cap * 2 : 256;
        ew_tap *nt = realloc(t->t, (size_t)nc * sizeof *nt);
        if (!nt) return -1;
        t->t = nt;
        char **nn = realloc(t->names, (size_t)nc * sizeof *nn);
        if (!nn) return -1;
        t->names = nn;
        t->cap = nc;
    }
    char *s = malloc(len + 1);
    if (!s) return -1;
    memcpy(s, name, len);
    s[len] = 0;
    t->names[t->n] = s;
    t->t[t->n].name = s;
    t->t[t->n].value = value;
    t->t[t->n].kind = kind;
    pb_buf kk = {(const uint8_t *)s, len};
    if (cv_map_put(&t->seen, kk, t->n) < 0) { free(s); return -1; }
    t->n++;
    return 0;
}

static void taps_free(cv_taps *t) {
    for (int i = 0; i < t->n; i++) free(t->names[i]);
    free(t->names);
    free(t->t);
    cv_map_free(&t->seen);
}

/* ---- the conversion ------------------------------------------------------ */
void ec_convert_defaults(ec_convert_opts *o) {
    memset(o, 0, sizeof *o);
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    memcpy(o->mean, mean, sizeof mean);
    memcpy(o->std, std, sizeof std);
}

static void cv_release(cv *c) {
    for (int i = 0; i < c->n_ops; i++)
        for (int k = 0; k < 4; k++) free(c->ops[i].w[k]);
    for (int i = 0; i < c->n_se; i++) {
        free(c->se[i].w1);
        free(c->se[i].b1);
        free(c->se[i].w2);
        free(c->se[i].b2);
    }
    free(c->se);
    free(c->ops);
    free(c->v);
    cv_map_free(&c->names);
}

static int setup_values(cv *c, int *input_vi) {
    const ox_model *m = c->m;
    size_t nv = (size_t)m->n_inits + (size_t)m->n_inputs;
    for (int i = 0; i < m->n_nodes; i++) nv += (size_t)m->nodes[i].n_out;
    c->v = calloc(nv ? nv : 1, sizeof *c->v);
    if (!c->v) return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1;
    char nm[160];
    for (int i = 0; i < m->n_inits; i++) {
        cv_val *v = &c->v[c->nv];
        v->name = m->inits[i].name;
        v->producer = -1;
        v->kind = K_CONST;
        v->t = &m->inits[i];
        v->resolved = -1;
        v->orig = -1;
        int r = cv_map_put(&c->names, v->name, c->nv);
        if (r < 0) return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1;
        if (r > 0) continue; /* duplicate initializer names: the first wins */
        c->nv++;
    }
    *input_vi = -1;
    for (int i = 0; i < m->n_inputs; i++) {
        if (cv_map_get(&c->names, m->inputs[i].name) >= 0) continue; /* an initializer listed as input */
        pb_cstr(m->inputs[i].name, nm, sizeof nm);
        if (*input_vi >= 0) return cv_err(c, EFFCAM_E_UNSUPPORTED, "more than one graph input ('%s')", nm), -1;
        cv_val *v = &c->v[c->nv];
        v->name = m->inputs[i].name;
        v->producer = -1;
        v->resolved = -1;
        v->orig = -1;
        set_feat(c, c->nv, -1, 1, 3, 0);
        if (cv_map_put(&c->names, v->name, c->nv) < 0) return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1;
        *input_vi = i;
        c->nv++;
    }
    if (*input_vi < 0) return cv_err(c, EFFCAM_E_UNSUPPORTED, "the graph has no (non-initializer) input"), -1;
    for (int i = 0; i < m->n_nodes; i++) {
        const ox_node *n = &m->nodes[i];
        for (int k = 0; k < n->n_out; k++) {
            if (n->out[k].n == 0) continue;
            cv_val *v = &c->v[c->nv];
            v->name = n->out[k];
            v->producer = i;
            v->resolved = -1;
        v->orig = -1;
            int r = cv_map_put(&c->names, v->name, c->nv);
            if (r < 0) return cv_err(c, EFFCAM_E_NOMEM, "out of memory"), -1;
            if (r > 0) {
                pb_cstr(n->out[k], nm, sizeof nm);
                c->node = i;
                pb_cstr(n->name, c->nname, sizeof c->nname);
                pb_cstr(n->op_type, c->optype, sizeof c->optype);
                return cv_err(c, EFFCAM_E_CORRUPT, "output '%s' is already produced elsewhere", nm), -1;
            }
            c->nv++;
        }
    }
    /* uses, and every input produced before its node (no cycles, no self-loops) */
    for (int i = 0; i < m->n_nodes; i++) {
        const ox_node *n = &m->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            if (n->in[k].n == 0) continue;
            int vi = cv_map_get(&c->names, n->in[k]);
            c->node = i;
            pb_cstr(n->name, c->nname, sizeof c->nname);
            pb_cstr(n->op_type, c->optype, sizeof c->optype);
            pb_cstr(n->in[k], nm, sizeof nm);
            if (vi < 0)
                return cv_err(c, EFFCAM_E_CORRUPT, "input '%s' is not produced by any node, initializer or graph input", nm), -1;
            if (c->v[vi].producer >= i)
                return cv_err(c, EFFCAM_E_CORRUPT, "input '%s' is produced %s (cycle or unsorted graph)", nm,
                              c->v[vi].producer == i ? "by the node itself" : "by a later node"), -1;
            c->v[vi].uses++;
        }
    }
    c->node = -1;
    for (int i = 0; i < m->n_outputs; i++) {
        int vi = cv_map_get(&c->names, m->outputs[i].name);
        pb_cstr(m->outputs[i].name, nm, sizeof nm);
        if (vi < 0) return cv_err(c, EFFCAM_E_CORRUPT, "graph output '%s' is not produced", nm), -1;
        c->v[vi].uses++;
    }
    return 0;
}

static int build_taps(cv *c, cv_taps *taps, cv_scopes *sc, int *default_tap, char *dname, size_t dcap) {
    const ox_model *m = c->m;
    for (int i = 0; i < m->n_nodes; i++) {
        const ox_node *n = &m->nodes[i];
        if (!n->n_out || !n->name.n) continue;
        int value, kind = tap_kind(c, cv_map_get(&c->names, n->out[0]), &value);
        if (kind >= 0 && tap_add(taps, (const char *)n->name.p, n->name.n, value, kind)) return -1;
    }
    int best = -1;
    long best_n = -1;
    for (int i = 0; i < sc->n; i++) {
        const char *p = sc->paths[i];
        pb_buf k = {(const uint8_t *)p, strlen(p)};
        int value, kind = tap_kind(c, cv_map_get(&sc->map, k), &value);
        if (kind < 0) continue;
        int before = taps->n;
        if (tap_add(taps, p, k.n, value, kind)) return -1;
        /* default: the highest features.N, as tools/export_torchvision.py */
        if (taps->n > before && strncmp(p, "features.", 9) == 0 && p[9] >= '0' && p[9] <= '9' &&
            strspn(p + 9, "0123456789") == strlen(p + 9) && strlen(p + 9) < 7) {
            long nn = strtol(p + 9, NULL, 10);
            int t = c->ops[value - 1].o.type;
            if (nn > best_n && t != ECW_OP_GAP && t != ECW_OP_DENSE) { best_n = nn; best = before; }
        }
    }
    if (best < 0) {
        /* else the input of the last global average pool */
        for (int i = c->n_ops - 1; i >= 0; i--) {
            if (c->ops[i].o.type != ECW_OP_GAP) continue;
            int in = c->ops[i].o.in0;
            for (int t = 0; t < taps->n; t++)
                if (taps->t[t].value == in && taps->t[t].kind == ECW_TAP_OUTPUT) { best = t; break; }
            if (best < 0 && in > 0) {
                char nm[64];
                snprintf(nm, sizeof nm, "op%d", in - 1);
                if (tap_add(taps, nm, strlen(nm), in, ECW_TAP_OUTPUT)) return -1;
                best = taps->n - 1;
            }
            break;
        }
    }
    *default_tap = best;
    if (best >= 0) snprintf(dname, dcap, "%s", taps->t[best].name);
    return 0;
}

effcam_status ec_onnx_to_ecw(const uint8_t *buf, size_t len, const ec_convert_opts *opts, uint8_t **out,
                             size_t *out_n, ec_convert_info *info, effcam_error *err) {
    effcam_error local;
    if (!err) err = &local;
    err->status = EFFCAM_OK;
    err->message[0] = 0;
    if (!out || !out_n) return cv_fail(err, EFFCAM_E_ARG, "NULL output");
    *out = NULL;
    *out_n = 0;
    ec_convert_opts defo;
    if (!opts) {
        ec_convert_defaults(&defo);
        opts = &defo;
    }
    for (int k = 0; k < 3; k++)
        if (!(opts->std[k] > 0) || !(opts->std[k] < 1e6f) || !(opts->mean[k] > -1e6f && opts->mean[k] < 1e6f))
            return cv_fail(err, EFFCAM_E_ARG, "--std must be positive and --mean finite");
    ox_model m;
    if (ox_parse(buf, len, &m, err)) return err->status;
    cv c;
    memset(&c, 0, sizeof c);
    c.m = &m;
    c.o = opts;
    c.err = err;
    c.node = -1;
    cv_taps taps;
    memset(&taps, 0, sizeof taps);
    cv_scopes sc;
    memset(&sc, 0, sizeof sc);
    ew_tensor *tens = NULL;
    ew_op *eops = NULL;
    effcam_status st = EFFCAM_OK;
    int input_i;
    c.ops = calloc(ECW_MAX_OPS, sizeof *c.ops);
    if (!c.ops) { st = cv_fail(err, EFFCAM_E_NOMEM, "out of memory"); goto done; }
    if (setup_values(&c, &input_i)) { st = err->status; goto done; }
    /* input: NCHW with 3 channels */
    const ox_value_info *in = &m.inputs[input_i];
    int ih = opts->input_h, iw = opts->input_w;
    if (in->ndim >= 0) {
        if (in->ndim != 4 || (in->dims[1] >= 0 && in->dims[1] != 3)) {
            st = cv_fail(err, EFFCAM_E_UNSUPPORTED, "graph input must be NCHW with 3 channels (rank %d, C %lld)", in->ndim,
                         in->ndim > 1 ? (long long)in->dims[1] : -1LL);
            goto done;
        }
        if (!ih && in->dims[2] > 0 && in->dims[2] <= ECW_MAX_INPUT) ih = (int)in->dims[2];
        if (!iw && in->dims[3] > 0 && in->dims[3] <= ECW_MAX_INPUT) iw = (int)in->dims[3];
    }
    if (!ih) ih = 224;
    if (!iw) iw = 224;
    for (int i = 0; i < m.n_nodes; i++) {
        const ox_node *n = &m.nodes[i];
        c.node = i;
        if (n->name.n) pb_cstr(n->name, c.nname, sizeof c.nname);
        else snprintf(c.nname, sizeof c.nname, "#%d", i);
        pb_cstr(n->op_type, c.optype, sizeof c.optype);
        if (n->domain.n && !pb_eq(n->domain, "ai.onnx")) {
            char d[64];
            pb_cstr(n->domain, d, sizeof d);
            st = cv_err(&c, EFFCAM_E_UNSUPPORTED, "operator domain '%s' is not supported", d);
            goto done;
        }
        if (n->n_out < 1 || n->out[0].n == 0) { st = cv_err(&c, EFFCAM_E_CORRUPT, "node without an output"); goto done; }
        if (cv_run_node(&c, n)) { st = err->status; goto done; }
        if (scope_node(&sc, n->name, cv_map_get(&c.names, n->out[0]))) { st = cv_fail(err, EFFCAM_E_NOMEM, "out of memory"); goto done; }
    }
    c.node = -1;
    /* the graph output: the last dense (logits), possibly through Softmax */
    if (m.n_outputs < 1) { st = cv_fail(err, EFFCAM_E_UNSUPPORTED, "the graph has no output"); goto done; }
    {
        int vi = cv_map_get(&c.names, m.outputs[0].name);
        char nm[160];
        pb_cstr(m.outputs[0].name, nm, sizeof nm);
        int fv = vi >= 0 ? cv_feat(&c, vi) : -1;
        if (fv < 0) { st = err->status ? err->status : EFFCAM_E_UNSUPPORTED; goto done; }
        const cv_val *v = &c.v[fv];
        if (v->op < 0 || v->op != c.n_ops - 1 || c.ops[v->op].o.type != ECW_OP_DENSE || v->epoch != c.ops[v->op].epoch) {
            st = cv_fail(err, EFFCAM_E_UNSUPPORTED,
                         "graph output '%s' must be the logits of a final Gemm/MatMul without activation (optionally through Softmax)", nm);
            goto done;
        }
        if (c.ops[v->op].o.act != ECW_ACT_NONE) {
            st = cv_fail(err, EFFCAM_E_UNSUPPORTED, "graph output '%s': the final dense has an activation", nm);
            goto done;
        }
        if (c.v[vi].softmax) c.flags |= ECW_FLAG_HEAD_SOFTMAX;
    }
    int classes = c.ops[c.n_ops - 1].o.cout;
    if (opts->n_labels && opts->n_labels != classes) {
        st = cv_fail(err, EFFCAM_E_ARG, "%d labels for %d classes", opts->n_labels, classes);
        goto done;
    }
    char dname[128] = "";
    int default_tap = -1;
    if (build_taps(&c, &taps, &sc, &default_tap, dname, sizeof dname)) { st = cv_fail(err, EFFCAM_E_NOMEM, "out of memory"); goto done; }
    /* tensors and op records */
    tens = calloc((size_t)c.n_ops * 4 + 1, sizeof *tens);
    eops = calloc((size_t)c.n_ops, sizeof *eops);
    if (!tens || !eops) { st = cv_fail(err, EFFCAM_E_NOMEM, "out of memory"); goto done; }
    int nt = 0;
    for (int i = 0; i < c.n_ops; i++) {
        cv_op *op = &c.ops[i];
        eops[i] = op->o;
        eops[i].name = op->name[0] ? op->name : NULL;
        for (int k = 0; k < 4; k++) {
            if (!op->w[k]) continue;
            ew_tensor *t = &tens[nt];
            t->dtype = op->is_w[k] ? (opts->f32_weights ? ECW_F32 : ECW_F16) : ECW_F32;
            t->ndim = op->wndim[k];
            memcpy(t->dims, op->wdims[k], sizeof t->dims);
            t->data = op->w[k];
            eops[i].t[k] = nt++;
        }
    }
    ew_model em;
    memset(&em, 0, sizeof em);
    em.input_h = ih;
    em.input_w = iw;
    for (int k = 0; k < 3; k++) {
        em.pre_mul[k] = (float)(1.0 / (255.0 * (double)opts->std[k]));
        em.pre_add[k] = (float)(-(double)opts->mean[k] / (double)opts->std[k]);
    }
    em.resize_policy = 1;
    em.resize_filter = 0;
    em.crop_num = 224;
    em.crop_den = 256;
    em.default_tap = default_tap;
    em.source = ECW_SRC_ONNX;
    em.flags = c.flags;
    char name[256];
    if (opts->name) snprintf(name, sizeof name, "%s", opts->name);
    else pb_cstr(m.graph_name, name, sizeof name);
    if (memchr(name, 0, strlen(name)) == NULL && !name[0]) snprintf(name, sizeof name, "onnx");
    em.name = name;
    em.ops = eops;
    em.n_ops = c.n_ops;
    em.tensors = tens;
    em.n_tensors = nt;
    em.taps = taps.t;
    em.n_taps = taps.n;
    em.labels = opts->labels;
    em.n_labels = opts->n_labels;
    st = ew_write(&em, out, out_n, err);
    if (!st && info) {
        memset(info, 0, sizeof *info);
        info->opset = m.opset;
        info->n_ops = c.n_ops;
        info->n_tensors = nt;
        info->n_taps = taps.n;
        info->n_classes = classes;
        info->head_softmax = (c.flags & ECW_FLAG_HEAD_SOFTMAX) != 0;
        snprintf(info->default_tap, sizeof info->default_tap, "%s", dname);
    }
done:
    free(tens);
    free(eops);
    taps_free(&taps);
    scopes_free(&sc);
    cv_release(&c);
    ox_free(&m);
    return st;
}

effcam_status ec_onnx_convert_file(const char *in_path, const char *out_path, const ec_convert_opts *o,
                                   ec_convert_info *info, effcam_error *err) {
    effcam_error local;
    if (!err) err = &local;
    if (!in_path || !out_path) return cv_fail(err, EFFCAM_E_ARG, "NULL path");
    FILE *f = fopen(in_path, "rb");
    if (!f) return cv_fail(err, EFFCAM_E_IO, "cannot open '%s'", in_path);
    uint8_t *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return cv_fail(err, EFFCAM_E_IO, "cannot size '%s'", in_path);
    }
    if ((unsigned long)size > (2ul << 30)) {
        fclose(f);
        return cv_fail(err, EFFCAM_E_DIMS, "'%s' is larger than 2 GiB (protobuf's limit)", in_path);
    }
    buf = malloc(size ? (size_t)size : 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        free(buf);
        fclose(f);
        return cv_fail(err, EFFCAM_E_IO, "cannot read '%s'", in_path);
    }
    fclose(f);
    ec_convert_opts oo;
    if (o) oo = *o;
    else ec_convert_defaults(&oo);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", in_path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");
    if (!oo.base_dir) oo.base_dir = dir;
    char name[256];
    if (!oo.name) { /* the file's name without .onnx (torch names every graph "torch_jit") */
        const char *b = strrchr(in_path, '/');
        snprintf(name, sizeof name, "%s", b ? b + 1 : in_path);
        size_t l = strlen(name);
        if (l > 5 && !strcmp(name + l - 5, ".onnx")) name[l - 5] = 0;
        oo.name = name;
    }
    uint8_t *ecw = NULL;
    size_t n = 0;
    effcam_status st = ec_onnx_to_ecw(buf, (size_t)size, &oo, &ecw, &n, info, err);
    free(buf);
    if (st) return st;
    FILE *g = fopen(out_path, "wb");
    if (!g) {
        free(ecw);
        return cv_fail(err, EFFCAM_E_IO, "cannot create '%s'", out_path);
    }
    int ok = fwrite(ecw, 1, n, g) == n;
    ok &= fclose(g) == 0;
    free(ecw);
    if (!ok) {
        remove(out_path);
        return cv_fail(err, EFFCAM_E_IO, "cannot write '%s'", out_path);
    }
    return EFFCAM_OK;
}
