#define _POSIX_C_SOURCE 200809L
/* Public API: planning, loading into one arena, workspaces, predict,
 * introspection. The only allocations are the library's single arena (when
 * the caller does not provide memory) and a read-only mmap of the file. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cblas.h>

#include "internal.h"
#include "pool.h"

/* ---- BLAS threading -------------------------------------------------------
 * OpenBLAS's threaded GEMM driver calls malloc/free on every call (measured:
 * 2 allocations per threaded sgemm in 0.3.21), which would break the "no
 * allocation after load" promise. effcam therefore runs OpenBLAS on the
 * calling thread only (set once, at the first load) and parallelises with
 * its own threads. Documented in README (it is process-wide). */
static void blas_single_thread(void) {
    static int done;
    if (!__atomic_exchange_n(&done, 1, __ATOMIC_ACQ_REL)) openblas_set_num_threads(1);
    ec_pool_init(); /* the library's own threads (lib/pool.h): created once */
}

/* ---- sizes ------------------------------------------------------------- */
uint64_t ec_model_tables_bytes(const ec_layout *L) {
    return EC_ALIGN_UP(sizeof(effcam_model)) + EC_ALIGN_UP((uint64_t)L->n_ops * sizeof(ec_op)) +
           EC_ALIGN_UP((uint64_t)L->n_tensors * sizeof(ec_tensor)) + EC_ALIGN_UP((uint64_t)L->n_taps * sizeof(ec_tap)) +
           EC_ALIGN_UP((uint64_t)L->n_labels * sizeof(char *));
}

uint64_t ec_ctx_tables_bytes(const ec_layout *L, effcam_mode mode) {
    return EC_ALIGN_UP(sizeof(effcam_ctx)) + EC_ALIGN_UP((uint64_t)ec_plan_nbufs(L, mode) * sizeof(ec_buf)) +
           EC_ALIGN_UP((uint64_t)L->n_classes * 2u * sizeof(float));
}

/* Resolved request: input size and tap. */
static effcam_status resolve(const uint8_t *file, const ec_layout *L, const effcam_spec *spec, ec_plan_req *r,
                             effcam_error *err) {
    effcam_spec def;
    memset(&def, 0, sizeof def);
    if (!spec) spec = &def;
    if (spec->height < 0 || spec->width < 0) return ec_fail(err, EFFCAM_E_DIMS, "negative input size %dx%d", spec->height, spec->width);
    r->h = spec->height ? spec->height : (int)L->input_h;
    r->w = spec->width ? spec->width : (int)L->input_w;
    r->mode = spec->mode;
    if ((unsigned)spec->mode > EFFCAM_MODE_GRADCAM) return ec_fail(err, EFFCAM_E_ARG, "unknown mode %d", (int)spec->mode);
    if ((unsigned)spec->method >= EFFCAM_CAM_METHOD_COUNT) return ec_fail(err, EFFCAM_E_ARG, "unknown CAM method %d", (int)spec->method);
    r->method = (int)spec->method;
    r->cam_flags = spec->mode == EFFCAM_MODE_GRADCAM ? spec->cam_flags : 0;
    if (r->cam_flags & ~(EFFCAM_CAM_SMOOTH_FLIP | EFFCAM_CAM_SMOOTH_SCALE)) return ec_fail(err, EFFCAM_E_ARG, "unknown cam_flags 0x%x", r->cam_flags);
    if (r->cam_flags && spec->method == EFFCAM_CAM_SCORECAM)
        return ec_fail(err, EFFCAM_E_UNSUPPORTED, "test-time smoothing is not available with Score-CAM");
    r->tap = -1;
    if (spec->layer) {
        r->tap = ec_find_tap(file, L, spec->layer);
        if (r->tap < 0) return ec_fail(err, EFFCAM_E_LAYER, "no layer named '%s' in this model (see `effcam info`)", spec->layer);
    } else if (spec->mode == EFFCAM_MODE_GRADCAM) {
        if (L->default_tap == ECW_NONE) return ec_fail(err, EFFCAM_E_LAYER, "the model has no default Grad-CAM layer; name one");
        r->tap = (int)L->default_tap;
    }
    return EFFCAM_OK;
}

/* Plans a workspace with the buffer table on the stack (<= 2050 entries). */
static effcam_status plan_sizes(const uint8_t *file, const ec_layout *L, const ec_op *ops, const ec_plan_req *r0,
                                unsigned flags, effcam_plan *p, ec_buf *bufs, effcam_error *err) {
    ec_plan_out po;
    ec_plan_req r1 = *r0;
    r1.prepack = !(flags & EFFCAM_LOAD_COMPACT);
    const ec_plan_req *r = &r1;
    effcam_status st = ec_plan(file, L, ops, r, bufs, &po, err);
    if (st) return st;
    memset(p, 0, sizeof *p);
    p->file_bytes = (size_t)L->file_bytes;
    p->model_tables_bytes = (size_t)ec_model_tables_bytes(L);
    p->weights_bytes = (flags & EFFCAM_LOAD_IN_PLACE) ? 0 : (size_t)EC_ALIGN_UP(L->file_bytes);
    if (po.prepacked_bytes > (uint64_t)SIZE_MAX / 2) return ec_fail(err, EFFCAM_E_OVERFLOW, "the plan does not fit in size_t");
    p->prepacked_bytes = (size_t)po.prepacked_bytes;
    p->model_bytes = p->model_tables_bytes + p->weights_bytes + p->prepacked_bytes;
    p->workspace_tables_bytes = (size_t)ec_ctx_tables_bytes(L, r->mode);
    p->activation_bytes = (size_t)po.activation_bytes;
    p->scratch_bytes = (size_t)po.scratch_bytes;
    uint64_t ws = (uint64_t)p->workspace_tables_bytes + po.activation_bytes + po.scratch_bytes;
    uint64_t total = ws + p->model_bytes;
    if (total < ws || total > (uint64_t)SIZE_MAX) return ec_fail(err, EFFCAM_E_OVERFLOW, "the plan does not fit in size_t");
    p->workspace_bytes = (size_t)ws;
    p->total_bytes = (size_t)total;
    p->height = r->h;
    p->width = r->w;
    return EFFCAM_OK;
}

/* The planner's buffer table lives on the stack while planning: 32 bytes per
 * buffer, ec_plan_nbufs() buffers (<= 4 per op + 8; <= 1024 ops), sized to
 * the model at hand. */
#pragma GCC diagnostic ignored "-Wvla"

effcam_status effcam_plan_memory(const void *file, size_t file_bytes, const effcam_spec *spec, unsigned flags,
                                 effcam_plan *plan, effcam_error *err) {
    ec_ok(err);
    if (!file || !plan) return ec_fail(err, EFFCAM_E_ARG, "file and plan must not be NULL");
    ec_layout L;
    ec_plan_req r;
    effcam_status st = ec_validate(file, file_bytes, 0, &L, err);
    if (st) return st;
    if ((st = resolve(file, &L, spec, &r, err))) return st;
    ec_buf bufs[ec_plan_nbufs(&L, r.mode)];
    return plan_sizes(file, &L, NULL, &r, flags, plan, bufs, err);
}

/* Read-only map of a whole file; populate: every page will be read at once
 * (the checksum of an in-place load), so map them all in one call instead
 * of one page fault each. */
static effcam_status map_file(const char *path, void **map, size_t *bytes, int populate, effcam_error *err) {
    if (!path) return ec_fail(err, EFFCAM_E_ARG, "path is NULL");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ec_fail(err, EFFCAM_E_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ec_fail(err, EFFCAM_E_IO, "%s: not a regular file", path);
    }
    if (sb.st_size < (off_t)ECW_HEADER_BYTES) {
        close(fd);
        return ec_fail(err, EFFCAM_E_TRUNCATED, "%s: %lld bytes, shorter than the %u-byte header", path, (long long)sb.st_size, ECW_HEADER_BYTES);
    }
    int mflags = MAP_PRIVATE;
#ifdef MAP_POPULATE
    if (populate) mflags |= MAP_POPULATE;
#else
    (void)populate;
#endif
    void *p = mmap(NULL, (size_t)sb.st_size, PROT_READ, mflags, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return ec_fail(err, EFFCAM_E_IO, "%s: mmap failed: %s", path, strerror(errno));
    *map = p;
    *bytes = (size_t)sb.st_size;
    return EFFCAM_OK;
}

effcam_status effcam_plan_file(const char *path, const effcam_spec *spec, unsigned flags, effcam_plan *plan,
                               effcam_error *err) {
    ec_ok(err);
    if (!plan) return ec_fail(err, EFFCAM_E_ARG, "plan is NULL");
    void *map = NULL;
    size_t bytes = 0;
    effcam_status st = map_file(path, &map, &bytes, 0, err);
    if (st) return st;
    st = effcam_plan_memory(map, bytes, spec, flags, plan, err);
    munmap(map, bytes);
    return st;
}

/* ---- workspace --------------------------------------------------------- */
/* Lays a workspace out in mem (64-aligned, >= plan.workspace_bytes). */
static effcam_ctx *ctx_layout(const effcam_model *m, const ec_plan_req *r, const effcam_plan *p, const ec_buf *bufs,
                              uint8_t *mem) {
    effcam_ctx *c = (effcam_ctx *)mem;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->h = r->h;
    c->w = r->w;
    c->mode = r->mode;
    c->tap = r->tap;
    c->method = r->method;
    c->cam_flags = r->cam_flags;
    c->n_bufs = ec_plan_nbufs(&m->L, r->mode);
    uint8_t *q = mem + EC_ALIGN_UP(sizeof(effcam_ctx));
    c->bufs = (ec_buf *)q;
    memcpy(c->bufs, bufs, sizeof(ec_buf) * c->n_bufs);
    q += EC_ALIGN_UP((uint64_t)c->n_bufs * sizeof(ec_buf));
    c->logits = (float *)q;
    c->probs = c->logits + m->L.n_classes;
    q += EC_ALIGN_UP((uint64_t)m->L.n_classes * 2u * sizeof(float));
    c->base_bytes = (uint64_t)(q - mem);
    c->act = q;
    c->act_bytes = p->activation_bytes;
    c->scratch = (float *)(q + p->activation_bytes);
    c->scratch_bytes = p->scratch_bytes;
    c->high_water = c->base_bytes;
    return c;
}

/* Plans a workspace for an already loaded model. */
static effcam_status plan_workspace(const effcam_model *model, const effcam_spec *spec, ec_plan_req *r, effcam_plan *p,
                                    ec_buf *bufs_or_null, effcam_error *err) {
    effcam_status st = resolve(model->file, &model->L, spec, r, err);
    if (st) return st;
    ec_buf bufs[ec_plan_nbufs(&model->L, r->mode)];
    st = plan_sizes(model->file, &model->L, model->ops, r, EFFCAM_LOAD_IN_PLACE, p, bufs, err);
    if (!st && bufs_or_null) memcpy(bufs_or_null, bufs, sizeof bufs);
    return st;
}

effcam_status effcam_workspace_bytes(const effcam_model *model, const effcam_spec *spec, size_t *bytes, effcam_error *err) {
    ec_ok(err);
    if (!model || !bytes) return ec_fail(err, EFFCAM_E_ARG, "model and bytes must not be NULL");
    ec_plan_req r;
    effcam_plan p;
    effcam_status st = plan_workspace(model, spec, &r, &p, NULL, err);
    if (!st) *bytes = p.workspace_bytes;
    return st;
}

effcam_status effcam_ctx_init(const effcam_model *model, const effcam_spec *spec, void *mem, size_t mem_bytes,
                              effcam_ctx **ctx, effcam_error *err) {
    ec_ok(err);
    blas_single_thread();
    if (!model || !ctx) return ec_fail(err, EFFCAM_E_ARG, "model and ctx must not be NULL");
    *ctx = NULL;
    ec_plan_req r;
    effcam_plan p;
    effcam_status st = resolve(model->file, &model->L, spec, &r, err);
    if (st) return st;
    ec_buf bufs[ec_plan_nbufs(&model->L, r.mode)];
    if ((st = plan_workspace(model, spec, &r, &p, bufs, err))) return st;
    void *heap = NULL;
    if (!mem) {
        heap = mem = aligned_alloc(EC_ALIGN, EC_ALIGN_UP(p.workspace_bytes));
        if (!mem) return ec_fail(err, EFFCAM_E_NOMEM, "could not allocate the %zu-byte workspace", p.workspace_bytes);
    } else {
        if ((uintptr_t)mem % EC_ALIGN) return ec_fail(err, EFFCAM_E_ARG, "workspace memory must be 64-byte aligned");
        if (mem_bytes < p.workspace_bytes)
            return ec_fail(err, EFFCAM_E_BUFFER_SMALL, "workspace needs %zu bytes, %zu given", p.workspace_bytes, mem_bytes);
    }
    *ctx = ctx_layout(model, &r, &p, bufs, mem);
    (*ctx)->heap = heap;
    return EFFCAM_OK;
}

void effcam_ctx_free(effcam_ctx *ctx) {
    if (ctx && ctx->heap) free(ctx->heap);
}

/* ---- loading ----------------------------------------------------------- */
/* Decodes the validated file image `file` (already where it will stay) into
 * tables at arena, then lays out the workspace after the model. */
static void model_layout(effcam_model *m, const uint8_t *file, const ec_layout *L) {
    uint8_t *q = (uint8_t *)m + EC_ALIGN_UP(sizeof(effcam_model));
    memset(m, 0, sizeof *m);
    m->file = file;
    m->L = *L;
    m->ops = (ec_op *)q;
    q += EC_ALIGN_UP((uint64_t)L->n_ops * sizeof(ec_op));
    m->tensors = (ec_tensor *)q;
    q += EC_ALIGN_UP((uint64_t)L->n_tensors * sizeof(ec_tensor));
    m->taps = (ec_tap *)q;
    q += EC_ALIGN_UP((uint64_t)L->n_taps * sizeof(ec_tap));
    m->labels = (const char **)q;
    for (uint32_t i = 0; i < L->n_ops; i++) ec_op_decode(file, L, i, &m->ops[i]);
    for (uint32_t i = 0; i < L->n_ops; i++) { /* inputs validated: 0 <= in < i + 1 */
        const ec_op *op = &m->ops[i];
        if (op->in0 > 0) m->ops[op->in0 - 1].readers++;
        if (op->in1 > 0) m->ops[op->in1 - 1].readers++;
    }
    for (uint32_t i = 0; i < L->n_tensors; i++) ec_tensor_decode(file, L, i, &m->tensors[i]);
    for (uint32_t i = 0; i < L->n_taps; i++) ec_tap_decode(file, L, i, &m->taps[i]);
    for (uint32_t i = 0; i < L->n_labels; i++) {
        const uint8_t *r = file + L->labels_off + 4ull * i;
        uint32_t off = (uint32_t)r[0] | ((uint32_t)r[1] << 8) | ((uint32_t)r[2] << 16) | ((uint32_t)r[3] << 24);
        m->labels[i] = ec_string(file, L, off);
    }
}

/* Checks / obtains the arena. */
static effcam_status get_arena(void *arena, size_t arena_bytes, size_t need, uint8_t **out, void **heap, effcam_error *err) {
    *heap = NULL;
    if (!arena) {
        *heap = aligned_alloc(EC_ALIGN, EC_ALIGN_UP(need));
        if (!*heap) return ec_fail(err, EFFCAM_E_NOMEM, "could not allocate the %zu-byte arena", need);
        *out = *heap;
        return EFFCAM_OK;
    }
    if ((uintptr_t)arena % EC_ALIGN) return ec_fail(err, EFFCAM_E_ARG, "the arena must be 64-byte aligned");
    if (arena_bytes < need) return ec_fail(err, EFFCAM_E_BUFFER_SMALL, "the plan needs %zu bytes, the arena has %zu", need, arena_bytes);
    *out = arena;
    return EFFCAM_OK;
}

/* The Winograd convs' forward weights, transformed once into the arena
 * after the weights (plan.prepacked_bytes; ops in order, each aligned). */
static void prepack(effcam_model *m, uint8_t *region) {
    for (uint32_t i = 0; i < m->L.n_ops; i++) {
        ec_op *op = &m->ops[i];
        const size_t nf = ec_op_wino_u_floats(op);
        if (!nf) continue;
        float *U = (float *)region;
        ec_conv3x3_wino_pack_u(U, (const uint16_t *)m->tensors[op->t[0]].data, op->cin, op->cout);
        op->wino_pre = 1;
        op->wino_u = U;
        region += EC_ALIGN_UP((uint64_t)nf * sizeof(float));
    }
}

static void finish_load(uint8_t *a, const uint8_t *file, const ec_layout *L, const ec_plan_req *r, const effcam_plan *p,
                        const ec_buf *bufs, void *heap, effcam_model **model, effcam_ctx **ctx) {
    effcam_model *m = (effcam_model *)a;
    model_layout(m, file, L);
    if (p->prepacked_bytes) prepack(m, a + p->model_tables_bytes + p->weights_bytes);
    m->heap = heap;
    m->ctx0 = ctx_layout(m, r, p, bufs, a + p->model_bytes);
    *model = m;
    if (ctx) *ctx = m->ctx0;
}

effcam_status effcam_load_memory(const void *file, size_t file_bytes, const effcam_spec *spec, unsigned flags, void *arena,
                                 size_t arena_bytes, effcam_model **model, effcam_ctx **ctx, effcam_error *err) {
    ec_ok(err);
    blas_single_thread();
    if (!file || !model) return ec_fail(err, EFFCAM_E_ARG, "file and model must not be NULL");
    *model = NULL;
    if (ctx) *ctx = NULL;
    if ((flags & EFFCAM_LOAD_IN_PLACE) && (uintptr_t)file % EC_ALIGN)
        return ec_fail(err, EFFCAM_E_ARG, "in-place model data must be 64-byte aligned");
    ec_layout L;
    ec_plan_req r;
    effcam_plan p;
    effcam_status st = ec_validate(file, file_bytes, !(flags & EFFCAM_LOAD_NO_CHECKSUM), &L, err);
    if (st) return st;
    if ((st = resolve(file, &L, spec, &r, err))) return st;
    ec_buf bufs[ec_plan_nbufs(&L, r.mode)];
    if ((st = plan_sizes(file, &L, NULL, &r, flags, &p, bufs, err))) return st;
    uint8_t *a = NULL;
    void *heap;
    if ((st = get_arena(arena, arena_bytes, p.total_bytes, &a, &heap, err))) return st;
    const uint8_t *img = file;
    if (!(flags & EFFCAM_LOAD_IN_PLACE)) {
        uint8_t *copy = a + p.model_tables_bytes;
        memcpy(copy, file, (size_t)L.file_bytes);
        img = copy;
    }
    finish_load(a, img, &L, &r, &p, bufs, heap, model, ctx);
    return EFFCAM_OK;
}

static effcam_status read_all(const char *path, uint8_t *dst, uint64_t bytes, effcam_error *err) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ec_fail(err, EFFCAM_E_IO, "%s: %s", path, strerror(errno));
    uint64_t got = 0;
    while (got < bytes) {
        ssize_t k = read(fd, dst + got, (size_t)(bytes - got > (1u << 30) ? (1u << 30) : bytes - got));
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            close(fd);
            return ec_fail(err, k == 0 ? EFFCAM_E_TRUNCATED : EFFCAM_E_IO, "%s: read %llu of %llu bytes", path,
                           (unsigned long long)got, (unsigned long long)bytes);
        }
        got += (uint64_t)k;
    }
    close(fd);
    return EFFCAM_OK;
}

effcam_status effcam_load_file(const char *path, const effcam_spec *spec, unsigned flags, void *arena, size_t arena_bytes,
                               effcam_model **model, effcam_ctx **ctx, effcam_error *err) {
    ec_ok(err);
    blas_single_thread();
    if (!model) return ec_fail(err, EFFCAM_E_ARG, "model must not be NULL");
    *model = NULL;
    if (ctx) *ctx = NULL;
    void *map = NULL;
    size_t bytes = 0;
    effcam_status st =
        map_file(path, &map, &bytes, (flags & EFFCAM_LOAD_IN_PLACE) && !(flags & EFFCAM_LOAD_NO_CHECKSUM), err);
    if (st) return st;
    if (flags & EFFCAM_LOAD_IN_PLACE) {
        st = effcam_load_memory(map, bytes, spec, flags, arena, arena_bytes, model, ctx, err);
        if (st) {
            munmap(map, bytes);
            return st;
        }
        (*model)->map = map;
        (*model)->map_bytes = bytes;
        return EFFCAM_OK;
    }
    /* Copy mode: plan from the mapping (touches only the header and tables),
     * unmap, then read the file straight into the arena: the weights are in
     * memory once, never twice. */
    ec_layout L, L2;
    ec_plan_req r;
    effcam_plan p;
    st = ec_validate(map, bytes, 0, &L, err);
    if (!st) st = resolve(map, &L, spec, &r, err);
    if (st) {
        munmap(map, bytes);
        return st;
    }
    ec_buf bufs[ec_plan_nbufs(&L, r.mode)];
    st = plan_sizes(map, &L, NULL, &r, flags, &p, bufs, err);
    munmap(map, bytes);
    if (st) return st;
    uint8_t *a = NULL;
    void *heap;
    if ((st = get_arena(arena, arena_bytes, p.total_bytes, &a, &heap, err))) return st;
    uint8_t *copy = a + p.model_tables_bytes;
    st = read_all(path, copy, L.file_bytes, err);
    if (!st) st = ec_validate(copy, (size_t)L.file_bytes, !(flags & EFFCAM_LOAD_NO_CHECKSUM), &L2, err);
    if (!st && memcmp(&L, &L2, sizeof L) != 0) st = ec_fail(err, EFFCAM_E_IO, "%s changed while it was being loaded", path);
    if (st) {
        free(heap);
        return st;
    }
    finish_load(a, copy, &L2, &r, &p, bufs, heap, model, ctx);
    return EFFCAM_OK;
}

void effcam_free(effcam_model *model) {
    if (!model) return;
    void *map = model->map, *heap = model->heap;
    size_t map_bytes = model->map_bytes;
    if (map) munmap(map, map_bytes);
    free(heap);
}

/* ---- predict ----------------------------------------------------------- */
/* Input rows [lo, hi) of a band: the model's preprocessing (or a copy of a
 * normalised input), one band per thread like the stem conv's output rows,
 * so each thread writes the input rows it reads next. */
typedef struct pre_job {
    float *in;
    const float *x;
    const ec_layout *L;
    int h, w, ntasks, normalized;
} pre_job;

static void pre_task(void *arg, int t, int thread) {
    (void)thread;
    const pre_job *j = arg;
    int lo, hi;
    ec_split(j->h, j->ntasks, t, 1, &lo, &hi);
    const size_t p0 = (size_t)lo * (size_t)j->w, p1 = (size_t)hi * (size_t)j->w;
    if (j->normalized) {
        memcpy(j->in + 3 * p0, j->x + 3 * p0, (p1 - p0) * 3 * sizeof(float));
        return;
    }
    const int bgr = j->L->channel_order == 1;
    for (size_t p = p0; p < p1; p++)
        for (int c = 0; c < 3; c++) {
            int src = bgr ? 2 - c : c;
            j->in[p * 3 + c] = j->x[p * 3 + src] * j->L->pre_mul[c] + j->L->pre_add[c];
        }
}

effcam_status effcam_predict_f32(effcam_ctx *ctx, const float *x, int height, int width, unsigned flags) {
    if (!ctx || !x) return EFFCAM_E_ARG;
    if (height != ctx->h || width != ctx->w) return EFFCAM_E_DIMS;
    pre_job j = {ec_buf_ptr(ctx, 0), x, &ctx->m->L, height, width, ec_row_tasks(height),
                 (flags & EFFCAM_INPUT_NORMALIZED) != 0};
    ec_parallel_for(j.ntasks, pre_task, &j);
    ctx->have_result = 0;
    return ec_forward(ctx);
}

effcam_status effcam_predict_rgb8(effcam_ctx *ctx, const uint8_t *rgb, int height, int width, size_t stride) {
    if (!ctx || !rgb) return EFFCAM_E_ARG;
    if (height < 1 || width < 1 || height > 1000000 || width > 1000000) return EFFCAM_E_DIMS;
    if (stride == 0) stride = (size_t)width * 3;
    if (stride < (size_t)width * 3) return EFFCAM_E_ARG;
    const ec_layout *L = &ctx->m->L;
    float *in = ec_buf_ptr(ctx, 0);
    const int H = ctx->h, W = ctx->w, bgr = L->channel_order == 1;
    /* bilinear, half-pixel centres, edge clamp, no antialiasing: the same
     * sampling as the CAM resize (ec_resize_axis) */
    for (int y = 0; y < H; y++) {
        ec_lerp_axis ay = ec_resize_axis(height, H, y, 0);
        const float wy = ay.l;
        const uint8_t *r0 = rgb + (size_t)ay.i0 * stride, *r1 = rgb + (size_t)ay.i1 * stride;
        for (int x = 0; x < W; x++) {
            ec_lerp_axis ax = ec_resize_axis(width, W, x, 0);
            const int x0 = ax.i0, x1 = ax.i1;
            const float wx = ax.l;
            float *o = in + ((size_t)y * W + x) * 3;
            for (int c = 0; c < 3; c++) {
                int s = bgr ? 2 - c : c;
                float top = r0[x0 * 3 + s] + (r0[x1 * 3 + s] - r0[x0 * 3 + s]) * wx;
                float bot = r1[x0 * 3 + s] + (r1[x1 * 3 + s] - r1[x0 * 3 + s]) * wx;
                o[c] = (top + (bot - top) * wy) * L->pre_mul[c] + L->pre_add[c];
            }
        }
    }
    ctx->have_result = 0;
    return ec_forward(ctx);
}

const float *effcam_logits(const effcam_ctx *ctx) { return ctx && ctx->have_result ? ctx->logits : NULL; }
const float *effcam_probs(const effcam_ctx *ctx) { return ctx && ctx->have_result ? ctx->probs : NULL; }

int effcam_top_k(const effcam_ctx *ctx, int k, int *classes, float *probs) {
    if (!ctx || !ctx->have_result || k <= 0 || !classes) return 0;
    int n = (int)ctx->m->L.n_classes;
    if (k > n) k = n;
    /* selection: k passes, ties broken by lower class index */
    for (int i = 0; i < k; i++) {
        int best = -1;
        for (int c = 0; c < n; c++) {
            int taken = 0;
            for (int j = 0; j < i; j++) taken |= classes[j] == c;
            if (taken) continue;
            if (best < 0 || ctx->probs[c] > ctx->probs[best]) best = c;
        }
        classes[i] = best;
        if (probs) probs[i] = ctx->probs[best];
    }
    return k;
}

effcam_status effcam_tap_output(const effcam_ctx *ctx, const float **data, int *height, int *width, int *channels) {
    if (!ctx || !data) return EFFCAM_E_ARG;
    if (ctx->tap < 0) return EFFCAM_E_MODE;
    if (!ctx->have_result) return EFFCAM_E_STATE;
    const ec_tap *t = &ctx->m->taps[ctx->tap];
    uint32_t b = t->kind == ECW_TAP_OUTPUT ? (uint32_t)t->value : ctx->m->L.n_ops + 1 + EC_BUF_TAP;
    const ec_buf *bf = &ctx->bufs[b];
    *data = (const float *)(ctx->act + bf->offset);
    if (height) *height = bf->h;
    if (width) *width = bf->w;
    if (channels) *channels = (int)bf->c;
    return EFFCAM_OK;
}

size_t effcam_workspace_high_water(const effcam_ctx *ctx) { return ctx ? (size_t)ctx->high_water : 0; }

/* Sizes the process-wide pool (lib/pool.h): threads - 1 workers plus the
 * calling thread; 1 = no worker threads; <= 0 = the default. OpenBLAS
 * itself stays single-threaded. Call it when no predict is running (it
 * waits for a running parallel section to finish). */
void effcam_set_threads(int threads) {
    ec_pool_set_threads(threads);
    blas_single_thread();
}

/* ---- introspection ------------------------------------------------------ */
effcam_status effcam_get_info(const effcam_model *m, effcam_info *info) {
    if (!m || !info) return EFFCAM_E_ARG;
    const ec_layout *L = &m->L;
    memset(info, 0, sizeof *info);
    info->num_ops = (int)L->n_ops;
    info->num_tensors = (int)L->n_tensors;
    info->num_taps = (int)L->n_taps;
    info->num_classes = (int)L->n_classes;
    info->input_height = (int)L->input_h;
    info->input_width = (int)L->input_w;
    info->input_channels = (int)L->input_c;
    info->channel_order = (int)L->channel_order;
    for (int i = 0; i < 3; i++) {
        info->pre_mul[i] = L->pre_mul[i];
        info->pre_add[i] = L->pre_add[i];
    }
    info->resize_policy = (int)L->resize_policy;
    info->resize_filter = (int)L->resize_filter;
    info->crop_num = (int)L->crop_num;
    info->crop_den = (int)L->crop_den;
    info->source = (int)L->source;
    info->head_softmax = (L->flags & ECW_FLAG_HEAD_SOFTMAX) != 0;
    info->num_params = L->n_params;
    info->file_bytes = L->file_bytes;
    info->name = ec_string(m->file, L, L->name_str);
    info->default_tap = L->default_tap == ECW_NONE ? NULL : m->taps[L->default_tap].name;
    for (uint32_t i = 0; i < L->n_ops; i++) {
        const ec_op *op = &m->ops[i];
        int nw = ec_op_weight_slots(op);
        for (int k = 0; k < nw; k++) {
            const ec_tensor *t = &m->tensors[op->t[2 * k]]; /* slots 0 and 2 */
            if (t->dtype == ECW_F32) info->weight_bytes_f32 += t->nbytes;
            else info->weight_bytes_f16 += t->nbytes;
        }
    }
    return EFFCAM_OK;
}

const char *effcam_label(const effcam_model *m, int cls) {
    if (!m || cls < 0 || (uint32_t)cls >= m->L.n_labels) return NULL;
    return m->labels[cls];
}

const char *effcam_tap_name(const effcam_model *m, int i) {
    if (!m || i < 0 || (uint32_t)i >= m->L.n_taps) return NULL;
    return m->taps[i].name;
}

effcam_status effcam_get_op_info(const effcam_model *m, int i, effcam_op_info *info) {
    if (!m || !info || i < 0 || (uint32_t)i >= m->L.n_ops) return EFFCAM_E_ARG;
    const ec_op *op = &m->ops[i];
    info->type = ec_op_type_name(op->type);
    info->name = op->name;
    info->act = ec_act_name(op->act);
    info->kh = op->kh;
    info->kw = op->kw;
    info->sh = op->sh;
    info->sw = op->sw;
    info->cin = op->cin;
    info->cout = op->cout;
    info->params = ec_op_params(op);
    int nw = ec_op_weight_slots(op);
    int f32 = 0;
    for (int k = 0; k < nw; k++) f32 += op->wdt[k] == EC_WDT_F32;
    info->weights = nw == 0 ? "" : f32 == 0 ? "f16" : f32 == nw ? "f32" : "f16+f32";
    return EFFCAM_OK;
}
