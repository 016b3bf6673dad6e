/* Internal pieces of the image path (lib/image). */
#ifndef EFFCAM_IMG_INTERNAL_H
#define EFFCAM_IMG_INTERNAL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jpeglib.h>
#include <png.h>

#include "effcam_image.h"

#define EI_ALIGN 64u
#define EI_UP(n) (((size_t)(n) + (EI_ALIGN - 1)) & ~(size_t)(EI_ALIGN - 1))

/* Bump allocator over a slice of the planned block. */
typedef struct ei_arena {
    uint8_t *base;
    size_t size, top;
    size_t *high;        /* the handle's high-water mark (bytes from block start) */
    size_t block_off;    /* offset of base in the block */
    size_t peak;         /* largest top seen (for measurements) */
} ei_arena;

void ei_arena_init(ei_arena *a, uint8_t *base, size_t size, size_t block_off, size_t *high);
void *ei_arena_alloc(ei_arena *a, size_t n); /* 64-aligned; NULL when the plan is exceeded */
static inline void ei_arena_reset(ei_arena *a, size_t top) { a->top = top; }

/* Byte source: caller memory or a file descriptor, rewindable. */
typedef struct ei_src {
    const uint8_t *mem;
    size_t mem_bytes, mem_pos;
    int fd;                 /* -1 for memory */
    uint8_t *buf;           /* file read buffer (in the block) */
    size_t buf_size;
    int failed;             /* read error (not EOF) */
} ei_src;
#define EI_SRC_BUF 16384u
size_t ei_src_read(ei_src *s, uint8_t *dst, size_t n);
int ei_src_rewind(ei_src *s);

/* libjpeg glue (jpeg_glue.c) */
typedef struct ei_jerr {
    struct jpeg_error_mgr pub;
    jmp_buf *target;
    char msg[JMSG_LENGTH_MAX];
} ei_jerr;

typedef struct ei_jmem ei_jmem; /* replacement jpeg_memory_mgr */
size_t ei_jmem_sizeof(void);
#define EI_JPERM_BYTES 8192u /* quant/huff tables (JPOOL_PERMANENT after init) */
/* Replaces cinfo->mem (created by jpeg_create_*) by one over `image` for
 * JPOOL_IMAGE and a fixed region for JPOOL_PERMANENT. */
void ei_jmem_install(j_common_ptr cinfo, ei_jmem *m, uint8_t *perm, size_t perm_bytes);
void ei_jmem_set_image_arena(j_common_ptr cinfo, ei_arena *image);
void ei_jerr_setup(ei_jerr *e);

struct jpeg_source_mgr *ei_jsrc_init(ei_arena *a, ei_src *s);
struct jpeg_destination_mgr *ei_jdst_init(ei_arena *a, effcam_write_fn w, void *user, int *failed);

/* Resampling (resample.c) */
typedef struct ei_axis {
    int n_out;          /* tensor positions */
    int n_in;           /* source (display) positions */
    int *start, *len;   /* per tensor position; len 0 = background */
    int *coff;          /* offset of the position's coefficients */
    float *coef;
    int max_len;
    int ov;             /* max tensor positions one source position feeds */
    int first_valid, last_valid;
} ei_axis;
size_t ei_axis_bytes(int n_out, int n_in, int S, effcam_filter f);
/* Tensor position t samples resized position t + off of a resized length S
 * (S x S' image made from n_in source positions). */
int ei_axis_build(ei_axis *ax, ei_arena *a, int n_out, int n_in, int S, int off,
                  effcam_filter f);

#endif
