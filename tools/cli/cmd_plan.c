/* effcam plan MODEL: the exact bytes of one arena (model + one workspace). */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static void plan_usage(FILE *f) {
    fputs(
        "Usage: effcam plan MODEL [options]\n"
        "\n"
        "Prints the exact memory effcam_load_*() needs for MODEL: one arena\n"
        "holding the model and one workspace. Nothing is allocated.\n"
        "\n"
        "Options:\n"
        "  --size HxW        input size (or N for NxN); default: the model's own\n"
        "  --mode M          predict (default) or gradcam\n"
        "  --layer L         tap to explain (gradcam; default: the model's\n"
        "                    default tap) or to keep readable (predict)\n"
        "  --method M        gradcam, gradcam++, xgradcam, hirescam, layercam,\n"
        "                    eigencam, scorecam (gradcam mode; default gradcam)\n"
        "  --in-place        the file bytes are used in place (mmap / flash),\n"
        "                    not copied into the arena\n"
        "  --compact         no load-time Winograd weights (EFFCAM_LOAD_COMPACT;\n"
        "                    the default here, as predict and gradcam load)\n"
        "  --prepack         the library's default: the 3x3 convs' Winograd\n"
        "                    weights transformed once at load (more model\n"
        "                    memory, faster predictions after the first)\n"
        "  --photo HxW       also plan the image path (effcam_image_plan_bytes)\n"
        "                    for photos up to H x W pixels, either orientation:\n"
        "                    streaming decode + resize to the model input, and\n"
        "                    (gradcam mode) the overlay rendered at the photo's\n"
        "                    size, as `effcam gradcam` does\n"
        "  --progressive     the photos may be progressive JPEGs (their\n"
        "                    coefficients are kept whole: 3 bytes per pixel)\n"
        "  --json            print the breakdown as one JSON object\n"
        "  --bytes           print only total_bytes as a bare integer\n"
        "  -h, --help        this help\n"
        "\n"
        "total = model (tables + weights) + workspace (tables + activations +\n"
        "scratch). With --photo: request = total + image, and with --in-place\n"
        "the mapped file pages (file_bytes) are listed too.\n",
        f);
}

static void row(const char *name, size_t v) {
    printf("  %-24s %14zu bytes  %10.3f MiB\n", name, v, cli_mib(v));
}

int cmd_plan(int argc, char **argv) {
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    unsigned flags = EFFCAM_LOAD_COMPACT; /* as the CLI's one-shot commands load */
    int json = 0, bytes_only = 0, photo_h = 0, photo_w = 0, progressive = 0;
    const char *model_path = NULL, *v;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r;
        if (cli_is_help(a)) { plan_usage(stdout); return CLI_OK; }
        if ((r = cli_opt_value(argc, argv, &i, "--size", &v)) != 0) {
            if (r < 0 || cli_parse_size(v, &spec.height, &spec.width))
                return cli_usage_error("plan", "bad --size '%s' (want HxW, 1..16384)", r < 0 ? "" : v);
        } else if ((r = cli_opt_value(argc, argv, &i, "--mode", &v)) != 0) {
            if (r < 0 || cli_parse_mode(v, &spec.mode))
                return cli_usage_error("plan", "bad --mode (want predict or gradcam)");
        } else if ((r = cli_opt_value(argc, argv, &i, "--layer", &v)) != 0) {
            if (r < 0) return cli_usage_error("plan", "--layer needs a tap name");
            spec.layer = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--method", &v)) != 0) {
            if (r < 0 || cli_parse_method(v, &spec.method))
                return cli_usage_error("plan", "bad --method");
        } else if ((r = cli_opt_value(argc, argv, &i, "--photo", &v)) != 0) {
            if (r < 0 || cli_parse_size(v, &photo_h, &photo_w))
                return cli_usage_error("plan", "bad --photo '%s' (want HxW, 1..16384)", r < 0 ? "" : v);
        } else if (strcmp(a, "--progressive") == 0) {
            progressive = 1;
        } else if (strcmp(a, "--in-place") == 0) {
            flags |= EFFCAM_LOAD_IN_PLACE;
        } else if (strcmp(a, "--compact") == 0) {
            flags |= EFFCAM_LOAD_COMPACT;
        } else if (strcmp(a, "--prepack") == 0) {
            flags &= ~EFFCAM_LOAD_COMPACT;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--bytes") == 0) {
            bytes_only = 1;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage_error("plan", "unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else {
            return cli_usage_error("plan", "unexpected argument '%s'", a);
        }
    }
    if (!model_path) return cli_usage_error("plan", "missing MODEL");
    if (json && bytes_only)
        return cli_usage_error("plan", "--json and --bytes exclude each other");

    effcam_plan plan;
    effcam_error err;
    memset(&plan, 0, sizeof plan);
    memset(&err, 0, sizeof err);
    effcam_status st = effcam_plan_file(model_path, &spec, flags, &plan, &err);
    if (st != EFFCAM_OK) {
        cli_report(model_path, st, err.message);
        return CLI_FAIL;
    }

    /* The image path, limits fitted as `effcam gradcam` fits them to a photo
     * (cli_photo_limits), rendering at the largest side both ways (EXIF
     * orientations 5..8 swap the display size). */
    effcam_image_plan iplan;
    memset(&iplan, 0, sizeof iplan);
    if (photo_h) {
        effcam_image_limits lim;
        cli_photo_limits(photo_h, photo_w, progressive, plan.height, plan.width, &lim);
        if (spec.mode == EFFCAM_MODE_GRADCAM) lim.max_render_width = lim.max_render_height = lim.max_width;
        st = effcam_image_plan_bytes(&lim, &iplan);
        if (st != EFFCAM_OK) {
            cli_report("--photo", st, "the image path cannot be planned for that size");
            return CLI_FAIL;
        }
    }
    size_t request = plan.total_bytes + iplan.total_bytes;

    if (bytes_only) {
        printf("%zu\n", photo_h ? request : plan.total_bytes);
        return CLI_OK;
    }
    if (json) {
        printf("{");
        json_key(stdout, "model"); json_str(stdout, model_path);
        printf(", "); json_key(stdout, "height"); printf("%d", plan.height);
        printf(", "); json_key(stdout, "width"); printf("%d", plan.width);
        printf(", "); json_key(stdout, "mode"); json_str(stdout, cli_mode_name(spec.mode));
        printf(", "); json_key(stdout, "layer"); json_str(stdout, spec.layer);
        if (spec.mode == EFFCAM_MODE_GRADCAM) {
            printf(", "); json_key(stdout, "method");
            json_str(stdout, cli_method_name(spec.method));
        }
        printf(", "); json_key(stdout, "in_place");
        printf("%s", (flags & EFFCAM_LOAD_IN_PLACE) ? "true" : "false");
        const struct { const char *k; size_t v; } f[] = {
            {"total_bytes", plan.total_bytes},
            {"model_bytes", plan.model_bytes},
            {"model_tables_bytes", plan.model_tables_bytes},
            {"weights_bytes", plan.weights_bytes},
            {"prepacked_bytes", plan.prepacked_bytes},
            {"workspace_bytes", plan.workspace_bytes},
            {"workspace_tables_bytes", plan.workspace_tables_bytes},
            {"activation_bytes", plan.activation_bytes},
            {"scratch_bytes", plan.scratch_bytes},
            {"file_bytes", plan.file_bytes},
            {"image_bytes", iplan.total_bytes},
            {"image_decode_bytes", iplan.decode_bytes},
            {"image_render_bytes", iplan.render_bytes},
            {"image_outside_bytes", iplan.outside_bytes},
            {"request_bytes", request},
        };
        for (size_t k = 0; k < sizeof f / sizeof f[0]; k++) {
            printf(", ");
            json_key(stdout, f[k].k);
            printf("%zu", f[k].v);
        }
        printf("}\n");
        return CLI_OK;
    }

    printf("%s: %dx%d, mode %s", model_path, plan.height, plan.width,
           cli_mode_name(spec.mode));
    if (spec.mode == EFFCAM_MODE_GRADCAM)
        printf(" (%s)", cli_method_name(spec.method));
    if (spec.layer) printf(", layer %s", spec.layer);
    printf(", weights %s\n",
           (flags & EFFCAM_LOAD_IN_PLACE) ? "used in place" : "copied into the arena");
    row("total", plan.total_bytes);
    row("model", plan.model_bytes);
    row("  tables", plan.model_tables_bytes);
    row("  weights (file copy)", plan.weights_bytes);
    row("  Winograd weights", plan.prepacked_bytes);
    row("workspace", plan.workspace_bytes);
    row("  tables", plan.workspace_tables_bytes);
    row("  activations", plan.activation_bytes);
    row("  scratch", plan.scratch_bytes);
    row("file", plan.file_bytes);
    if (photo_h) {
        printf("image path for photos up to %dx%d%s%s:\n", photo_h, photo_w,
               progressive ? ", progressive allowed" : "",
               spec.mode == EFFCAM_MODE_GRADCAM ? ", overlay at photo size" : "");
        row("image block", iplan.total_bytes);
        row("  handle", iplan.handle_bytes);
        row("  model tensor", iplan.tensor_bytes);
        row("  work (max below)", iplan.work_bytes);
        row("    decode", iplan.decode_bytes);
        row("    render", iplan.render_bytes);
        row("  outside (libjpeg, once)", iplan.outside_bytes);
        row("request (total + image)", request);
        if (flags & EFFCAM_LOAD_IN_PLACE) row("  + mapped file pages", plan.file_bytes);
    }
    if (plan.model_bytes + plan.workspace_bytes != plan.total_bytes ||
        plan.model_tables_bytes + plan.weights_bytes + plan.prepacked_bytes != plan.model_bytes ||
        plan.workspace_tables_bytes + plan.activation_bytes + plan.scratch_bytes !=
            plan.workspace_bytes)
        fprintf(stderr, "effcam: warning: the plan's parts do not add up\n");
    return CLI_OK;
}
