/* Streaming image handles sized to the photo at hand: a header-only probe
 * first, then the exact limits (the photo's own dimensions, progressive or
 * not, the model's input size, the render size), so the planned block is as
 * small as that photo allows. */
#include <string.h>

#include "cli.h"

void cli_photo_limits(int photo_h, int photo_w, int progressive, int out_h, int out_w, effcam_image_limits *lim) {
    memset(lim, 0, sizeof *lim);
    uint64_t px = (uint64_t)photo_h * (uint64_t)photo_w;
    lim->max_width = lim->max_height = photo_h > photo_w ? photo_h : photo_w; /* either orientation */
    lim->max_pixels = px;
    lim->max_progressive_pixels = progressive ? px : 1;
    lim->max_out_width = out_w;
    lim->max_out_height = out_h;
}

effcam_status cli_stream_open(const char *photo, int out_h, int out_w, int render, uint64_t max_pixels,
                              effcam_image **img, effcam_image_plan *plan, effcam_image_info *info, effcam_error *err) {
    *img = NULL;
    unsigned char head[1 << 16];
    FILE *f = fopen(photo, "rb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "cannot open");
        return err->status = EFFCAM_E_IO;
    }
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    effcam_image_limits lim;
    memset(&lim, 0, sizeof lim);
    lim.max_out_width = out_w;
    lim.max_out_height = out_h;
    lim.max_pixels = max_pixels;
    lim.max_progressive_pixels = max_pixels;
    effcam_image *probe = NULL;
    effcam_status st = effcam_image_init(&lim, NULL, 0, &probe, err);
    if (!st) st = effcam_image_probe(probe, head, got, info, err);
    effcam_image_free(probe);
    if (st) return st;
    cli_photo_limits(info->height, info->width, info->progressive, out_h, out_w, &lim);
    if (render) {
        lim.max_render_width = info->display_width;
        lim.max_render_height = info->display_height;
    }
    st = effcam_image_plan_bytes(&lim, plan);
    if (!st) st = effcam_image_init(&lim, NULL, 0, img, err);
    return st;
}
