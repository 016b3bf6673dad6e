/* effcam image path: planning, handle, streaming decode + resize into the
 * model tensor, streaming render. See include/effcam_image.h. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h> /* Z_RLE for the fast PNG setting (render_impl.h) */

#include "img_internal.h"

/* status helpers from lib/status.c */
effcam_status ec_fail(effcam_error *err, effcam_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void ec_ok(effcam_error *err);

/* ---- defaults and bounds ------------------------------------------------ */
#define EI_DEF_SIDE 16384
#define EI_DEF_PIXELS 40000000ull
#define EI_DEF_PROG 4000000ull
#define EI_DEF_OUT 300
#define EI_DEF_BAND 64
#define EI_EXIF_CAP 8192u
#define EI_MAX_SIDE 65500

/* Bounds of the codecs' internal working memory (JPOOL_IMAGE, libpng and
 * zlib): fixed part + per-column part. Derived from the allocation structure
 * of libjpeg-turbo 2.1 / libpng 1.6 / zlib 1.2 and checked by measurement
 * (tests/test_image_memory.c; docs/image.md). Exceeding them fails cleanly
 * with EFFCAM_E_NOMEM; it never writes outside the block. */
#define EI_JDEC_FIXED (96u * 1024u)
#define EI_JDEC_PER_COL 192u
#define EI_PDEC_FIXED (72u * 1024u)
#define EI_PDEC_PER_COL 24u
#define EI_PENC_FIXED (300u * 1024u)
#define EI_PENC_PER_COL 40u   /* per pixel of the encoded row (RGB) */
#define EI_JENC_FIXED (64u * 1024u)
#define EI_JENC_PER_COL 64u

struct effcam_image {
    effcam_image_plan plan;
    uint8_t *block;
    size_t block_bytes;
    void *heap;
    size_t high;       /* this request's high-water (bytes from the block start) */
    size_t high_all;   /* since init */
    float *tensor;
    int t_h, t_w, have_tensor;
    uint8_t *work;
    size_t work_off, work_bytes;
    uint8_t *srcbuf;
    uint8_t *exif;
    size_t exif_len;
    int exif_seen;
    jmp_buf jb;
    char msg[200];
    /* libjpeg objects, created once in init */
    struct jpeg_decompress_struct dj;
    ei_jerr djerr;
    ei_jmem *djmem;
    int dj_ok;
    struct jpeg_compress_struct cj;
    ei_jerr cjerr;
    ei_jmem *cjmem;
    int cj_ok;
};

static void resolve_limits(const effcam_image_limits *in, effcam_image_limits *L) {
    if (in) *L = *in; else memset(L, 0, sizeof *L);
    if (L->max_width <= 0) L->max_width = EI_DEF_SIDE;
    if (L->max_height <= 0) L->max_height = EI_DEF_SIDE;
    if (L->max_pixels == 0) L->max_pixels = EI_DEF_PIXELS;
    if (L->max_progressive_pixels == 0) L->max_progressive_pixels = EI_DEF_PROG;
    if (L->max_progressive_pixels > L->max_pixels) L->max_progressive_pixels = L->max_pixels;
    if (L->max_out_width <= 0) L->max_out_width = EI_DEF_OUT;
    if (L->max_out_height <= 0) L->max_out_height = EI_DEF_OUT;
    if (L->render_band_rows <= 0) L->render_band_rows = EI_DEF_BAND;
}

static size_t handle_bytes(void) {
    return EI_UP(sizeof(effcam_image)) + 2 * EI_UP(ei_jmem_sizeof()) + 2 * EI_UP(EI_JPERM_BYTES) +
           EI_UP(EI_SRC_BUF) + EI_UP(EI_EXIF_CAP);
}

static size_t coef_budget(const effcam_image_limits *L) {
    if (L->max_progressive_pixels <= 1) return 0;
    uint64_t P = L->max_progressive_pixels;
    uint64_t bw = (uint64_t)L->max_width / 8 + 8, bh = (uint64_t)L->max_height / 8 + 8;
    /* 4:2:0 YCbCr at P pixels: 1.5 blocks per 64 pixels of 128 bytes = 3 B/px,
     * plus MCU padding along each side, row pointers and row alignment. */
    uint64_t b = 3 * P + 3ull * 128 * 2 * (bw + bh) + 3ull * bh * 2 * (sizeof(void *) + EI_ALIGN) + 4096;
    return (size_t)b;
}

static size_t jdec_bytes(const effcam_image_limits *L) {
    size_t side = (size_t)(L->max_width > L->max_height ? L->max_width : L->max_height);
    (void)side;
    return EI_JDEC_FIXED + EI_JDEC_PER_COL * ((size_t)L->max_width + 64);
}
static size_t pdec_bytes(const effcam_image_limits *L) {
    return EI_PDEC_FIXED + EI_PDEC_PER_COL * ((size_t)L->max_width + 64);
}
static size_t enc_bytes(size_t row_px) {
    size_t p = EI_PENC_FIXED + EI_PENC_PER_COL * (row_px + 64);
    size_t j = EI_JENC_FIXED + EI_JENC_PER_COL * (row_px + 64);
    return p > j ? p : j;
}

/* Resampler working set for a tensor of ow x oh from a source whose display
 * sides are at most `side`, with `acc_rows` accumulator rows. */
static size_t resampler_bytes(size_t side, int ow, int oh, size_t acc_rows) {
    int S2w = 2 * ow, S2h = 2 * oh;
    size_t b = 0;
    b += ei_axis_bytes(ow, (int)side, S2w, EFFCAM_FILTER_LANCZOS) + 64;
    b += ei_axis_bytes(oh, (int)side, S2h, EFFCAM_FILTER_LANCZOS) + 64;
    b += EI_UP(side * 4 + 64);                           /* raw decoded row  */
    b += EI_UP(side * 3 + 64);                           /* RGB row          */
    size_t tmp = (size_t)(ow > oh ? ow : oh) * 3 * sizeof(float);
    b += EI_UP(tmp);
    b += EI_UP(acc_rows * (size_t)ow * 3 * sizeof(float));
    return b;
}

effcam_status effcam_image_plan_bytes(const effcam_image_limits *limits, effcam_image_plan *plan) {
    if (!plan) return EFFCAM_E_ARG;
    memset(plan, 0, sizeof *plan);
    effcam_image_limits L;
    resolve_limits(limits, &L);
    if (L.max_width > EI_MAX_SIDE || L.max_height > EI_MAX_SIDE || L.max_out_width > EI_MAX_SIDE ||
        L.max_out_height > EI_MAX_SIDE || L.max_render_width > EI_MAX_SIDE ||
        L.max_render_height > EI_MAX_SIDE || L.render_band_rows > EI_MAX_SIDE || L.max_render_width < 0 ||
        L.max_render_height < 0)
        return EFFCAM_E_DIMS;
    if (L.max_pixels > (uint64_t)L.max_width * (uint64_t)L.max_height)
        L.max_pixels = (uint64_t)L.max_width * (uint64_t)L.max_height;
    if (L.max_progressive_pixels > L.max_pixels) L.max_progressive_pixels = L.max_pixels;
    size_t side = (size_t)(L.max_width > L.max_height ? L.max_width : L.max_height);
    plan->limits = L;
    plan->handle_bytes = handle_bytes();
    plan->tensor_bytes = EI_UP((size_t)L.max_out_width * (size_t)L.max_out_height * 3 * sizeof(float));
    plan->jpeg_codec_bytes = jdec_bytes(&L);
    plan->jpeg_coef_bytes = coef_budget(&L);
    plan->png_codec_bytes = pdec_bytes(&L);
    size_t jd = plan->jpeg_codec_bytes + plan->jpeg_coef_bytes;
    size_t dec = jd > plan->png_codec_bytes ? jd : plan->png_codec_bytes;
    /* decode: codec + resampler (the accumulator is the tensor itself) */
    plan->decode_bytes = EI_UP(dec) + resampler_bytes(side, L.max_out_width, L.max_out_height, 0);
    if (L.max_render_width > 0 && L.max_render_height > 0) {
        size_t rw = (size_t)L.max_render_width;
        size_t band = (size_t)L.render_band_rows;
        plan->render_bytes = EI_UP(dec) + resampler_bytes(side, L.max_render_width, L.max_render_height, band) +
                             EI_UP(rw * 3 * 3 + 64) +     /* panel row RGB8 */
                             EI_UP(enc_bytes(rw * 3));
    }
    plan->work_bytes = plan->decode_bytes > plan->render_bytes ? plan->decode_bytes : plan->render_bytes;
    plan->total_bytes = plan->handle_bytes + plan->tensor_bytes + EI_UP(plan->work_bytes);
    /* libjpeg's jpeg_create_* allocations outside the block (measured on
     * libjpeg-turbo 2.1.5 x86_64: see tests/test_image_memory.c). */
    plan->outside_bytes = (L.max_render_width > 0 ? 2u : 1u) * 4096u;
    return EFFCAM_OK;
}

/* ---- EXIF APP1 processor: keeps the first Exif segment's head ---------- */
static int jget(j_decompress_ptr c) {
    struct jpeg_source_mgr *s = c->src;
    if (s->bytes_in_buffer == 0) (*s->fill_input_buffer)(c);
    s->bytes_in_buffer--;
    return *s->next_input_byte++;
}

static boolean app1_proc(j_decompress_ptr c) {
    effcam_image *img = (effcam_image *)c->client_data;
    int hi = jget(c), lo = jget(c);
    long len = ((long)hi << 8 | lo) - 2;
    if (len < 0) len = 0;
    long keep = 0;
    if (!img->exif_seen && len >= 6) {
        keep = len < (long)EI_EXIF_CAP ? len : (long)EI_EXIF_CAP;
        for (long i = 0; i < keep; i++) img->exif[i] = (uint8_t)jget(c);
        if (memcmp(img->exif, "Exif\0\0", 6) == 0) { img->exif_seen = 1; img->exif_len = (size_t)keep; }
    }
    if (len - keep > 0) (*c->src->skip_input_data)(c, len - keep);
    return TRUE;
}

static int exif_orientation(const uint8_t *p, size_t n) {
    if (n < 14 || memcmp(p, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *t = p + 6;
    size_t tn = n - 6;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 1;
#define RD16(q) (le ? (uint32_t)((q)[0] | (q)[1] << 8) : (uint32_t)((q)[0] << 8 | (q)[1]))
#define RD32(q) (le ? ((uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 | (uint32_t)(q)[2] << 16 | (uint32_t)(q)[3] << 24) \
                    : ((uint32_t)(q)[0] << 24 | (uint32_t)(q)[1] << 16 | (uint32_t)(q)[2] << 8 | (uint32_t)(q)[3]))
    if (RD16(t + 2) != 42) return 1;
    uint32_t off = RD32(t + 4);
    if (off > tn || tn - off < 2) return 1;
    uint32_t cnt = RD16(t + off);
    for (uint32_t i = 0; i < cnt; i++) {
        size_t e = (size_t)off + 2 + (size_t)i * 12;
        if (e + 12 > tn) break;
        if (RD16(t + e) == 0x0112 && RD16(t + e + 2) == 3) {
            uint32_t v = RD16(t + e + 8);
            return (v >= 1 && v <= 8) ? (int)v : 1;
        }
    }
    return 1;
#undef RD16
#undef RD32
}

/* ---- handle -------------------------------------------------------------- */
/* libjpeg objects: jpeg_create_* allocates its own manager (outside the
 * block, once), then ours takes over. */
static int create_codecs(effcam_image *img, uint8_t *dperm, uint8_t *cperm) {
    ei_jerr_setup(&img->djerr);
    img->djerr.target = &img->jb;
    img->dj.err = &img->djerr.pub;
    if (setjmp(img->jb)) {
        if (img->dj_ok) jpeg_destroy_decompress(&img->dj);
        img->dj_ok = 0;
        return -1;
    }
    jpeg_create_decompress(&img->dj);
    img->dj.client_data = img;
    ei_jmem_install((j_common_ptr)&img->dj, img->djmem, dperm, EI_JPERM_BYTES);
    jpeg_set_marker_processor(&img->dj, JPEG_APP0 + 1, app1_proc);
    img->dj_ok = 1;
    if (img->plan.render_bytes) {
        ei_jerr_setup(&img->cjerr);
        img->cjerr.target = &img->jb;
        img->cj.err = &img->cjerr.pub;
        jpeg_create_compress(&img->cj);
        img->cj.client_data = img;
        ei_jmem_install((j_common_ptr)&img->cj, img->cjmem, cperm, EI_JPERM_BYTES);
        img->cj_ok = 1;
    }
    return 0;
}

effcam_status effcam_image_init(const effcam_image_limits *limits, void *mem, size_t mem_bytes,
                                effcam_image **out, effcam_error *err) {
    if (!out) return ec_fail(err, EFFCAM_E_ARG, "img is NULL");
    *out = NULL;
    effcam_image_plan plan;
    effcam_status st = effcam_image_plan_bytes(limits, &plan);
    if (st) return ec_fail(err, st, "image limits out of range");
    void *heap = NULL;
    if (!mem) {
        heap = mem = aligned_alloc(EI_ALIGN, EI_UP(plan.total_bytes));
        if (!mem) return ec_fail(err, EFFCAM_E_NOMEM, "could not allocate %zu bytes", plan.total_bytes);
        mem_bytes = EI_UP(plan.total_bytes);
    } else {
        if (((uintptr_t)mem & (EI_ALIGN - 1)) != 0) return ec_fail(err, EFFCAM_E_ARG, "memory must be 64-byte aligned");
        if (mem_bytes < plan.total_bytes)
            return ec_fail(err, EFFCAM_E_BUFFER_SMALL, "image block holds %zu bytes, plan needs %zu", mem_bytes,
                           plan.total_bytes);
    }
    uint8_t *b = mem;
    effcam_image *img = (effcam_image *)b;
    memset(img, 0, sizeof *img);
    img->plan = plan;
    img->block = b; img->block_bytes = mem_bytes; img->heap = heap;
    size_t o = EI_UP(sizeof(effcam_image));
    img->djmem = (ei_jmem *)(b + o); o += EI_UP(ei_jmem_sizeof());
    img->cjmem = (ei_jmem *)(b + o); o += EI_UP(ei_jmem_sizeof());
    uint8_t *dperm = b + o; o += EI_UP(EI_JPERM_BYTES);
    uint8_t *cperm = b + o; o += EI_UP(EI_JPERM_BYTES);
    img->srcbuf = b + o; o += EI_UP(EI_SRC_BUF);
    img->exif = b + o; o += EI_UP(EI_EXIF_CAP);
    img->tensor = (float *)(b + o); o += plan.tensor_bytes;
    img->work = b + o; img->work_off = o; img->work_bytes = EI_UP(plan.work_bytes);
    img->high = o;
    img->high_all = o;

    if (create_codecs(img, dperm, cperm) != 0) {
        if (heap) free(heap);
        return ec_fail(err, EFFCAM_E_NOMEM, "libjpeg initialisation failed");
    }
    *out = img;
    ec_ok(err);
    return EFFCAM_OK;
}

void effcam_image_free(effcam_image *img) {
    if (!img) return;
    if (img->dj_ok) jpeg_destroy_decompress(&img->dj);
    if (img->cj_ok) jpeg_destroy_compress(&img->cj);
    img->dj_ok = img->cj_ok = 0;
    if (img->heap) free(img->heap);
}

size_t effcam_image_high_water(const effcam_image *img) {
    if (!img) return 0;
    return img->high > img->high_all ? img->high : img->high_all;
}

/* Starts a request: its high-water restarts at the fixed part. */
static void req_begin(effcam_image *img) {
    if (img->high > img->high_all) img->high_all = img->high;
    img->high = img->work_off;
}

const float *effcam_image_tensor(const effcam_image *img, int *height, int *width) {
    if (!img || !img->have_tensor) return NULL;
    if (height) *height = img->t_h;
    if (width) *width = img->t_w;
    return img->tensor;
}

/* ---- reader: JPEG / PNG rows -------------------------------------------- */
typedef struct ei_reader {
    effcam_image *img;
    ei_src *src;
    ei_arena *arena;
    effcam_image_format fmt;
    int w, h;      /* stored */
    int ow, oh;    /* decoded (after DCT scale) */
    int orientation, comps, depth, progressive, interlaced, cmyk, inverted;
    int dct;
    uint8_t bg[3];
    /* PNG */
    png_structp png;
    png_infop pinfo;
    int pass, pass_row, pass_rows;
    uint8_t *raw; /* decoder output row */
    uint8_t *rgb; /* full-width RGB row */
    int row_y;
    int started;
    int crop_lo, crop_hi; /* requested decoded columns (JPEG), 0,0 = all */
    int x0, cw;           /* rows hold decoded columns [x0, x0 + cw) */
} ei_reader;

static effcam_image_format sniff(const uint8_t *p, size_t n) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return EFFCAM_IMAGE_JPEG;
    if (n >= 8 && memcmp(p, "\x89PNG\r\n\x1a\n", 8) == 0) return EFFCAM_IMAGE_PNG;
    return EFFCAM_IMAGE_AUTO;
}

static png_voidp png_arena_malloc(png_structp png, png_alloc_size_t n) {
    ei_arena *a = (ei_arena *)png_get_mem_ptr(png);
    return ei_arena_alloc(a, (size_t)n);
}
static void png_arena_free(png_structp png, png_voidp p) { (void)png; (void)p; }
static void png_err(png_structp png, png_const_charp msg) {
    effcam_image *img = (effcam_image *)png_get_error_ptr(png);
    snprintf(img->msg, sizeof img->msg, "%s", msg ? msg : "libpng error");
    longjmp(img->jb, 1);
}
static void png_warn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }
static void png_readfn(png_structp png, png_bytep d, size_t n) {
    ei_src *s = (ei_src *)png_get_io_ptr(png);
    if (ei_src_read(s, d, n) != n) png_error(png, "truncated PNG data");
}

/* Opens and reads the header. Called under the handle's setjmp. */
static effcam_status reader_open(ei_reader *r, const effcam_image_limits *L, unsigned no_orient,
                                 effcam_error *err) {
    effcam_image *img = r->img;
    uint8_t head[33];
    if (ei_src_rewind(r->src) != 0) return ec_fail(err, EFFCAM_E_IO, "cannot rewind the image file");
    size_t n = ei_src_read(r->src, head, sizeof head);
    if (r->src->failed) return ec_fail(err, EFFCAM_E_IO, "read error");
    r->fmt = sniff(head, n);
    if (r->fmt == EFFCAM_IMAGE_PNG) {
        /* Limits from IHDR before libpng allocates anything. */
        if (n < sizeof head || memcmp(head + 12, "IHDR", 4) != 0)
            return ec_fail(err, EFFCAM_E_IMAGE, "PNG without a complete IHDR");
        uint32_t pw = (uint32_t)head[16] << 24 | (uint32_t)head[17] << 16 | (uint32_t)head[18] << 8 | head[19];
        uint32_t ph = (uint32_t)head[20] << 24 | (uint32_t)head[21] << 16 | (uint32_t)head[22] << 8 | head[23];
        if (pw == 0 || ph == 0) return ec_fail(err, EFFCAM_E_IMAGE, "empty PNG");
        if (pw > (uint32_t)L->max_width || ph > (uint32_t)L->max_height)
            return ec_fail(err, EFFCAM_E_DIMS, "PNG %ux%u exceeds the side limits %dx%d", pw, ph, L->max_width,
                           L->max_height);
        if ((uint64_t)pw * ph > L->max_pixels)
            return ec_fail(err, EFFCAM_E_DIMS, "PNG %ux%u = %llu pixels exceeds the limit %llu (decompression bomb?)",
                           pw, ph, (unsigned long long)pw * ph, (unsigned long long)L->max_pixels);
    }
    if (r->fmt == EFFCAM_IMAGE_PNG) {
        static const int nch[7] = {1, 0, 3, 1, 2, 0, 4};
        r->w = (int)(head[16] << 24 | head[17] << 16 | head[18] << 8 | head[19]);
        r->h = (int)(head[20] << 24 | head[21] << 16 | head[22] << 8 | head[23]);
        r->depth = head[24];
        r->comps = head[25] < 7 ? nch[head[25]] : 0;
        r->interlaced = head[28] != 0;
    }
    if (ei_src_rewind(r->src) != 0) return ec_fail(err, EFFCAM_E_IO, "cannot rewind the image file");
    r->orientation = 1;
    if (r->fmt == EFFCAM_IMAGE_JPEG) {
        j_decompress_ptr c = &img->dj;
        ei_jmem_set_image_arena((j_common_ptr)c, r->arena);
        c->src = ei_jsrc_init(r->arena, r->src);
        if (!c->src) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (jpeg source)");
        img->exif_seen = 0; img->exif_len = 0;
        c->err->num_warnings = 0;
        jpeg_read_header(c, TRUE);
        r->w = (int)c->image_width; r->h = (int)c->image_height;
        r->comps = c->num_components; r->depth = 8;
        r->progressive = c->progressive_mode ? 1 : 0;
        r->cmyk = (c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK);
        r->inverted = c->saw_Adobe_marker;
        if (!no_orient && img->exif_seen) r->orientation = exif_orientation(img->exif, img->exif_len);
    } else if (r->fmt == EFFCAM_IMAGE_PNG) {
        r->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, img, png_err, png_warn, r->arena,
                                          png_arena_malloc, png_arena_free);
        if (!r->png) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (png_struct)");
        r->pinfo = png_create_info_struct(r->png);
        if (!r->pinfo) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (png_info)");
        png_set_read_fn(r->png, r->src, png_readfn);
        png_set_user_limits(r->png, (png_uint_32)L->max_width, (png_uint_32)L->max_height);
        png_set_chunk_cache_max(r->png, 64);
        png_set_chunk_malloc_max(r->png, 64 * 1024);
        png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, NULL, 0);
        static const png_byte ignore[] = "bKGD\0cHRM\0eXIf\0gAMA\0hIST\0iCCP\0iTXt\0oFFs\0pCAL\0pHYs\0"
                                         "sBIT\0sCAL\0sPLT\0sRGB\0tEXt\0tIME\0zTXt";
        png_set_keep_unknown_chunks(r->png, PNG_HANDLE_CHUNK_NEVER, ignore, (int)(sizeof ignore / 5));
        png_read_info(r->png, r->pinfo);
        r->w = (int)png_get_image_width(r->png, r->pinfo);
        r->h = (int)png_get_image_height(r->png, r->pinfo);
        r->depth = png_get_bit_depth(r->png, r->pinfo);
        r->comps = png_get_channels(r->png, r->pinfo);
        r->interlaced = png_get_interlace_type(r->png, r->pinfo) != PNG_INTERLACE_NONE;
    } else {
        return ec_fail(err, EFFCAM_E_IMAGE, "not a JPEG or PNG file");
    }
    if (r->w <= 0 || r->h <= 0) return ec_fail(err, EFFCAM_E_IMAGE, "empty image");
    if (r->w > L->max_width || r->h > L->max_height)
        return ec_fail(err, EFFCAM_E_DIMS, "image %dx%d exceeds the side limits %dx%d", r->w, r->h, L->max_width,
                       L->max_height);
    if ((uint64_t)r->w * (uint64_t)r->h > L->max_pixels)
        return ec_fail(err, EFFCAM_E_DIMS, "image %dx%d = %llu pixels exceeds the limit %llu (decompression bomb?)",
                       r->w, r->h, (unsigned long long)r->w * (unsigned long long)r->h,
                       (unsigned long long)L->max_pixels);
    return EFFCAM_OK;
}

/* Exact bytes libjpeg's progressive coefficient buffers will take. */
static size_t jpeg_coef_need(j_decompress_ptr c) {
    size_t need = 0;
    for (int i = 0; i < c->num_components; i++) {
        jpeg_component_info *ci = &c->comp_info[i];
        size_t bw = ((size_t)ci->width_in_blocks + (size_t)ci->h_samp_factor - 1) / (size_t)ci->h_samp_factor *
                    (size_t)ci->h_samp_factor;
        size_t bh = ((size_t)ci->height_in_blocks + (size_t)ci->v_samp_factor - 1) / (size_t)ci->v_samp_factor *
                    (size_t)ci->v_samp_factor;
        need += EI_UP(bh * sizeof(JBLOCKROW)) + EI_UP(bw * sizeof(JBLOCK)) * bh + 2 * EI_ALIGN;
    }
    return need;
}

static effcam_status reader_start(ei_reader *r, int dct, effcam_error *err) {
    effcam_image *img = r->img;
    if (r->fmt == EFFCAM_IMAGE_JPEG) {
        j_decompress_ptr c = &img->dj;
        if (r->progressive) {
            size_t need = jpeg_coef_need(c), have = img->plan.jpeg_coef_bytes;
            if (need > have)
                return ec_fail(err, EFFCAM_E_DIMS,
                               "progressive JPEG %dx%d needs %zu bytes of coefficient buffers; the plan allows %zu "
                               "(limits.max_progressive_pixels)", r->w, r->h, need, have);
        }
        c->scale_num = (unsigned)dct;
        c->scale_denom = 8;
        c->out_color_space = r->cmyk ? JCS_CMYK : JCS_RGB;
        c->dct_method = JDCT_ISLOW;
        c->buffered_image = FALSE;
        jpeg_start_decompress(c);
        r->ow = (int)c->output_width; r->oh = (int)c->output_height;
        r->x0 = 0; r->cw = r->ow;
        if (r->crop_hi > r->crop_lo && (r->crop_lo > 0 || r->crop_hi < r->ow)) {
            /* Only these columns: libjpeg-turbo widens to iMCU edges and
             * skips the IDCT / upsampling / colour conversion elsewhere. */
            /* One iMCU of margin each side: at a crop edge the fancy
             * (triangle) chroma upsampling lacks its neighbour and the edge
             * pixels would differ from a full decode. */
            int mg = c->max_h_samp_factor * (int)c->min_DCT_scaled_size;
            int clo = r->crop_lo - mg < 0 ? 0 : r->crop_lo - mg;
            int chi = r->crop_hi + mg > r->ow ? r->ow : r->crop_hi + mg;
            JDIMENSION xo = (JDIMENSION)clo, wd = (JDIMENSION)(chi - clo);
            jpeg_crop_scanline(c, &xo, &wd);
            r->x0 = (int)xo; r->cw = (int)wd;
        }
        r->raw = ei_arena_alloc(r->arena, (size_t)r->ow * 4 + 64);
    } else {
        png_structp p = r->png;
        png_set_expand(p);
        png_set_scale_16(p);
        png_set_gray_to_rgb(p);
        png_set_add_alpha(p, 0xFF, PNG_FILLER_AFTER);
        png_read_update_info(p, r->pinfo);
        if (png_get_rowbytes(p, r->pinfo) != (size_t)r->w * 4)
            return ec_fail(err, EFFCAM_E_IMAGE, "unexpected PNG row format");
        r->ow = r->w; r->oh = r->h;
        r->x0 = 0; r->cw = r->ow;
        r->raw = ei_arena_alloc(r->arena, (size_t)r->ow * 4 + 64);
        r->pass = 0; r->pass_row = 0;
        r->pass_rows = r->interlaced ? (int)PNG_PASS_ROWS((png_uint_32)r->h, 0) : r->h;
    }
    r->rgb = ei_arena_alloc(r->arena, (size_t)r->ow * 3 + 64);
    if (!r->raw || !r->rgb) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (row buffers)");
    r->dct = dct;
    r->row_y = 0;
    r->started = 1;
    return EFFCAM_OK;
}

static inline uint8_t comp_over(unsigned c, unsigned a, unsigned bg) {
    return (uint8_t)((c * a + bg * (255u - a) + 127u) / 255u);
}

/* Next row into r->rgb. Returns the stored row index, or -1 at the end.
 * *sparse is set for interlaced passes (pixels not in the pass are 0). */
static int reader_next(ei_reader *r) {
    effcam_image *img = r->img;
    if (r->fmt == EFFCAM_IMAGE_JPEG) {
        j_decompress_ptr c = &img->dj;
        if (c->output_scanline >= c->output_height) return -1;
        int y = (int)c->output_scanline;
        JSAMPROW row = r->cmyk ? r->raw : r->rgb;
        jpeg_read_scanlines(c, &row, 1);
        if (r->cmyk) {
            /* Adobe CMYK/YCCK is stored inverted: R = C'K'/255 (C' = 255 - C). */
            for (int x = 0; x < r->cw; x++) {
                unsigned cc = r->raw[4 * x], m = r->raw[4 * x + 1], yy = r->raw[4 * x + 2], k = r->raw[4 * x + 3];
                if (!r->inverted) { cc = 255 - cc; m = 255 - m; yy = 255 - yy; k = 255 - k; }
                r->rgb[3 * x] = (uint8_t)((cc * k + 127) / 255);
                r->rgb[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                r->rgb[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
            }
        }
        return y;
    }
    png_structp p = r->png;
    if (!r->interlaced) {
        if (r->row_y >= r->h) return -1;
        png_read_row(p, r->raw, NULL);
        for (int x = 0; x < r->w; x++) {
            unsigned a = r->raw[4 * x + 3];
            for (int k = 0; k < 3; k++) r->rgb[3 * x + k] = comp_over(r->raw[4 * x + k], a, r->bg[k]);
        }
        return r->row_y++;
    }
    while (r->pass < 7 && (r->pass_row >= r->pass_rows || PNG_PASS_COLS((png_uint_32)r->w, r->pass) == 0)) {
        r->pass++;
        r->pass_row = 0;
        if (r->pass < 7) r->pass_rows = (int)PNG_PASS_ROWS((png_uint_32)r->h, r->pass);
    }
    if (r->pass >= 7) return -1;
    png_read_row(p, r->raw, NULL);
    int pw = (int)PNG_PASS_COLS((png_uint_32)r->w, r->pass);
    memset(r->rgb, 0, (size_t)r->w * 3);
    for (int i = 0; i < pw; i++) {
        int x = (int)PNG_COL_FROM_PASS_COL((png_uint_32)i, r->pass);
        unsigned a = r->raw[4 * i + 3];
        for (int k = 0; k < 3; k++) r->rgb[3 * x + k] = comp_over(r->raw[4 * i + k], a, r->bg[k]);
    }
    int y = (int)PNG_ROW_FROM_PASS_ROW((png_uint_32)r->pass_row, r->pass);
    r->pass_row++;
    return y;
}

static void reader_close(ei_reader *r) {
    if (r->fmt == EFFCAM_IMAGE_JPEG) {
        jpeg_abort_decompress(&r->img->dj);
        ei_jmem_set_image_arena((j_common_ptr)&r->img->dj, NULL);
    } else if (r->png) {
        png_destroy_read_struct(&r->png, &r->pinfo, NULL);
    }
    r->png = NULL; r->pinfo = NULL;
}

/* ---- geometry -------------------------------------------------------------- */
typedef struct ei_geom { int Sx, Sy, offx, offy; } ei_geom;

static int py_round_half_even_div2(int d) { /* round(d / 2.0) as Python does */
    if (d >= 0) { int q = d / 2; if (d % 2 == 0) return q; return (q % 2 == 0) ? q : q + 1; }
    int q = -((-d) / 2); if ((-d) % 2 == 0) return q; return (q % 2 == 0) ? q : q - 1;
}

static effcam_status geometry(int W, int H, int ow, int oh, const effcam_decode_opts *o, ei_geom *g,
                              effcam_error *err) {
    memset(g, 0, sizeof *g);
    if (o->policy == EFFCAM_RESIZE_STRETCH) { g->Sx = ow; g->Sy = oh; return EFFCAM_OK; }
    if (o->policy == EFFCAM_RESIZE_CROP) {
        int num = o->crop_num, den = o->crop_den;
        if (num <= 0 || den <= 0) { num = 224; den = 256; }
        if (den > 2 * num || num > 2 * den) return ec_fail(err, EFFCAM_E_ARG, "crop ratio %d/%d out of range", num, den);
        int side = ow < oh ? ow : oh;
        long R = (long)side * den / num; /* torchvision: int(size / crop_pct) */
        if (R < 1) R = 1;
        long nw, nh;
        if (W <= H) { nw = R; nh = (long)((double)R * H / W); }
        else { nh = R; nw = (long)((double)R * W / H); }
        if (nw < 1) nw = 1;
        if (nh < 1) nh = 1;
        if (nw > 2L * ow + 2 && nw > (long)W * 2) nw = nw; /* no-op: bounded below */
        g->Sx = (int)(nw > INT_MAX / 4 ? INT_MAX / 4 : nw);
        g->Sy = (int)(nh > INT_MAX / 4 ? INT_MAX / 4 : nh);
        g->offx = py_round_half_even_div2(g->Sx - ow);
        g->offy = py_round_half_even_div2(g->Sy - oh);
        return EFFCAM_OK;
    }
    if (o->policy == EFFCAM_RESIZE_LETTERBOX) {
        double s = fmin((double)ow / W, (double)oh / H);
        int sx = (int)lround(W * s), sy = (int)lround(H * s);
        if (sx < 1) sx = 1;
        if (sy < 1) sy = 1;
        if (sx > ow) sx = ow;
        if (sy > oh) sy = oh;
        g->Sx = sx; g->Sy = sy;
        g->offx = -((ow - sx) / 2);
        g->offy = -((oh - sy) / 2);
        return EFFCAM_OK;
    }
    return ec_fail(err, EFFCAM_E_ARG, "unknown resize policy %d", (int)o->policy);
}

/* ---- streaming resampler ------------------------------------------------------ */
typedef void (*ei_emit_fn)(void *ctx, int i, float *row);

typedef struct ei_rs {
    ei_axis X, Y;
    int ow, oh;
    float *acc;     /* cap rows x ow x 3 */
    int cap, lo;    /* rows [lo, lo + cap) live */
    int streaming;
    int ident;      /* render at the display size: rows copied as RGB8 (acc8) */
    uint8_t *acc8;
    float *tmp;
    ei_emit_fn emit;
    void *ectx;
} ei_rs;

static void axis_range(const ei_axis *a, int p, int *t0, int *t1) {
    /* tensor positions whose window contains source position p: [t0, t1] */
    *t0 = 1; *t1 = 0;
    if (a->first_valid < 0) return;
    int lo = a->first_valid, hi = a->last_valid + 1;
    while (lo < hi) { int m = (lo + hi) / 2; if (a->start[m] + a->len[m] <= p) lo = m + 1; else hi = m; }
    int first = lo;
    lo = a->first_valid; hi = a->last_valid + 1;
    while (lo < hi) { int m = (lo + hi) / 2; if (a->start[m] <= p) lo = m + 1; else hi = m; }
    *t0 = first; *t1 = lo - 1;
}

static inline float *acc_row(ei_rs *s, int i) {
    if (i < s->lo || i >= s->lo + s->cap) return NULL;
    return s->acc + (size_t)(i % s->cap) * (size_t)s->ow * 3;
}

static void rs_evict_to(ei_rs *s, int upto) {
    if (s->ident) {
        while (s->lo < upto && s->lo < s->oh) {
            const uint8_t *q = s->acc8 + (size_t)(s->lo % s->cap) * (size_t)s->ow * 3;
            for (size_t k = 0; k < (size_t)s->ow * 3; k++) s->tmp[k] = q[k];
            s->emit(s->ectx, s->lo, s->tmp);
            s->lo++;
        }
        return;
    }
    while (s->lo < upto && s->lo < s->oh) {
        float *row = s->acc + (size_t)(s->lo % s->cap) * (size_t)s->ow * 3;
        s->emit(s->ectx, s->lo, row);
        memset(row, 0, (size_t)s->ow * 3 * sizeof(float));
        s->lo++;
    }
}

/* Along-axis filter of one line: px(k) = line[(flip ? n-1-k : k) * 3 + ch]. */
/* line holds positions [x0, ...) of an n-long line. */
static void along(const ei_axis *a, const uint8_t *line, int n, int x0, int flip, int t0, int t1, float *out) {
    for (int t = t0; t <= t1; t++) {
        float r = 0, g = 0, b = 0;
        int len = a->len[t];
        const float *w = a->coef + a->coff[t];
        int st = a->start[t];
        if (!flip) {
            const uint8_t *p = line + (size_t)(st - x0) * 3;
            for (int k = 0; k < len; k++, p += 3) { r += w[k] * p[0]; g += w[k] * p[1]; b += w[k] * p[2]; }
        } else {
            const uint8_t *p = line + (size_t)(n - 1 - st - x0) * 3;
            for (int k = 0; k < len; k++, p -= 3) { r += w[k] * p[0]; g += w[k] * p[1]; b += w[k] * p[2]; }
        }
        out[3 * t] = r; out[3 * t + 1] = g; out[3 * t + 2] = b;
    }
}

/* Feeds one stored row y (RGB line of n pixels) under orientation o. */
static int rs_feed(ei_rs *s, const uint8_t *line, int n, int x0, int y, int sh, int o) {
    int transposed = o >= 5;
    if (s->ident) {
        /* display size == decoded size: place the pixels (exact, no filter) */
        if (!transposed) {
            int r = (o == 3 || o == 4) ? sh - 1 - y : y;
            int flip = (o == 2 || o == 3);
            if (s->streaming) rs_evict_to(s, r);
            if (r < s->lo || r >= s->lo + s->cap) return s->streaming ? -1 : 0;
            uint8_t *d = s->acc8 + (size_t)(r % s->cap) * (size_t)s->ow * 3;
            if (!flip) memcpy(d, line, (size_t)n * 3);
            else for (int x = 0; x < n; x++) memcpy(d + 3 * x, line + 3 * (n - 1 - x), 3);
        } else {
            int c = (o == 6 || o == 7) ? sh - 1 - y : y;
            int flip = (o == 7 || o == 8);
            int hi = s->lo + s->cap < s->oh ? s->lo + s->cap : s->oh;
            for (int r = s->lo; r < hi; r++) {
                int x = (flip ? n - 1 - r : r) - x0;
                memcpy(s->acc8 + (size_t)(r % s->cap) * (size_t)s->ow * 3 + 3 * (size_t)c, line + 3 * (size_t)x, 3);
            }
        }
        return 0;
    }
    if (!transposed) {
        int r = (o == 3 || o == 4) ? sh - 1 - y : y;
        int flip = (o == 2 || o == 3);
        int i0, i1;
        axis_range(&s->Y, r, &i0, &i1);
        if (i0 > i1) return 0;
        if (s->streaming) {
            rs_evict_to(s, i0);
            if (i1 >= s->lo + s->cap) return -1; /* ring too small: cannot happen when planned */
        }
        if (s->X.first_valid < 0) return 0;
        along(&s->X, line, n, x0, flip, s->X.first_valid, s->X.last_valid, s->tmp);
        for (int i = i0; i <= i1; i++) {
            float *ar = acc_row(s, i);
            if (!ar) continue;
            float w = s->Y.coef[s->Y.coff[i] + (r - s->Y.start[i])];
            for (int j = s->X.first_valid; j <= s->X.last_valid; j++) {
                ar[3 * j] += w * s->tmp[3 * j];
                ar[3 * j + 1] += w * s->tmp[3 * j + 1];
                ar[3 * j + 2] += w * s->tmp[3 * j + 2];
            }
        }
    } else {
        int c = (o == 6 || o == 7) ? sh - 1 - y : y;
        int flip = (o == 7 || o == 8);
        int j0, j1;
        axis_range(&s->X, c, &j0, &j1);
        if (j0 > j1 || s->Y.first_valid < 0) return 0;
        int i0 = s->Y.first_valid > s->lo ? s->Y.first_valid : s->lo;
        int i1 = s->Y.last_valid < s->lo + s->cap - 1 ? s->Y.last_valid : s->lo + s->cap - 1;
        if (i0 > i1) return 0;
        along(&s->Y, line, n, x0, flip, i0, i1, s->tmp);
        for (int i = i0; i <= i1; i++) {
            float *ar = acc_row(s, i);
            for (int j = j0; j <= j1; j++) {
                float w = s->X.coef[s->X.coff[j] + (c - s->X.start[j])];
                ar[3 * j] += w * s->tmp[3 * i];
                ar[3 * j + 1] += w * s->tmp[3 * i + 1];
                ar[3 * j + 2] += w * s->tmp[3 * i + 2];
            }
        }
    }
    return 0;
}

/* Last stored row a band [lo, lo+cap) needs, for non-transposed, non-vflip. */
static int rs_last_row_needed(const ei_rs *s) {
    if (s->ident) return s->lo + s->cap - 1;
    int last = s->lo + s->cap - 1;
    if (last > s->Y.last_valid) last = s->Y.last_valid;
    if (last < 0 || last < s->Y.first_valid) return -1;
    return s->Y.start[last] + s->Y.len[last] - 1;
}

/* ---- shared request driver ------------------------------------------------------ */
typedef struct ei_req {
    effcam_image *img;
    ei_src src;
    ei_arena work;
    ei_arena codec; /* decoder region (reset per pass) */
    size_t codec_mark;
    ei_reader rd;
    effcam_image_info *info;
} ei_req;

static int choose_dct(int W, int H, int Sx, int Sy, int ratio) {
    /* Largest denominator d in {8,4,2,1} with W >= d*ratio*Sx and H >= d*ratio*Sy
     * (the rule of Pillow's JpegImageFile.draft for requested size ratio*S). */
    if (ratio <= 0) ratio = 2;
    for (int d = 8; d >= 2; d /= 2)
        if ((long)W >= (long)d * ratio * Sx && (long)H >= (long)d * ratio * Sy) return 8 / d;
    return 8;
}

static void fill_info(const ei_reader *r, effcam_image_info *info) {
    if (!info) return;
    info->format = r->fmt;
    info->width = r->w; info->height = r->h;
    info->orientation = r->orientation;
    int tr = r->orientation >= 5;
    info->display_width = tr ? r->h : r->w;
    info->display_height = tr ? r->w : r->h;
    info->components = r->comps;
    info->bit_depth = r->depth;
    info->progressive = r->progressive;
    info->interlaced = r->interlaced;
    info->dct_scale = r->dct ? r->dct : 8;
}

static effcam_status open_file_src(ei_src *s, effcam_image *img, const char *path, effcam_error *err) {
    memset(s, 0, sizeof *s);
    s->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (s->fd < 0) return ec_fail(err, EFFCAM_E_IO, "cannot open %s", path);
    s->buf = img->srcbuf; s->buf_size = EI_SRC_BUF;
    return EFFCAM_OK;
}
static void mem_src(ei_src *s, effcam_image *img, const void *data, size_t bytes) {
    memset(s, 0, sizeof *s);
    s->fd = -1; s->mem = data; s->mem_bytes = bytes;
    s->buf = img->srcbuf; s->buf_size = EI_SRC_BUF;
}

/* ---- probe ----------------------------------------------------------------------- */
static effcam_status do_probe(effcam_image *img, ei_src *src, effcam_image_info *info, effcam_error *err) {
    ei_req q;
    memset(&q, 0, sizeof q);
    req_begin(img);
    ei_arena_init(&q.work, img->work, img->work_bytes, img->work_off, &img->high);
    q.rd.img = img; q.rd.src = src; q.rd.arena = &q.work;
    volatile effcam_status st = EFFCAM_OK;
    img->djerr.target = &img->jb;
    if (setjmp(img->jb)) {
        ei_reader *r = &q.rd;
        j_decompress_ptr c = &img->dj;
        if (r->fmt == EFFCAM_IMAGE_JPEG && c->image_width > 0 && c->image_height > 0 && c->num_components > 0) {
            /* The data ended (e.g. only the file's head was given) after
             * the frame header: the header facts are known. */
            const effcam_image_limits *L = &img->plan.limits;
            r->w = (int)c->image_width; r->h = (int)c->image_height;
            r->comps = c->num_components; r->depth = 8;
            r->progressive = c->progressive_mode ? 1 : 0;
            if (img->exif_seen) r->orientation = exif_orientation(img->exif, img->exif_len);
            st = EFFCAM_OK;
            if (r->w > L->max_width || r->h > L->max_height ||
                (uint64_t)r->w * (uint64_t)r->h > L->max_pixels)
                st = ec_fail(err, EFFCAM_E_DIMS, "image %dx%d exceeds the limits", r->w, r->h);
            if (info) { memset(info, 0, sizeof *info); fill_info(r, info); info->high_water = img->high; }
            reader_close(r);
            if (st == EFFCAM_OK) ec_ok(err);
            return st;
        }
        if (r->fmt == EFFCAM_IMAGE_PNG && r->w > 0 && r->h > 0) {
            /* IHDR was read and checked; the rest of the data is not needed */
            if (info) { memset(info, 0, sizeof *info); fill_info(r, info); info->high_water = img->high; }
            reader_close(r);
            ec_ok(err);
            return EFFCAM_OK;
        }
        st = ec_fail(err, EFFCAM_E_IMAGE, "%s", r->fmt == EFFCAM_IMAGE_JPEG ? img->djerr.msg : img->msg);
        reader_close(r);
        return st;
    }
    img->dj.image_width = 0; img->dj.image_height = 0; img->dj.num_components = 0;
    st = reader_open(&q.rd, &img->plan.limits, 0, err);
    if (info) { memset(info, 0, sizeof *info); fill_info(&q.rd, info); info->high_water = img->high; }
    reader_close(&q.rd);
    if (st == EFFCAM_OK) ec_ok(err);
    return st;
}

effcam_status effcam_image_probe(effcam_image *img, const void *data, size_t bytes, effcam_image_info *info,
                                 effcam_error *err) {
    if (!img || !data) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    mem_src(&s, img, data, bytes);
    return do_probe(img, &s, info, err);
}

effcam_status effcam_image_probe_file(effcam_image *img, const char *path, effcam_image_info *info,
                                      effcam_error *err) {
    if (!img || !path) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    effcam_status st = open_file_src(&s, img, path, err);
    if (st) return st;
    st = do_probe(img, &s, info, err);
    close(s.fd);
    return st;
}

/* ---- decode ------------------------------------------------------------------------ */
typedef struct ei_tensor_emit {
    const ei_rs *rs;
    const uint8_t *bg;
    int round;
} ei_tensor_emit;

static void tensor_emit(void *ctx, int i, float *row) {
    ei_tensor_emit *e = ctx;
    const ei_rs *s = e->rs;
    int rowvalid = s->Y.len[i] > 0;
    for (int j = 0; j < s->ow; j++) {
        float *p = row + 3 * j;
        if (!rowvalid || s->X.len[j] == 0) {
            p[0] = e->bg[0]; p[1] = e->bg[1]; p[2] = e->bg[2];
            continue;
        }
        for (int k = 0; k < 3; k++) {
            float v = p[k];
            if (v < 0.f) v = 0.f;
            if (v > 255.f) v = 255.f;
            if (e->round) v = floorf(v + 0.5f);
            p[k] = v;
        }
    }
}

static effcam_status build_axes(ei_rs *s, ei_arena *a, const ei_reader *r, int ow, int oh, const ei_geom *g,
                                effcam_filter f, effcam_error *err) {
    int tr = r->orientation >= 5;
    int dw = tr ? r->oh : r->ow, dh = tr ? r->ow : r->oh;
    if (ei_axis_build(&s->X, a, ow, dw, g->Sx, g->offx, f) != 0 ||
        ei_axis_build(&s->Y, a, oh, dh, g->Sy, g->offy, f) != 0)
        return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (resize weights)");
    s->ow = ow; s->oh = oh;
    s->tmp = ei_arena_alloc(a, (size_t)(ow > oh ? ow : oh) * 3 * sizeof(float));
    if (!s->tmp) return ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded (resize row)");
    return EFFCAM_OK;
}

static effcam_status do_decode(effcam_image *img, ei_src *src, const effcam_decode_opts *o,
                               effcam_image_info *info, effcam_error *err) {
    const effcam_image_limits *L = &img->plan.limits;
    if (o->out_width <= 0 || o->out_height <= 0 || o->out_width > L->max_out_width ||
        o->out_height > L->max_out_height)
        return ec_fail(err, EFFCAM_E_DIMS, "tensor %dx%d outside the planned %dx%d", o->out_width, o->out_height,
                       L->max_out_width, L->max_out_height);
    if ((unsigned)o->filter > EFFCAM_FILTER_BOX) return ec_fail(err, EFFCAM_E_ARG, "unknown filter");
    img->have_tensor = 0;
    ei_req q;
    memset(&q, 0, sizeof q);
    req_begin(img);
    ei_arena_init(&q.work, img->work, img->work_bytes, img->work_off, &img->high);
    q.rd.img = img; q.rd.src = src; q.rd.arena = &q.work;
    memcpy(q.rd.bg, o->background, 3);
    ei_rs rs;
    memset(&rs, 0, sizeof rs);
    volatile effcam_status st = EFFCAM_OK;
    img->djerr.target = &img->jb;
    img->msg[0] = 0;
    img->djerr.msg[0] = 0;
    src->eof_hit = 0;
    if (setjmp(img->jb)) {
        st = ec_fail(err, EFFCAM_E_IMAGE, "%s",
                     q.rd.fmt == EFFCAM_IMAGE_JPEG ? img->djerr.msg : (img->msg[0] ? img->msg : "libpng error"));
        if (strstr(img->djerr.msg, "Insufficient memory") || strstr(img->msg, "memory")) st = ec_fail(err, EFFCAM_E_NOMEM, "plan exceeded inside the codec: %s", q.rd.fmt == EFFCAM_IMAGE_JPEG ? img->djerr.msg : img->msg);
        reader_close(&q.rd);
        if (info) { fill_info(&q.rd, info); info->high_water = img->high; }
        return st;
    }
    st = reader_open(&q.rd, L, o->flags & EFFCAM_IMG_NO_ORIENT, err);
    if (st) { reader_close(&q.rd); return st; }
    ei_reader *r = &q.rd;
    int tr = r->orientation >= 5;
    int W = tr ? r->h : r->w, H = tr ? r->w : r->h;
    ei_geom g;
    st = geometry(W, H, o->out_width, o->out_height, o, &g, err);
    if (st) { reader_close(r); return st; }
    int dct = 8;
    if (r->fmt == EFFCAM_IMAGE_JPEG && !(o->flags & EFFCAM_IMG_NO_DCT) && o->filter != EFFCAM_FILTER_NEAREST)
        dct = choose_dct(W, H, g.Sx, g.Sy, o->dct_min_ratio);
    st = reader_start(r, dct, err);
    if (st) { reader_close(r); return st; }
    /* Resampler after the codec's buffers in the same arena. */
    st = build_axes(&rs, &q.work, r, o->out_width, o->out_height, &g, o->filter, err);
    if (st) { reader_close(r); return st; }
    rs.acc = img->tensor; rs.cap = o->out_height; rs.lo = 0; rs.streaming = 0;
    memset(img->tensor, 0, (size_t)o->out_width * (size_t)o->out_height * 3 * sizeof(float));
    int y;
    while ((y = reader_next(r)) >= 0) rs_feed(&rs, r->rgb, r->ow, r->x0, y, r->oh, r->orientation);
    if (r->fmt == EFFCAM_IMAGE_JPEG) jpeg_finish_decompress(&img->dj);
    else png_read_end(r->png, NULL);
    if (src->eof_hit) {
        /* libjpeg would fill the missing rows with grey: refuse instead */
        reader_close(r);
        return ec_fail(err, EFFCAM_E_IMAGE, "JPEG data is truncated");
    }
    ei_tensor_emit te = {&rs, o->background, !(o->flags & EFFCAM_IMG_NO_ROUND)};
    for (int i = 0; i < o->out_height; i++)
        tensor_emit(&te, i, img->tensor + (size_t)i * (size_t)o->out_width * 3);
    if (info) {
        memset(info, 0, sizeof *info);
        fill_info(r, info);
        info->out_width = o->out_width; info->out_height = o->out_height;
        info->content_x = rs.X.first_valid; info->content_w = rs.X.last_valid - rs.X.first_valid + 1;
        info->content_y = rs.Y.first_valid; info->content_h = rs.Y.last_valid - rs.Y.first_valid + 1;
    }
    reader_close(r);
    if (info) info->high_water = img->high;
    img->t_h = o->out_height; img->t_w = o->out_width; img->have_tensor = 1;
    ec_ok(err);
    return EFFCAM_OK;
}

effcam_status effcam_image_decode_memory(effcam_image *img, const void *data, size_t bytes,
                                         const effcam_decode_opts *opts, effcam_image_info *info,
                                         effcam_error *err) {
    if (!img || !data || !opts) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    mem_src(&s, img, data, bytes);
    return do_decode(img, &s, opts, info, err);
}

effcam_status effcam_image_decode_file(effcam_image *img, const char *path, const effcam_decode_opts *opts,
                                       effcam_image_info *info, effcam_error *err) {
    if (!img || !path || !opts) return ec_fail(err, EFFCAM_E_ARG, "NULL argument");
    ei_src s;
    effcam_status st = open_file_src(&s, img, path, err);
    if (st) return st;
    st = do_decode(img, &s, opts, info, err);
    close(s.fd);
    return st;
}

/* ---- rendering ---------------------------------------------------------------------- */
#include "render_impl.h"
