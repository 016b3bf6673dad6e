/* effcam predict MODEL IMAGE...: top-k classes for each image. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void predict_usage(FILE *f) {
    fprintf(f,
        "Usage: effcam predict MODEL IMAGE... [options]\n"
        "\n"
        "Classifies each JPEG or PNG image (grayscale, palette, alpha and\n"
        "16-bit PNGs are converted to RGB8; alpha is dropped). Each image is\n"
        "stretched to the planned input size. The model is loaded once and\n"
        "its workspace reused for every image.\n"
        "\n"
        "Options:\n"
        "  --top K           classes to print per image (default 5)\n"
        "  --json            one JSON object per image and line:\n"
        "                    {\"file\", \"width\", \"height\", \"ms\",\n"
        "                     \"top\": [{\"class\", \"label\", \"prob\", \"logit\"}]}\n"
        "                    (or {\"file\", \"error\", \"detail\"} for a failed image)\n"
        "  --size HxW        input size (or N for NxN); default: the model's own\n"
        "  --in-place        use the model file in place (read-only mmap)\n"
        "  --compact         no load-time Winograd weights (EFFCAM_LOAD_COMPACT;\n"
        "                    the default here: a one-shot run transforms them\n"
        "                    per call faster than once at load)\n"
        "  --prepack         transform them once at load (the library's\n"
        "                    default; pays off after ~100 images)\n"
        "                    instead of copying it into the arena\n"
        "  --threads N       threads for the library (default: its own choice)\n"
        "  --max-pixels N    refuse images with more pixels (default %u)\n"
        "  -h, --help        this help\n"
        "\n"
        "Exit status 1 if the model or any image failed.\n",
        CLI_IMAGE_DEFAULT_MAX_PIXELS);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void json_error(const char *file, effcam_status st, const char *detail) {
    fputc('{', stdout);
    json_key(stdout, "file"); json_str(stdout, file);
    fputs(", ", stdout); json_key(stdout, "error"); json_str(stdout, effcam_strerror(st));
    fputs(", ", stdout); json_key(stdout, "detail"); json_str(stdout, detail ? detail : "");
    fputs("}\n", stdout);
}

int cmd_predict(int argc, char **argv) {
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    unsigned flags = EFFCAM_LOAD_COMPACT; /* one-shot: the per-call transform costs less than the load-time one */
    int json = 0;
    long top = 5, threads = 0;
    uint64_t max_pixels = CLI_IMAGE_DEFAULT_MAX_PIXELS;
    const char *model_path = NULL, *v;
    char **images = calloc((size_t)argc + 1, sizeof *images);
    int n_images = 0;
    if (!images) {
        fprintf(stderr, "effcam: out of memory\n");
        return CLI_FAIL;
    }
    int rc = CLI_OK, only_files = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = 0;
        if (!only_files && strcmp(a, "--") == 0) { only_files = 1; continue; }
        if (!only_files && a[0] == '-' && a[1] != '\0') {
            if (cli_is_help(a)) { predict_usage(stdout); free(images); return CLI_OK; }
            if ((r = cli_opt_value(argc, argv, &i, "--top", &v)) != 0) {
                if (r < 0 || cli_parse_long(v, 1, 1000000, &top)) {
                    rc = cli_usage_error("predict", "bad --top (want an integer >= 1)");
                    goto out;
                }
            } else if ((r = cli_opt_value(argc, argv, &i, "--size", &v)) != 0) {
                if (r < 0 || cli_parse_size(v, &spec.height, &spec.width)) {
                    rc = cli_usage_error("predict", "bad --size (want HxW, 1..16384)");
                    goto out;
                }
            } else if ((r = cli_opt_value(argc, argv, &i, "--threads", &v)) != 0) {
                if (r < 0 || cli_parse_long(v, 1, 1024, &threads)) {
                    rc = cli_usage_error("predict", "bad --threads (want 1..1024)");
                    goto out;
                }
            } else if ((r = cli_opt_value(argc, argv, &i, "--max-pixels", &v)) != 0) {
                if (r < 0 || cli_parse_u64(v, 1, (uint64_t)1 << 40, &max_pixels)) {
                    rc = cli_usage_error("predict", "bad --max-pixels");
                    goto out;
                }
            } else if (strcmp(a, "--json") == 0) {
                json = 1;
            } else if (strcmp(a, "--in-place") == 0) {
                flags |= EFFCAM_LOAD_IN_PLACE;
            } else if (strcmp(a, "--compact") == 0) {
                flags |= EFFCAM_LOAD_COMPACT;
            } else if (strcmp(a, "--prepack") == 0) {
                flags &= ~EFFCAM_LOAD_COMPACT;
            } else {
                rc = cli_usage_error("predict", "unknown option '%s'", a);
                goto out;
            }
            continue;
        }
        if (!model_path) model_path = argv[i];
        else images[n_images++] = argv[i];
    }
    if (!model_path) { rc = cli_usage_error("predict", "missing MODEL"); goto out; }
    if (n_images == 0) { rc = cli_usage_error("predict", "missing IMAGE"); goto out; }

    if (threads > 0) effcam_set_threads((int)threads);

    effcam_error err;
    effcam_model *model = NULL;
    effcam_ctx *ctx = NULL;
    memset(&err, 0, sizeof err);
    effcam_status st = effcam_load_file(model_path, &spec, flags, NULL, 0,
                                        &model, &ctx, &err);
    if (st != EFFCAM_OK) {
        cli_report(model_path, st, err.message);
        rc = CLI_FAIL;
        goto out;
    }
    effcam_info info;
    memset(&info, 0, sizeof info);
    if (effcam_get_info(model, &info) != EFFCAM_OK || info.num_classes < 1) {
        cli_report(model_path, EFFCAM_E_STATE, "model reports no classes");
        effcam_free(model);
        rc = CLI_FAIL;
        goto out;
    }
    /* the size the workspace was planned for */
    const int ctx_h = spec.height ? spec.height : info.input_height;
    const int ctx_w = spec.width ? spec.width : info.input_width;
    /* the decoded tensor as RGB8 (the decoder rounds to 0..255 like an 8-bit
     * image, so this is exact): a quarter of the float tensor's bytes stay
     * alive through the forward pass, and predict_rgb8 at the same size is
     * the identity resize */
    uint8_t *input = malloc((size_t)ctx_h * (size_t)ctx_w * 3);
    int k = top > info.num_classes ? info.num_classes : (int)top;
    int *classes = malloc(sizeof(int) * (size_t)k);
    float *probs = malloc(sizeof(float) * (size_t)k);
    if (!classes || !probs) {
        fprintf(stderr, "effcam: out of memory\n");
        free(classes);
        free(input);
        free(probs);
        effcam_free(model);
        rc = CLI_FAIL;
        goto out;
    }

    for (int n = 0; n < n_images; n++) {
        const char *file = images[n];
        char msg[256];
        effcam_image *img = NULL;
        effcam_image_plan iplan;
        effcam_image_info ii;
        effcam_error ierr;
        memset(&ierr, 0, sizeof ierr);
        double t0 = now_ms();
        /* streaming decode + resize into the model's tensor, with the
         * model's resize policy; memory fitted to this photo */
        st = cli_stream_open(file, ctx_h, ctx_w, 0, max_pixels, &img, &iplan, &ii, &ierr);
        if (st == EFFCAM_OK) {
            effcam_decode_opts dopt;
            memset(&dopt, 0, sizeof dopt);
            dopt.out_width = ctx_w;
            dopt.out_height = ctx_h;
            dopt.policy = (effcam_resize_policy)info.resize_policy;
            dopt.filter = (effcam_filter)info.resize_filter;
            dopt.crop_num = info.crop_num;
            dopt.crop_den = info.crop_den;
            st = effcam_image_decode_file(img, file, &dopt, &ii, &ierr);
        }
        if (st != EFFCAM_OK) {
            snprintf(msg, sizeof msg, "%s", ierr.message);
            cli_report(file, st, msg);
            if (json) json_error(file, st, msg);
            rc = CLI_FAIL;
            effcam_image_free(img);
            continue;
        }
        /* keep only the model-size tensor: the decoder's memory is returned
         * before the forward pass touches the weights, so the two peaks do
         * not add up */
        int th, tw;
        const float *tensor = effcam_image_tensor(img, &th, &tw);
        for (size_t q = 0; q < (size_t)th * tw * 3; q++) {
            float f = tensor[q];
            input[q] = (uint8_t)(f <= 0.f ? 0 : f >= 255.f ? 255 : (int)(f + 0.5f));
        }
        effcam_image_free(img);
        img = NULL;
        st = effcam_predict_rgb8(ctx, input, th, tw, 0);
        struct { int width, height; const char *format; } imgd = {ii.display_width, ii.display_height,
                                                                   ii.format == EFFCAM_IMAGE_PNG ? "png" : "jpeg"};
        double ms = now_ms() - t0;
        int got = st == EFFCAM_OK ? effcam_top_k(ctx, k, classes, probs) : 0;
        const float *logits = effcam_logits(ctx);
        if (st != EFFCAM_OK || got <= 0) {
            if (st == EFFCAM_OK) st = EFFCAM_E_STATE;
            cli_report(file, st, "predict failed");
            if (json) json_error(file, st, "predict failed");
            rc = CLI_FAIL;
            effcam_image_free(img);
            continue;
        }
        if (json) {
            fputc('{', stdout);
            json_key(stdout, "file"); json_str(stdout, file);
            fputs(", ", stdout); json_key(stdout, "width"); printf("%d", imgd.width);
            fputs(", ", stdout); json_key(stdout, "height"); printf("%d", imgd.height);
            fputs(", ", stdout); json_key(stdout, "ms"); printf("%.3f", ms);
            fputs(", ", stdout); json_key(stdout, "top"); fputc('[', stdout);
            for (int j = 0; j < got; j++) {
                if (j) fputs(", ", stdout);
                fputc('{', stdout);
                json_key(stdout, "class"); printf("%d", classes[j]);
                fputs(", ", stdout); json_key(stdout, "label");
                json_str(stdout, effcam_label(model, classes[j]));
                fputs(", ", stdout); json_key(stdout, "prob"); json_num(stdout, probs[j]);
                fputs(", ", stdout); json_key(stdout, "logit");
                if (logits) json_num(stdout, logits[classes[j]]);
                else fputs("null", stdout);
                fputc('}', stdout);
            }
            fputs("]}\n", stdout);
        } else {
            printf("%s (%dx%d %s, %.1f ms):\n", file, imgd.width, imgd.height,
                   imgd.format, ms);
            for (int j = 0; j < got; j++) {
                const char *label = effcam_label(model, classes[j]);
                if (label)
                    printf("  %2d. %8.4f%%  %s (class %d)\n", j + 1,
                           100.0 * probs[j], label, classes[j]);
                else
                    printf("  %2d. %8.4f%%  class %d\n", j + 1, 100.0 * probs[j],
                           classes[j]);
            }
        }
        fflush(stdout);
        effcam_image_free(img);
    }
    free(classes);
    free(input);
    free(probs);
    effcam_free(model);
out:
    free(images);
    return rc;
}
