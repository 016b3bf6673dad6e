/* libjpeg glue: a replacement struct jpeg_memory_mgr over the planned block,
 * an error manager that never prints, and source / destination managers that
 * allocate from the block. Also the byte source used by both codecs. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <jerror.h>

#include "img_internal.h"

/* ---- bump arena -------------------------------------------------------- */
void ei_arena_init(ei_arena *a, uint8_t *base, size_t size, size_t block_off, size_t *high) {
    a->base = base; a->size = size; a->top = 0; a->high = high; a->block_off = block_off; a->peak = 0;
}

void *ei_arena_alloc(ei_arena *a, size_t n) {
    size_t top = EI_UP(a->top);
    if (n > a->size || top > a->size - n) return NULL;
    void *p = a->base + top;
    a->top = top + n;
    if (a->top > a->peak) a->peak = a->top;
    if (a->high && a->block_off + a->top > *a->high) *a->high = a->block_off + a->top;
    return p;
}

/* ---- byte source ------------------------------------------------------- */
size_t ei_src_read(ei_src *s, uint8_t *dst, size_t n) {
    if (s->fd < 0) {
        size_t left = s->mem_bytes - s->mem_pos;
        if (n > left) n = left;
        if (n) memcpy(dst, s->mem + s->mem_pos, n);
        s->mem_pos += n;
        return n;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(s->fd, dst + got, n - got);
        if (r < 0) { if (errno == EINTR) continue; s->failed = 1; break; }
        if (r == 0) break;
        got += (size_t)r;
    }
    return got;
}

int ei_src_rewind(ei_src *s) {
    if (s->fd < 0) { s->mem_pos = 0; return 0; }
    return lseek(s->fd, 0, SEEK_SET) == 0 ? 0 : -1;
}

/* ---- error manager ----------------------------------------------------- */
static void ei_jerr_exit(j_common_ptr cinfo) {
    ei_jerr *e = (ei_jerr *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, e->msg);
    longjmp(*e->target, 1);
}
static void ei_jerr_emit(j_common_ptr cinfo, int level) {
    /* Warnings (level -1) on corrupt data are counted, never printed. */
    if (level < 0) cinfo->err->num_warnings++;
}
static void ei_jerr_output(j_common_ptr cinfo) { (void)cinfo; }

void ei_jerr_setup(ei_jerr *e) {
    jpeg_std_error(&e->pub);
    e->pub.error_exit = ei_jerr_exit;
    e->pub.emit_message = ei_jerr_emit;
    e->pub.output_message = ei_jerr_output;
    e->msg[0] = 0;
}

/* ---- memory manager ---------------------------------------------------- */
struct jvirt_sarray_control {
    JSAMPARRAY rows;
    JDIMENSION samplesperrow, numrows, maxaccess;
    int pre_zero;
    struct jvirt_sarray_control *next;
};
struct jvirt_barray_control {
    JBLOCKARRAY rows;
    JDIMENSION blocksperrow, numrows, maxaccess;
    int pre_zero;
    struct jvirt_barray_control *next;
};

struct ei_jmem {
    struct jpeg_memory_mgr pub; /* first */
    struct jpeg_memory_mgr *orig;
    ei_arena perm;
    ei_arena *image;
    size_t image_mark;
    struct jvirt_sarray_control *vs;
    struct jvirt_barray_control *vb;
};

size_t ei_jmem_sizeof(void) { return sizeof(ei_jmem); }

static void ei_jfail(j_common_ptr cinfo, int which) {
    cinfo->err->msg_code = JERR_OUT_OF_MEMORY;
    cinfo->err->msg_parm.i[0] = which;
    (*cinfo->err->error_exit)(cinfo);
}

static void *ei_jalloc(j_common_ptr cinfo, int pool, size_t n) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    void *p = NULL;
    if (pool == JPOOL_PERMANENT) p = ei_arena_alloc(&m->perm, n);
    else if (pool == JPOOL_IMAGE && m->image) p = ei_arena_alloc(m->image, n);
    if (!p) ei_jfail(cinfo, pool == JPOOL_PERMANENT ? 100 : 101);
    return p;
}

static JSAMPARRAY ei_jsarray(j_common_ptr cinfo, int pool, JDIMENSION spr, JDIMENSION rows) {
    /* Rows padded to 64 bytes: libjpeg-turbo's SIMD routines read and write
     * up to the next 32-byte boundary. */
    size_t rowb = EI_UP((size_t)spr * sizeof(JSAMPLE));
    JSAMPARRAY a = ei_jalloc(cinfo, pool, (size_t)rows * sizeof(JSAMPROW));
    if (rows == 0) return a;
    uint8_t *d = ei_jalloc(cinfo, pool, rowb * rows);
    for (JDIMENSION r = 0; r < rows; r++) a[r] = (JSAMPROW)(d + rowb * r);
    return a;
}

static JBLOCKARRAY ei_jbarray(j_common_ptr cinfo, int pool, JDIMENSION bpr, JDIMENSION rows) {
    size_t rowb = EI_UP((size_t)bpr * sizeof(JBLOCK));
    JBLOCKARRAY a = ei_jalloc(cinfo, pool, (size_t)rows * sizeof(JBLOCKROW));
    if (rows == 0) return a;
    uint8_t *d = ei_jalloc(cinfo, pool, rowb * rows);
    for (JDIMENSION r = 0; r < rows; r++) a[r] = (JBLOCKROW)(d + rowb * r);
    return a;
}

static jvirt_sarray_ptr ei_jreq_s(j_common_ptr cinfo, int pool, boolean pre_zero,
                                  JDIMENSION spr, JDIMENSION rows, JDIMENSION maxaccess) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    if (pool != JPOOL_IMAGE) ei_jfail(cinfo, 102);
    struct jvirt_sarray_control *v = ei_jalloc(cinfo, pool, sizeof *v);
    memset(v, 0, sizeof *v);
    v->samplesperrow = spr; v->numrows = rows; v->maxaccess = maxaccess; v->pre_zero = pre_zero;
    v->next = m->vs; m->vs = v;
    return v;
}

static jvirt_barray_ptr ei_jreq_b(j_common_ptr cinfo, int pool, boolean pre_zero,
                                  JDIMENSION bpr, JDIMENSION rows, JDIMENSION maxaccess) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    if (pool != JPOOL_IMAGE) ei_jfail(cinfo, 102);
    struct jvirt_barray_control *v = ei_jalloc(cinfo, pool, sizeof *v);
    memset(v, 0, sizeof *v);
    v->blocksperrow = bpr; v->numrows = rows; v->maxaccess = maxaccess; v->pre_zero = pre_zero;
    v->next = m->vb; m->vb = v;
    return v;
}

static void ei_jrealize(j_common_ptr cinfo) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    /* Everything in memory (no backing store): whole arrays, from the plan. */
    for (struct jvirt_sarray_control *v = m->vs; v; v = v->next)
        if (!v->rows) {
            v->rows = ei_jsarray(cinfo, JPOOL_IMAGE, v->samplesperrow, v->numrows);
            if (v->pre_zero)
                for (JDIMENSION r = 0; r < v->numrows; r++) memset(v->rows[r], 0, v->samplesperrow);
        }
    for (struct jvirt_barray_control *v = m->vb; v; v = v->next)
        if (!v->rows) {
            v->rows = ei_jbarray(cinfo, JPOOL_IMAGE, v->blocksperrow, v->numrows);
            if (v->pre_zero)
                for (JDIMENSION r = 0; r < v->numrows; r++)
                    memset(v->rows[r], 0, (size_t)v->blocksperrow * sizeof(JBLOCK));
        }
}

static JSAMPARRAY ei_jaccess_s(j_common_ptr cinfo, jvirt_sarray_ptr v, JDIMENSION start,
                               JDIMENSION n, boolean writable) {
    (void)writable;
    if (!v->rows || start + n > v->numrows || n > v->maxaccess) {
        cinfo->err->msg_code = JERR_BAD_VIRTUAL_ACCESS;
        (*cinfo->err->error_exit)(cinfo);
    }
    return v->rows + start;
}

static JBLOCKARRAY ei_jaccess_b(j_common_ptr cinfo, jvirt_barray_ptr v, JDIMENSION start,
                                JDIMENSION n, boolean writable) {
    (void)writable;
    if (!v->rows || start + n > v->numrows || n > v->maxaccess) {
        cinfo->err->msg_code = JERR_BAD_VIRTUAL_ACCESS;
        (*cinfo->err->error_exit)(cinfo);
    }
    return v->rows + start;
}

static void ei_jfree_pool(j_common_ptr cinfo, int pool) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    if (pool == JPOOL_IMAGE) {
        m->vs = NULL; m->vb = NULL;
        if (m->image) ei_arena_reset(m->image, m->image_mark);
    }
    /* JPOOL_PERMANENT: released with the handle. */
}

static void ei_jself_destruct(j_common_ptr cinfo) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    ei_jfree_pool(cinfo, JPOOL_IMAGE);
    /* Hand back libjpeg's own manager (made by jpeg_create_*), which frees
     * what it allocated there. */
    cinfo->mem = m->orig;
    if (cinfo->mem) (*cinfo->mem->self_destruct)(cinfo);
}

void ei_jmem_install(j_common_ptr cinfo, ei_jmem *m, uint8_t *perm, size_t perm_bytes) {
    memset(m, 0, sizeof *m);
    m->orig = cinfo->mem;
    ei_arena_init(&m->perm, perm, perm_bytes, 0, NULL);
    m->pub.alloc_small = ei_jalloc;
    m->pub.alloc_large = ei_jalloc;
    m->pub.alloc_sarray = ei_jsarray;
    m->pub.alloc_barray = ei_jbarray;
    m->pub.request_virt_sarray = ei_jreq_s;
    m->pub.request_virt_barray = ei_jreq_b;
    m->pub.realize_virt_arrays = ei_jrealize;
    m->pub.access_virt_sarray = ei_jaccess_s;
    m->pub.access_virt_barray = ei_jaccess_b;
    m->pub.free_pool = ei_jfree_pool;
    m->pub.self_destruct = ei_jself_destruct;
    m->pub.max_memory_to_use = 0;
    m->pub.max_alloc_chunk = 1000000000L;
    cinfo->mem = &m->pub;
}

void ei_jmem_set_image_arena(j_common_ptr cinfo, ei_arena *image) {
    ei_jmem *m = (ei_jmem *)cinfo->mem;
    m->image = image;
    m->image_mark = image ? image->top : 0;
    m->vs = NULL; m->vb = NULL;
}

/* ---- source manager ---------------------------------------------------- */
typedef struct ei_jsrc {
    struct jpeg_source_mgr pub;
    ei_src *s;
    uint8_t *buf;
    size_t cap;
} ei_jsrc;

static void ei_js_init(j_decompress_ptr cinfo) { (void)cinfo; }
static boolean ei_js_fill(j_decompress_ptr cinfo) {
    ei_jsrc *j = (ei_jsrc *)cinfo->src;
    size_t n = 0;
    if (j->s->fd < 0) {
        /* memory: hand out the rest in one piece (no copy) */
        n = j->s->mem_bytes - j->s->mem_pos;
        if (n) {
            j->pub.next_input_byte = j->s->mem + j->s->mem_pos;
            j->pub.bytes_in_buffer = n;
            j->s->mem_pos += n;
            return TRUE;
        }
    } else {
        n = ei_src_read(j->s, j->buf, j->cap);
        if (n) { j->pub.next_input_byte = j->buf; j->pub.bytes_in_buffer = n; return TRUE; }
    }
    /* Truncated: a fake EOI, as libjpeg's own managers do (warning counted). */
    static const JOCTET eoi[2] = {0xFF, JPEG_EOI};
    cinfo->err->num_warnings++;
    j->pub.next_input_byte = eoi;
    j->pub.bytes_in_buffer = 2;
    return TRUE;
}
static void ei_js_skip(j_decompress_ptr cinfo, long n) {
    ei_jsrc *j = (ei_jsrc *)cinfo->src;
    if (n <= 0) return;
    while (n > (long)j->pub.bytes_in_buffer) {
        n -= (long)j->pub.bytes_in_buffer;
        (void)ei_js_fill(cinfo);
    }
    j->pub.next_input_byte += n;
    j->pub.bytes_in_buffer -= (size_t)n;
}
static void ei_js_term(j_decompress_ptr cinfo) { (void)cinfo; }

struct jpeg_source_mgr *ei_jsrc_init(ei_arena *a, ei_src *s) {
    ei_jsrc *j = ei_arena_alloc(a, sizeof *j);
    if (!j) return NULL;
    memset(j, 0, sizeof *j);
    j->s = s; j->buf = s->buf; j->cap = s->buf_size;
    j->pub.init_source = ei_js_init;
    j->pub.fill_input_buffer = ei_js_fill;
    j->pub.skip_input_data = ei_js_skip;
    j->pub.resync_to_restart = jpeg_resync_to_restart;
    j->pub.term_source = ei_js_term;
    return &j->pub;
}

/* ---- destination manager ---------------------------------------------- */
#define EI_JDST_BUF 4096u
typedef struct ei_jdst {
    struct jpeg_destination_mgr pub;
    effcam_write_fn w;
    void *user;
    int *failed;
    JOCTET buf[EI_JDST_BUF];
} ei_jdst;

static void ei_jd_init(j_compress_ptr c) {
    ei_jdst *d = (ei_jdst *)c->dest;
    d->pub.next_output_byte = d->buf; d->pub.free_in_buffer = EI_JDST_BUF;
}
static boolean ei_jd_empty(j_compress_ptr c) {
    ei_jdst *d = (ei_jdst *)c->dest;
    if (!*d->failed && d->w(d->user, d->buf, EI_JDST_BUF) != 0) *d->failed = 1;
    d->pub.next_output_byte = d->buf; d->pub.free_in_buffer = EI_JDST_BUF;
    return TRUE;
}
static void ei_jd_term(j_compress_ptr c) {
    ei_jdst *d = (ei_jdst *)c->dest;
    size_t n = EI_JDST_BUF - d->pub.free_in_buffer;
    if (n && !*d->failed && d->w(d->user, d->buf, n) != 0) *d->failed = 1;
}

struct jpeg_destination_mgr *ei_jdst_init(ei_arena *a, effcam_write_fn w, void *user, int *failed) {
    ei_jdst *d = ei_arena_alloc(a, sizeof *d);
    if (!d) return NULL;
    d->w = w; d->user = user; d->failed = failed;
    d->pub.init_destination = ei_jd_init;
    d->pub.empty_output_buffer = ei_jd_empty;
    d->pub.term_destination = ei_jd_term;
    return &d->pub;
}
