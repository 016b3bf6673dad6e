/* JPEG / PNG decoding into RGB8 for the CLI (see image_io.h). */
#include "image_io.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#define JPEG_MAX_SCANS 1000 /* progressive scans; more is a decode bomb */

static void set_msg(char *msg, size_t n, const char *fmt, const char *a) {
    if (msg && n) snprintf(msg, n, fmt, a);
}

static effcam_status check_pixels(uint64_t w, uint64_t h, uint64_t max_pixels,
                                  char *msg, size_t msg_bytes) {
    if (w == 0 || h == 0) {
        if (msg && msg_bytes) snprintf(msg, msg_bytes, "image has no pixels");
        return EFFCAM_E_IMAGE;
    }
    if (w > 0x7fffffff || h > 0x7fffffff || w * h > max_pixels) {
        if (msg && msg_bytes)
            snprintf(msg, msg_bytes,
                     "%llux%llu pixels is over the limit of %llu pixels",
                     (unsigned long long)w, (unsigned long long)h,
                     (unsigned long long)max_pixels);
        return EFFCAM_E_DIMS;
    }
    return EFFCAM_OK;
}

/* ---- JPEG ------------------------------------------------------------- */
typedef struct jdec {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    struct jpeg_progress_mgr progress;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX + 32];
    uint8_t *pix, *row;
} jdec;

static void j_error_exit(j_common_ptr c) {
    jdec *d = (jdec *)c->client_data;
    char buf[JMSG_LENGTH_MAX];
    c->err->format_message(c, buf);
    snprintf(d->msg, sizeof d->msg, "%s", buf);
    longjmp(d->jb, 1);
}

static void j_emit_message(j_common_ptr c, int level) {
    if (level >= 0) return; /* trace messages */
    jdec *d = (jdec *)c->client_data;
    if (c->err->msg_code == JWRN_JPEG_EOF) {
        /* libjpeg pads a truncated stream with an EOI and carries on: the
         * bottom of the image would be grey. Refuse it instead. */
        snprintf(d->msg, sizeof d->msg, "truncated JPEG data");
        longjmp(d->jb, 1);
    }
    c->err->num_warnings++; /* other warnings (extraneous bytes...) are OK */
}

static void j_progress(j_common_ptr c) {
    jdec *d = (jdec *)c->client_data;
    if (c->is_decompressor) {
        j_decompress_ptr dc = (j_decompress_ptr)c;
        if (dc->input_scan_number > JPEG_MAX_SCANS) {
            snprintf(d->msg, sizeof d->msg, "more than %d progressive scans",
                     JPEG_MAX_SCANS);
            longjmp(d->jb, 1);
        }
    }
}

static effcam_status decode_jpeg(const uint8_t *data, size_t bytes,
                                 uint64_t max_pixels, cli_image *img,
                                 char *msg, size_t msg_bytes) {
    jdec *d = calloc(1, sizeof *d);
    if (!d) {
        set_msg(msg, msg_bytes, "%s", "out of memory");
        return EFFCAM_E_NOMEM;
    }
    effcam_status st = EFFCAM_E_IMAGE;
    d->cinfo.err = jpeg_std_error(&d->jerr);
    d->jerr.error_exit = j_error_exit;
    d->jerr.emit_message = j_emit_message;
    d->cinfo.client_data = d;
    if (setjmp(d->jb)) {
        set_msg(msg, msg_bytes, "JPEG: %s", d->msg);
        goto done;
    }
    jpeg_create_decompress(&d->cinfo);
    d->cinfo.client_data = d;
    d->progress.progress_monitor = j_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, (unsigned char *)data, (unsigned long)bytes);
    jpeg_read_header(&d->cinfo, TRUE);

    st = check_pixels(d->cinfo.image_width, d->cinfo.image_height, max_pixels,
                      msg, msg_bytes);
    if (st != EFFCAM_OK) goto done;
    st = EFFCAM_E_IMAGE;

    int cmyk = d->cinfo.jpeg_color_space == JCS_CMYK ||
               d->cinfo.jpeg_color_space == JCS_YCCK;
    d->cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&d->cinfo);
    size_t w = d->cinfo.output_width, h = d->cinfo.output_height;
    int comps = d->cinfo.output_components;
    if (comps != (cmyk ? 4 : 3)) {
        set_msg(msg, msg_bytes, "JPEG: %s", "unexpected number of colour components");
        goto done;
    }
    st = check_pixels(w, h, max_pixels, msg, msg_bytes);
    if (st != EFFCAM_OK) goto done;
    d->pix = malloc(3 * w * h);
    if (cmyk) d->row = malloc(4 * w);
    if (!d->pix || (cmyk && !d->row)) {
        st = EFFCAM_E_NOMEM;
        set_msg(msg, msg_bytes, "%s", "out of memory for the decoded image");
        goto done;
    }
    st = EFFCAM_E_IMAGE;
    while (d->cinfo.output_scanline < h) {
        size_t y = d->cinfo.output_scanline;
        uint8_t *dst = d->pix + y * 3 * w;
        JSAMPROW r = cmyk ? d->row : dst;
        if (jpeg_read_scanlines(&d->cinfo, &r, 1) != 1) {
            set_msg(msg, msg_bytes, "JPEG: %s", "no scanline decoded");
            goto done;
        }
        if (cmyk) {
            /* Adobe writes inverted CMYK: 255 = no ink. */
            for (size_t x = 0; x < w; x++) {
                unsigned c = d->row[4 * x], m = d->row[4 * x + 1];
                unsigned yy = d->row[4 * x + 2], k = d->row[4 * x + 3];
                dst[3 * x] = (uint8_t)((c * k + 127) / 255);
                dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
                dst[3 * x + 2] = (uint8_t)((yy * k + 127) / 255);
            }
        }
    }
    jpeg_finish_decompress(&d->cinfo);
    img->rgb = d->pix;
    d->pix = NULL;
    img->width = (int)w;
    img->height = (int)h;
    img->stride = 3 * w;
    img->format = "jpeg";
    st = EFFCAM_OK;
done:
    jpeg_destroy_decompress(&d->cinfo);
    free(d->pix);
    free(d->row);
    free(d);
    return st;
}

/* ---- PNG -------------------------------------------------------------- */
typedef struct pdec {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t bytes, pos;
    char msg[200];
    uint8_t *pix;
    png_bytep *rows;
} pdec;

static void p_error(png_structp png, png_const_charp m) {
    pdec *d = (pdec *)png_get_error_ptr(png);
    snprintf(d->msg, sizeof d->msg, "%s", m ? m : "error");
    png_longjmp(png, 1);
}

static void p_warning(png_structp png, png_const_charp m) {
    (void)png;
    (void)m;
}

static void p_read(png_structp png, png_bytep out, size_t len) {
    pdec *d = (pdec *)png_get_io_ptr(png);
    if (len > d->bytes - d->pos) png_error(png, "truncated PNG data");
    memcpy(out, d->data + d->pos, len);
    d->pos += len;
}

static effcam_status decode_png(const uint8_t *data, size_t bytes,
                                uint64_t max_pixels, cli_image *img, char *msg,
                                size_t msg_bytes) {
    pdec *d = calloc(1, sizeof *d);
    if (!d) {
        set_msg(msg, msg_bytes, "%s", "out of memory");
        return EFFCAM_E_NOMEM;
    }
    effcam_status st = EFFCAM_E_IMAGE;
    d->data = data;
    d->bytes = bytes;
    d->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, d, p_error, p_warning);
    if (d->png) d->info = png_create_info_struct(d->png);
    if (!d->png || !d->info) {
        st = EFFCAM_E_NOMEM;
        set_msg(msg, msg_bytes, "%s", "libpng could not start");
        goto done;
    }
    if (setjmp(png_jmpbuf(d->png))) {
        set_msg(msg, msg_bytes, "PNG: %s", d->msg);
        goto done;
    }
    png_set_read_fn(d->png, d, p_read);
    png_set_user_limits(d->png, 1000000, 1000000);
    png_set_chunk_malloc_max(d->png, 32u << 20);
    png_read_info(d->png, d->info);

    png_uint_32 w = png_get_image_width(d->png, d->info);
    png_uint_32 h = png_get_image_height(d->png, d->info);
    st = check_pixels(w, h, max_pixels, msg, msg_bytes);
    if (st != EFFCAM_OK) goto done;
    st = EFFCAM_E_IMAGE;

    int ct = png_get_color_type(d->png, d->info);
    int depth = png_get_bit_depth(d->png, d->info);
    if (depth == 16) png_set_scale_16(d->png);
    if (ct == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(d->png);
    if (ct == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(d->png);
    if (ct == PNG_COLOR_TYPE_GRAY || ct == PNG_COLOR_TYPE_GRAY_ALPHA)
        png_set_gray_to_rgb(d->png);
    png_set_strip_alpha(d->png); /* like PIL's convert("RGB") */
    png_set_interlace_handling(d->png);
    png_read_update_info(d->png, d->info);
    if (png_get_channels(d->png, d->info) != 3 ||
        png_get_bit_depth(d->png, d->info) != 8 ||
        png_get_rowbytes(d->png, d->info) != 3 * (size_t)w) {
        set_msg(msg, msg_bytes, "PNG: %s", "could not convert to RGB8");
        goto done;
    }
    d->pix = malloc(3 * (size_t)w * h);
    d->rows = malloc(sizeof(png_bytep) * h);
    if (!d->pix || !d->rows) {
        st = EFFCAM_E_NOMEM;
        set_msg(msg, msg_bytes, "%s", "out of memory for the decoded image");
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) d->rows[y] = d->pix + (size_t)y * 3 * w;
    png_read_image(d->png, d->rows);
    /* Trailing chunks (after the image data) are not read: a file cut
     * after its last IDAT still holds the whole image. */
    img->rgb = d->pix;
    d->pix = NULL;
    img->width = (int)w;
    img->height = (int)h;
    img->stride = 3 * (size_t)w;
    img->format = "png";
    st = EFFCAM_OK;
done:
    if (d->png) png_destroy_read_struct(&d->png, d->info ? &d->info : NULL, NULL);
    free(d->pix);
    free(d->rows);
    free(d);
    return st;
}

/* ---- front ------------------------------------------------------------ */
static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

effcam_status cli_image_decode(const uint8_t *data, size_t bytes,
                               uint64_t max_pixels, cli_image *img, char *msg,
                               size_t msg_bytes) {
    if (msg && msg_bytes) msg[0] = '\0';
    if (!img || (!data && bytes)) return EFFCAM_E_ARG;
    memset(img, 0, sizeof *img);
    if (max_pixels == 0) max_pixels = CLI_IMAGE_DEFAULT_MAX_PIXELS;
    if (bytes >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, bytes, max_pixels, img, msg, msg_bytes);
    if (bytes >= 8 && memcmp(data, png_sig, 8) == 0)
        return decode_png(data, bytes, max_pixels, img, msg, msg_bytes);
    const char *what = "not a JPEG or PNG file";
    if (bytes == 0) what = "empty file";
    else if (bytes >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0))
        what = "GIF is not supported (JPEG or PNG only)";
    else if (bytes >= 2 && data[0] == 'B' && data[1] == 'M')
        what = "BMP is not supported (JPEG or PNG only)";
    else if (bytes >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp(data + 8, "WEBP", 4) == 0)
        what = "WebP is not supported (JPEG or PNG only)";
    else if (bytes >= 3 && data[0] == 0xFF && data[1] == 0xD8)
        what = "truncated JPEG data";
    else if (bytes < 8 && memcmp(data, png_sig, bytes) == 0)
        what = "truncated PNG data";
    set_msg(msg, msg_bytes, "%s", what);
    return EFFCAM_E_IMAGE;
}

effcam_status cli_image_load(const char *path, uint64_t max_pixels,
                             cli_image *img, char *msg, size_t msg_bytes) {
    if (msg && msg_bytes) msg[0] = '\0';
    if (!path || !img) return EFFCAM_E_ARG;
    memset(img, 0, sizeof *img);
    FILE *f = fopen(path, "rb");
    if (!f) {
        set_msg(msg, msg_bytes, "%s", strerror(errno));
        return EFFCAM_E_IO;
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    effcam_status st = EFFCAM_OK;
    while (buf) {
        if (n == cap) {
            if (cap >= CLI_IMAGE_MAX_FILE_BYTES) {
                set_msg(msg, msg_bytes, "%s", "file larger than 1 GiB");
                st = EFFCAM_E_IMAGE;
                break;
            }
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                set_msg(msg, msg_bytes, "%s", "read error");
                st = EFFCAM_E_IO;
            }
            break;
        }
    }
    fclose(f);
    if (!buf) {
        set_msg(msg, msg_bytes, "%s", "out of memory reading the file");
        return EFFCAM_E_NOMEM;
    }
    if (st == EFFCAM_OK) st = cli_image_decode(buf, n, max_pixels, img, msg, msg_bytes);
    free(buf);
    return st;
}

void cli_image_free(cli_image *img) {
    if (!img) return;
    free(img->rgb);
    memset(img, 0, sizeof *img);
}
