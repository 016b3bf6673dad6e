/* effcam gradcam MODEL IMAGE: predict, explain, write the overlay. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "effcam_image.h"

static void gradcam_usage(FILE *f) {
    fprintf(f,
        "Usage: effcam gradcam MODEL IMAGE [options]\n"
        "\n"
        "Predicts, computes a class activation map at a layer, and writes the\n"
        "heatmap blended over the photo at the photo's own size (EXIF\n"
        "orientation applied). The photo is decoded and resized to the model\n"
        "in one streaming pass, and decoded again row by row to render: the\n"
        "memory for any photo size is planned (see --json's plan fields).\n"
        "\n"
        "Options:\n"
        "  --layer L         tap to explain (see `effcam info`); default: the\n"
        "                    model's default layer (its last conv block)\n"
        "  --method M        gradcam (default), gradcam++, xgradcam, hirescam,\n"
        "                    layercam, eigencam, scorecam\n"
        "  --target T        logit (default) or prob (softmax probability, as\n"
        "                    our users' Keras code does)\n"
        "  --class C         class to explain (default: the predicted one)\n"
        "  --smooth[=K]      test-time smoothing, averaged maps: K = flip (the\n"
        "                    mirrored image; the default), scale (zoomed by\n"
        "                    0.9 and 1.1 about the centre) or all (both: 6\n"
        "                    passes)\n"        "  --post P          gradcam: ReLU, min-max, upsample, min-max\n"
        "                    (pytorch-grad-cam; default) or divmax: ReLU, divide\n"
        "                    by the max, upsample (our users' recipe)\n"
        "  --out FILE        overlay image (.png or .jpg; default overlay.png)\n"
        "  --heatmap FILE    the colormapped heatmap alone\n"
        "  --panel FILE      original | heatmap | overlay side by side\n"
        "  --raw FILE        the raw map (before ReLU) as float32, cam_h x cam_w\n"
        "  --cmap NAME       jet (default), turbo, viridis, inferno, gray\n"
        "  --alpha A         heatmap opacity in the overlay (default 0.4)\n"
        "  --size HxW        model input size (default: the model's own)\n"
        "  --in-place        use the model file in place (read-only mmap; the\n"
        "                    default here: the fastest start and the pages are\n"
        "                    shared between processes)\n"
        "  --copy            copy the model into the arena instead\n"
        "  --compact         no load-time Winograd weights (EFFCAM_LOAD_COMPACT;\n"
        "                    the default here: a one-shot run transforms them\n"
        "                    per call faster than once at load)\n"
        "  --prepack         transform them once at load (the library's default)\n"
        "  --threads N       threads for the library\n"
        "  --json            one JSON object with the prediction, the map and\n"
        "                    the planned bytes\n"
        "  -h, --help        this help\n");
}

static int write_file(void *user, const void *data, size_t bytes) {
    return fwrite(data, 1, bytes, (FILE *)user) == bytes ? 0 : 1;
}

static int parse_cmap(const char *s, effcam_colormap *c) {
    const char *names[] = {"jet", "turbo", "viridis", "inferno", "gray"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) { *c = (effcam_colormap)i; return 0; }
    return -1;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static effcam_status render(effcam_image *img, const char *photo, const float *cam, int ch, int cw, effcam_colormap cmap,
                            float alpha, unsigned flags, const char *out, effcam_error *err) {
    FILE *f = fopen(out, "wb");
    if (!f) {
        snprintf(err->message, sizeof err->message, "cannot write %s", out);
        return EFFCAM_E_IO;
    }
    effcam_render_opts ro;
    memset(&ro, 0, sizeof ro);
    ro.cmap = cmap;
    ro.alpha = alpha;
    ro.format = (ends_with(out, ".jpg") || ends_with(out, ".jpeg")) ? EFFCAM_OUT_JPEG : EFFCAM_OUT_PNG;
    ro.quality = 92;
    ro.png_level = 1; /* zlib's fastest: the overlay is written once, quickly */
    ro.flags = flags;
    effcam_status st = effcam_image_render_file(img, photo, cam, ch, cw, &ro, write_file, f, NULL, err);
    if (fclose(f) != 0 && !st) st = EFFCAM_E_IO;
    return st;
}

int cmd_gradcam(int argc, char **argv) {
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.mode = EFFCAM_MODE_GRADCAM;
    unsigned flags = EFFCAM_LOAD_IN_PLACE | EFFCAM_LOAD_COMPACT; /* one-shot: per-call Winograd transform */
    int json = 0, post = EFFCAM_POST_GRADCAM_LIB;
    long cls = -1, threads = 0;
    double alpha = 0.4;
    effcam_cam_target target = EFFCAM_TARGET_LOGIT;
    effcam_colormap cmap = EFFCAM_CMAP_JET;
    const char *model_path = NULL, *photo = NULL, *out = "overlay.png", *heat = NULL, *panel = NULL, *rawp = NULL, *v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = 0;
        if (a[0] == '-' && a[1]) {
            if (cli_is_help(a)) { gradcam_usage(stdout); return CLI_OK; }
            if ((r = cli_opt_value(argc, argv, &i, "--layer", &v)) != 0) {
                if (r < 0) return cli_usage_error("gradcam", "--layer needs a name");
                spec.layer = v;
            } else if ((r = cli_opt_value(argc, argv, &i, "--method", &v)) != 0) {
                if (r < 0 || cli_parse_method(v, &spec.method)) return cli_usage_error("gradcam", "bad --method");
            } else if ((r = cli_opt_value(argc, argv, &i, "--target", &v)) != 0) {
                if (r < 0 || (strcmp(v, "logit") && strcmp(v, "prob"))) return cli_usage_error("gradcam", "--target is logit or prob");
                target = !strcmp(v, "prob") ? EFFCAM_TARGET_PROB : EFFCAM_TARGET_LOGIT;
            } else if ((r = cli_opt_value(argc, argv, &i, "--class", &v)) != 0) {
                if (r < 0 || cli_parse_long(v, 0, 1000000, &cls)) return cli_usage_error("gradcam", "bad --class");
            } else if ((r = cli_opt_value(argc, argv, &i, "--post", &v)) != 0) {
                if (r < 0 || (strcmp(v, "gradcam") && strcmp(v, "divmax"))) return cli_usage_error("gradcam", "--post is gradcam or divmax");
                post = !strcmp(v, "divmax") ? EFFCAM_POST_DIVMAX : EFFCAM_POST_GRADCAM_LIB;
            } else if ((r = cli_opt_value(argc, argv, &i, "--out", &v)) != 0) {
                if (r < 0) return cli_usage_error("gradcam", "--out needs a file");
                out = v;
            } else if ((r = cli_opt_value(argc, argv, &i, "--heatmap", &v)) != 0) {
                if (r < 0) return cli_usage_error("gradcam", "--heatmap needs a file");
                heat = v;
            } else if ((r = cli_opt_value(argc, argv, &i, "--panel", &v)) != 0) {
                if (r < 0) return cli_usage_error("gradcam", "--panel needs a file");
                panel = v;
            } else if ((r = cli_opt_value(argc, argv, &i, "--raw", &v)) != 0) {
                if (r < 0) return cli_usage_error("gradcam", "--raw needs a file");
                rawp = v;
            } else if ((r = cli_opt_value(argc, argv, &i, "--cmap", &v)) != 0) {
                if (r < 0 || parse_cmap(v, &cmap)) return cli_usage_error("gradcam", "bad --cmap");
            } else if ((r = cli_opt_value(argc, argv, &i, "--alpha", &v)) != 0) {
                char *end;
                alpha = r < 0 ? -1 : strtod(v, &end);
                if (r < 0 || *end || alpha < 0 || alpha > 1) return cli_usage_error("gradcam", "--alpha is 0..1");
            } else if ((r = cli_opt_value(argc, argv, &i, "--size", &v)) != 0) {
                if (r < 0 || cli_parse_size(v, &spec.height, &spec.width)) return cli_usage_error("gradcam", "bad --size");
            } else if ((r = cli_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
                if (r < 0 || cli_parse_long(v, 1, 256, &threads)) return cli_usage_error("gradcam", "bad --threads");
            } else if (!strcmp(a, "--in-place")) {
                flags |= EFFCAM_LOAD_IN_PLACE;
            } else if (!strcmp(a, "--compact")) {
                flags |= EFFCAM_LOAD_COMPACT;
            } else if (!strcmp(a, "--prepack")) {
                flags &= ~EFFCAM_LOAD_COMPACT;
            } else if (!strcmp(a, "--smooth") || !strcmp(a, "--smooth=flip")) {
                spec.cam_flags |= EFFCAM_CAM_SMOOTH_FLIP;
            } else if (!strcmp(a, "--smooth=scale")) {
                spec.cam_flags |= EFFCAM_CAM_SMOOTH_SCALE;
            } else if (!strcmp(a, "--smooth=all")) {
                spec.cam_flags |= EFFCAM_CAM_SMOOTH_FLIP | EFFCAM_CAM_SMOOTH_SCALE;
            } else if (!strncmp(a, "--smooth=", 9)) {
                return cli_usage_error("gradcam", "bad %s (want flip, scale or all)", a);
            } else if (!strcmp(a, "--copy")) {
                flags &= ~EFFCAM_LOAD_IN_PLACE;
            } else if (!strcmp(a, "--json")) {
                json = 1;
            } else {
                return cli_usage_error("gradcam", "unknown option %s", a);
            }
        } else if (!model_path) {
            model_path = a;
        } else if (!photo) {
            photo = a;
        } else {
            return cli_usage_error("gradcam", "one MODEL and one IMAGE");
        }
    }
    if (!model_path || !photo) return cli_usage_error("gradcam", "MODEL and IMAGE are required");
    if (threads) effcam_set_threads((int)threads);

    effcam_error err;
    memset(&err, 0, sizeof err);
    effcam_plan plan;
    effcam_status st = effcam_plan_file(model_path, &spec, flags, &plan, &err);
    if (st) { cli_report(model_path, st, err.message); return CLI_FAIL; }
    effcam_model *m;
    effcam_ctx *ctx;
    st = effcam_load_file(model_path, &spec, flags, NULL, 0, &m, &ctx, &err);
    if (st) { cli_report(model_path, st, err.message); return CLI_FAIL; }
    effcam_info info;
    effcam_get_info(m, &info);

    /* the image path, its limits fitted to this photo and to the overlay
     * drawn at the photo's display size */
    effcam_image_plan iplan;
    effcam_image *img = NULL;
    effcam_image_info ii;
    int rc = CLI_FAIL;
    st = cli_stream_open(photo, plan.height, plan.width, 1, 0, &img, &iplan, &ii, &err);
    if (st) { cli_report(photo, st, err.message); goto out; }
    effcam_decode_opts dopt;
    memset(&dopt, 0, sizeof dopt);
    dopt.out_width = plan.width;
    dopt.out_height = plan.height;
    dopt.policy = (effcam_resize_policy)info.resize_policy;
    dopt.filter = (effcam_filter)info.resize_filter;
    dopt.crop_num = info.crop_num;
    dopt.crop_den = info.crop_den;
    st = effcam_image_decode_file(img, photo, &dopt, &ii, &err);
    if (st) { cli_report(photo, st, err.message); goto out; }
    int th, tw;
    const float *x = effcam_image_tensor(img, &th, &tw);
    st = effcam_predict_f32(ctx, x, th, tw, 0);
    const float *raw;
    int ch = 0, cw = 0;
    effcam_cam_opts co = {.class_index = (int)cls, .target = target};
    if (!st) st = effcam_gradcam(ctx, &co, &raw, &ch, &cw);
    if (st) { cli_report(photo, st, err.message); goto out; }
    float *cam = malloc(sizeof(float) * (size_t)ch * cw);
    if (!cam) goto out;
    effcam_cam_render(ctx, (effcam_cam_post)post, cam, ch, cw);
    if (rawp) {
        FILE *f = fopen(rawp, "wb");
        if (!f || fwrite(raw, sizeof(float), (size_t)ch * cw, f) != (size_t)ch * cw) { cli_report(rawp, EFFCAM_E_IO, "cannot write"); if (f) fclose(f); free(cam); goto out; }
        fclose(f);
    }
    st = render(img, photo, cam, ch, cw, cmap, (float)alpha, 0, out, &err);
    if (!st && heat) st = render(img, photo, cam, ch, cw, cmap, 1.0f, 0, heat, &err);
    if (!st && panel) st = render(img, photo, cam, ch, cw, cmap, (float)alpha, EFFCAM_RENDER_PANEL, panel, &err);
    free(cam);
    if (st) { cli_report(out, st, err.message); goto out; }
    int top;
    float p;
    effcam_top_k(ctx, 1, &top, &p);
    int shown = cls >= 0 ? (int)cls : top;
    const char *label = effcam_label(m, shown);
    const char *layer = spec.layer ? spec.layer : info.default_tap;
    if (json) {
        printf("{");
        json_key(stdout, "file"); json_str(stdout, photo);
        printf(", "); json_key(stdout, "predicted"); printf("%d", top);
        printf(", "); json_key(stdout, "label"); json_str(stdout, effcam_label(m, top));
        printf(", "); json_key(stdout, "prob"); json_num(stdout, p);
        printf(", "); json_key(stdout, "explained_class"); printf("%d", shown);
        printf(", "); json_key(stdout, "layer"); json_str(stdout, layer);
        printf(", "); json_key(stdout, "method"); json_str(stdout, cli_method_name(spec.method));
        printf(", "); json_key(stdout, "target"); json_str(stdout, target == EFFCAM_TARGET_PROB ? "prob" : "logit");
        printf(", "); json_key(stdout, "cam_height"); printf("%d", ch);
        printf(", "); json_key(stdout, "cam_width"); printf("%d", cw);
        printf(", "); json_key(stdout, "overlay"); json_str(stdout, out);
        printf(", "); json_key(stdout, "arena_bytes"); printf("%zu", plan.total_bytes);
        printf(", "); json_key(stdout, "image_bytes"); printf("%zu", iplan.total_bytes);
        printf(", "); json_key(stdout, "workspace_high_water"); printf("%zu", effcam_workspace_high_water(ctx));
        printf(", "); json_key(stdout, "workspace_planned"); printf("%zu", plan.workspace_bytes);
        printf("}\n");
    } else {
        printf("%s: class %d%s%s%s p=%.4f; %s at %s (%dx%d, %s target) -> %s\n", photo, top, label ? " (" : "",
               label ? effcam_label(m, top) : "", label ? ")" : "", p, cli_method_name(spec.method), layer, ch, cw,
               target == EFFCAM_TARGET_PROB ? "prob" : "logit", out);
    }
    rc = CLI_OK;
out:
    effcam_image_free(img);
    effcam_free(m);
    return rc;
}
