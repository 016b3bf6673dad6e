/*
 * effcam image path: JPEG / PNG decoding streamed row by row into the model's
 * input tensor, and Grad-CAM rendering streamed row by row into PNG / JPEG,
 * all inside one caller-provided block whose size is planned in advance.
 *
 * Memory model
 *   effcam_image_plan() computes, from limits only (never from an image),
 *   the bytes one effcam_image handle needs. effcam_image_init() lays the
 *   handle out in that block (or makes exactly one malloc of that size when
 *   mem == NULL). Decoding and rendering then allocate nothing: libpng's
 *   allocations (png_struct, zlib inflate/deflate state, row buffers) go
 *   through png_create_*_struct_2 callbacks into a bump allocator over the
 *   block; libjpeg's go through a replacement struct jpeg_memory_mgr over the
 *   same block. The only allocations outside the block are libjpeg's own
 *   memory manager and permanent pool made inside jpeg_create_decompress /
 *   jpeg_create_compress (a libjpeg API cannot avoid them): they happen once,
 *   in effcam_image_init(), and their size is reported in
 *   effcam_image_plan.outside_bytes (measured; see docs/image.md).
 *
 *   The memory needed does not depend on the photo's size: the source is
 *   never held whole. A photo larger than the limits (pixel count, side,
 *   progressive JPEG coefficient area) is refused before its pixels are read.
 *
 * Threading: one effcam_image per concurrent request (no shared state).
 * The library never prints, exits or aborts.
 */
#ifndef EFFCAM_IMAGE_H
#define EFFCAM_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "effcam.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Resize policies: the values of effcam_info.resize_policy. */
typedef enum effcam_resize_policy {
    EFFCAM_RESIZE_STRETCH = 0,   /* both sides to the output size, aspect lost */
    EFFCAM_RESIZE_CROP = 1,      /* shorter side to out*crop_den/crop_num, then
                                    centre crop (torchvision Resize+CenterCrop) */
    EFFCAM_RESIZE_LETTERBOX = 2  /* fit inside, keep aspect, pad with background */
} effcam_resize_policy;

/* Resampling filters: the values of effcam_info.resize_filter. All are
 * Pillow's convolution filters (support scaled by the reduction factor, i.e.
 * antialiased): bilinear = triangle (support 1), bicubic = Keys a = -0.5
 * (support 2), lanczos = Lanczos-3 (support 3), box = box (support 0.5).
 * nearest picks the source pixel whose centre is nearest (Pillow NEAREST). */
typedef enum effcam_filter {
    EFFCAM_FILTER_BILINEAR = 0,
    EFFCAM_FILTER_BICUBIC = 1,
    EFFCAM_FILTER_LANCZOS = 2,
    EFFCAM_FILTER_NEAREST = 3,
    EFFCAM_FILTER_BOX = 4
} effcam_filter;

typedef enum effcam_image_format {
    EFFCAM_IMAGE_AUTO = 0, /* sniffed from the first bytes */
    EFFCAM_IMAGE_JPEG = 1,
    EFFCAM_IMAGE_PNG = 2
} effcam_image_format;

/* What a handle must be able to take. Zero fields take the defaults. */
typedef struct effcam_image_limits {
    int max_width, max_height;   /* largest source side (default 16384 each)     */
    uint64_t max_pixels;         /* decompression-bomb limit (default 40 MP)      */
    uint64_t max_progressive_pixels; /* progressive JPEG: libjpeg keeps the whole
                                    coefficient image (2 bytes per pixel per
                                    full-resolution component: 3 B/px for 4:2:0).
                                    The plan reserves 3 B/px for this many pixels
                                    (+ padding); a file needing more is refused
                                    (EFFCAM_E_DIMS). 0 = default 4 MP (capped at
                                    max_pixels); 1 = refuse every progressive
                                    JPEG and reserve nothing.                   */
    int max_out_width, max_out_height;       /* largest model tensor (default 300x300) */
    int max_render_width, max_render_height; /* largest rendered panel (one of the
                                    three in side-by-side mode); 0 = no rendering */
    int render_band_rows;        /* render band: this many rows of max_render_width
                                    float pixels (default 64; at the display size
                                    the band holds 4x the rows as RGB8). Photos
                                    whose rows do not arrive in display order
                                    (EXIF 3..8, interlaced PNG) are decoded once
                                    per band: more rows = fewer passes, more
                                    memory.                                      */
} effcam_image_limits;

/* Exact bytes, computed from limits alone. total = handle + tensor + work. */
typedef struct effcam_image_plan {
    size_t total_bytes;       /* what effcam_image_init() needs               */
    size_t handle_bytes;      /* handle, libjpeg/libpng control structs       */
    size_t tensor_bytes;      /* float NHWC model input, max_out size          */
    size_t work_bytes;        /* reused per request: max(decode, render) below */
    size_t decode_bytes;      /* codec internals + resampler for one decode    */
    size_t render_bytes;      /* decode again + band + encoder while rendering */
    size_t jpeg_codec_bytes;  /* bound for libjpeg's image pool (non-progressive) */
    size_t jpeg_coef_bytes;   /* bound for progressive coefficient buffers     */
    size_t png_codec_bytes;   /* bound for libpng + zlib while decoding        */
    size_t outside_bytes;     /* declared bound of what libjpeg's jpeg_create_*
                                 allocates outside the block, once, in
                                 effcam_image_init() (measured: 2279 bytes in
                                 3 mallocs, libjpeg-turbo 2.1.5 x86-64)         */
    effcam_image_limits limits; /* resolved limits                            */
} effcam_image_plan;

effcam_status effcam_image_plan_bytes(const effcam_image_limits *limits,
                                      effcam_image_plan *plan);

typedef struct effcam_image effcam_image;

/* mem == NULL: one malloc of plan.total_bytes. Else mem must be 64-byte
 * aligned and hold plan.total_bytes (EFFCAM_E_BUFFER_SMALL otherwise). */
effcam_status effcam_image_init(const effcam_image_limits *limits, void *mem,
                                size_t mem_bytes, effcam_image **img,
                                effcam_error *err);
void effcam_image_free(effcam_image *img);

/* ---- decoding into the model's input tensor ---------------------------- */
#define EFFCAM_IMG_NO_ORIENT   1u /* ignore the EXIF orientation             */
#define EFFCAM_IMG_NO_DCT      2u /* never use libjpeg's DCT scaling          */
#define EFFCAM_IMG_NO_ROUND    4u /* keep fractional values (default: rounded
                                     to integers 0..255 like an 8-bit image)  */

typedef struct effcam_decode_opts {
    int out_width, out_height;   /* tensor size (<= limits), required          */
    effcam_resize_policy policy;
    effcam_filter filter;
    int crop_num, crop_den;      /* CROP: 0/0 = 224/256 (torchvision eval)     */
    uint8_t background[3];       /* alpha composite and letterbox fill (RGB)    */
    unsigned flags;              /* EFFCAM_IMG_*                                */
    int dct_min_ratio;           /* JPEG DCT scaling keeps the decoded size >=
                                    this many times the resized size (default
                                    2; Pillow's draft() is 1)                  */
} effcam_decode_opts;

typedef struct effcam_image_info {
    effcam_image_format format;
    int width, height;           /* as stored                                  */
    int orientation;             /* EXIF 1..8 (1 when absent / ignored)         */
    int display_width, display_height; /* after orientation                    */
    int components;              /* in the file: 1 gray, 2 gray+A, 3, 4 (RGBA/CMYK) */
    int bit_depth;               /* 8 or 16 (PNG), 8 (JPEG)                     */
    int progressive;             /* progressive JPEG                           */
    int interlaced;              /* Adam7 PNG                                  */
    int dct_scale;               /* JPEG decoded at dct_scale/8 (8 = full)      */
    int out_width, out_height;   /* tensor size                                */
    int content_x, content_y, content_w, content_h; /* image inside the tensor
                                    (letterbox); the whole tensor otherwise    */
    size_t high_water;           /* block bytes touched by this call (from the
                                    block start: handle + tensor + work used)  */
} effcam_image_info;

/* Header only: sizes, orientation, kind. Limits are checked. `data` may
 * be just the file's first bytes (a JPEG succeeds once its frame header is
 * inside them; a PNG needs its first 33 bytes). */
effcam_status effcam_image_probe(effcam_image *img, const void *data,
                                 size_t bytes, effcam_image_info *info,
                                 effcam_error *err);
effcam_status effcam_image_probe_file(effcam_image *img, const char *path,
                                      effcam_image_info *info,
                                      effcam_error *err);

/* Decodes, orients, composites, resizes, in one streaming pass, into the
 * handle's tensor: NHWC float, RGB, 0..255, out_height x out_width x 3, ready
 * for effcam_predict_f32 (which applies the model's mul/add). */
effcam_status effcam_image_decode_memory(effcam_image *img, const void *data,
                                         size_t bytes,
                                         const effcam_decode_opts *opts,
                                         effcam_image_info *info,
                                         effcam_error *err);
effcam_status effcam_image_decode_file(effcam_image *img, const char *path,
                                       const effcam_decode_opts *opts,
                                       effcam_image_info *info,
                                       effcam_error *err);
/* The tensor of the last successful decode (NULL before). */
const float *effcam_image_tensor(const effcam_image *img, int *height,
                                 int *width);

/* ---- rendering --------------------------------------------------------- */
typedef enum effcam_colormap {
    EFFCAM_CMAP_JET = 0,     /* matplotlib jet (segment data, 256-entry LUT)   */
    EFFCAM_CMAP_TURBO,       /* Google turbo (polynomial approximation)         */
    EFFCAM_CMAP_VIRIDIS,     /* polynomial approximation                        */
    EFFCAM_CMAP_INFERNO,     /* polynomial approximation                        */
    EFFCAM_CMAP_GRAY,
    EFFCAM_CMAP_COUNT
} effcam_colormap;

typedef enum effcam_out_format {
    EFFCAM_OUT_PNG = 0,
    EFFCAM_OUT_JPEG = 1
} effcam_out_format;

#define EFFCAM_RENDER_PANEL     1u /* original | heatmap | overlay side by side */
#define EFFCAM_RENDER_NORMALIZE 2u /* divide the CAM by its max (ReLU first)     */
#define EFFCAM_RENDER_NO_ORIENT 4u /* ignore the EXIF orientation                */

typedef struct effcam_render_opts {
    int width, height;           /* panel size; 0,0 = the photo's display size
                                    (must fit the render limits)               */
    effcam_colormap cmap;
    float alpha;                 /* overlay = (1-alpha)*photo + alpha*heat      */
    effcam_out_format format;
    int quality;                 /* JPEG 1..100 (default 90)                    */
    int png_level;               /* zlib level 1..9 (default 6); 1..3: the SUB
                                    filter on every row and run-length deflate
                                    (several times faster; on photos no larger
                                    than level 1 with libpng's adaptive
                                    filters), 4..9: libpng's adaptive filters */
    effcam_filter filter;        /* photo resampling when width/height differ   */
    unsigned flags;              /* EFFCAM_RENDER_*                             */
} effcam_render_opts;

/* Receives the encoded bytes in order; returns 0 to continue, non-zero to
 * stop (the call then fails with EFFCAM_E_IO). */
typedef int (*effcam_write_fn)(void *user, const void *data, size_t bytes);

/* Renders the CAM (cam_h x cam_w floats, row-major, 0..1 unless NORMALIZE;
 * bilinear, half-pixel centres, to the panel size) over the photo decoded
 * again row by row from data, and streams the encoded image to write. */
effcam_status effcam_image_render_memory(effcam_image *img, const void *data,
                                         size_t bytes, const float *cam,
                                         int cam_h, int cam_w,
                                         const effcam_render_opts *opts,
                                         effcam_write_fn write, void *user,
                                         effcam_image_info *info,
                                         effcam_error *err);
effcam_status effcam_image_render_file(effcam_image *img, const char *path,
                                       const float *cam, int cam_h, int cam_w,
                                       const effcam_render_opts *opts,
                                       effcam_write_fn write, void *user,
                                       effcam_image_info *info,
                                       effcam_error *err);

/* Colormap lookup: v in 0..1 -> RGB8 (the table the renderer uses). */
void effcam_colormap_rgb(effcam_colormap cmap, float v, uint8_t rgb[3]);

/* Bytes of the block touched since init (high-water mark). */
size_t effcam_image_high_water(const effcam_image *img);

#ifdef __cplusplus
}
#endif
#endif /* EFFCAM_IMAGE_H */
