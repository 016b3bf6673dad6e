/* Image decoding for the CLI: JPEG (libjpeg-turbo) and PNG (libpng) into
 * interleaved RGB8. The format is detected from the file's first bytes, not
 * its name. Dimensions are checked against a pixel limit before any pixel
 * memory is allocated. This uses malloc; a later change moves streaming
 * decode into the library, behind the same small interface. */
#ifndef EFFCAM_CLI_IMAGE_IO_H
#define EFFCAM_CLI_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

#include "effcam.h"

#define CLI_IMAGE_DEFAULT_MAX_PIXELS (64u * 1024u * 1024u) /* 64 Mpixel */
#define CLI_IMAGE_MAX_FILE_BYTES ((size_t)1 << 30)          /* 1 GiB */

typedef struct cli_image {
    uint8_t *rgb;      /* height rows of `stride` bytes, RGB interleaved */
    int width, height;
    size_t stride;     /* bytes per row (= 3 * width) */
    const char *format; /* "jpeg" or "png" */
} cli_image;

/* Decodes `path`. On failure returns EFFCAM_E_IO (cannot read the file),
 * EFFCAM_E_IMAGE (not a JPEG/PNG, or corrupt / truncated data),
 * EFFCAM_E_DIMS (more than max_pixels pixels) or EFFCAM_E_NOMEM, writes a
 * detail message to msg and leaves img empty. max_pixels 0 = default. */
effcam_status cli_image_load(const char *path, uint64_t max_pixels,
                             cli_image *img, char *msg, size_t msg_bytes);
/* Same from bytes already in memory. */
effcam_status cli_image_decode(const uint8_t *data, size_t bytes,
                               uint64_t max_pixels, cli_image *img, char *msg,
                               size_t msg_bytes);
void cli_image_free(cli_image *img);

#endif
