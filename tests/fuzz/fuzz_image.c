/* libFuzzer target for the image path. Built twice: -DFUZZ_PNG for the PNG
 * corpus, otherwise JPEG; both accept any bytes (the format is sniffed).
 * The first byte picks the options; the rest is the file. Decodes into the
 * tensor, and every fourth input also renders (PNG or JPEG out). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "effcam_image.h"

static effcam_image *g_img;

static int sink(void *u, const void *d, size_t n) {
    (void)d;
    *(size_t *)u += n;
    return *(size_t *)u > (64u << 20); /* stop absurd outputs */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_img) {
        effcam_image_limits L = {0};
        L.max_width = 4096; L.max_height = 4096; L.max_pixels = 4u << 20;
        L.max_progressive_pixels = 2u << 20;
        L.max_out_width = 64; L.max_out_height = 64;
        L.max_render_width = 4096; L.max_render_height = 4096;
        L.render_band_rows = 16;
        if (effcam_image_init(&L, NULL, 0, &g_img, NULL) != EFFCAM_OK) abort();
    }
    if (size < 1) return 0;
    uint8_t k = data[0];
    data++; size--;
    effcam_decode_opts o = {0};
    o.out_width = 17 + (k & 31); o.out_height = 64 - (k & 15);
    o.policy = (effcam_resize_policy)((k >> 5) % 3);
    o.filter = (effcam_filter)((k >> 2) % 5);
    o.flags = (k & 0x80) ? EFFCAM_IMG_NO_DCT : 0;
    o.dct_min_ratio = 1 + (k & 1);
    o.background[0] = k;
    effcam_image_info info;
    effcam_error err;
    effcam_status st = effcam_image_decode_memory(g_img, data, size, &o, &info, &err);
    if (st == EFFCAM_OK && (k & 3) == 3 && (uint64_t)info.display_width * info.display_height <= (1u << 18)) {
        float cam[12] = {0, .1f, .2f, .3f, .4f, .5f, .6f, .7f, .8f, .9f, 1, 2};
        effcam_render_opts ro = {0};
        ro.alpha = 0.4f;
        ro.format = (k & 4) ? EFFCAM_OUT_JPEG : EFFCAM_OUT_PNG;
        ro.cmap = (effcam_colormap)(k % EFFCAM_CMAP_COUNT);
        ro.flags = (k & 8) ? EFFCAM_RENDER_PANEL : 0;
        ro.png_level = 1;
        size_t n = 0;
        (void)effcam_image_render_memory(g_img, data, size, cam, 3, 4, &ro, sink, &n, &info, &err);
    }
    return 0;
}
