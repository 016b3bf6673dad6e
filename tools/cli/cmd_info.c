/* effcam info MODEL: what a .ecw file holds. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static void info_usage(FILE *f) {
    fputs(
        "Usage: effcam info MODEL [options]\n"
        "\n"
        "Describes MODEL: name, source, input size, preprocessing, the weight\n"
        "dtype(s) and bytes, the op table, Grad-CAM taps (the default marked\n"
        "with *) and class labels.\n"
        "The model is validated as it is loaded (read-only mmap).\n"
        "\n"
        "Options:\n"
        "  --json        one JSON object instead of text\n"
        "  --no-ops      leave out the per-op table\n"
        "  -h, --help    this help\n",
        f);
}

/* The weights' stored dtype(s): "f16", "f32", "mixed" or "none". */
static const char *weight_dtype(const effcam_info *in) {
    if (in->weight_bytes_f16 && in->weight_bytes_f32) return "mixed";
    return in->weight_bytes_f32 ? "f32" : in->weight_bytes_f16 ? "f16" : "none";
}

static void print_json(const char *path, const effcam_model *model,
                       const effcam_info *in, int with_ops) {
    FILE *o = stdout;
    fputc('{', o);
    json_key(o, "file"); json_str(o, path);
    fputs(", ", o); json_key(o, "name"); json_str(o, in->name ? in->name : "");
    fputs(", ", o); json_key(o, "source"); json_str(o, cli_source_name(in->source));
    fputs(", ", o); json_key(o, "file_bytes"); fprintf(o, "%" PRIu64, in->file_bytes);
    fputs(", ", o); json_key(o, "input");
    fprintf(o, "[%d, %d, %d]", in->input_height, in->input_width, in->input_channels);
    fputs(", ", o); json_key(o, "channel_order"); json_str(o, cli_channel_order_name(in->channel_order));
    fputs(", ", o); json_key(o, "pre_mul");
    fputc('[', o);
    for (int c = 0; c < 3; c++) { if (c) fputs(", ", o); json_num(o, in->pre_mul[c]); }
    fputs("], ", o); json_key(o, "pre_add");
    fputc('[', o);
    for (int c = 0; c < 3; c++) { if (c) fputs(", ", o); json_num(o, in->pre_add[c]); }
    fputs("], ", o); json_key(o, "resize_policy"); json_str(o, cli_resize_name(in->resize_policy));
    fputs(", ", o); json_key(o, "resize_filter"); json_str(o, cli_filter_name(in->resize_filter));
    fputs(", ", o); json_key(o, "crop"); fprintf(o, "[%d, %d]", in->crop_num, in->crop_den);
    fputs(", ", o); json_key(o, "head_softmax"); fputs(in->head_softmax ? "true" : "false", o);
    fputs(", ", o); json_key(o, "num_ops"); fprintf(o, "%d", in->num_ops);
    fputs(", ", o); json_key(o, "num_tensors"); fprintf(o, "%d", in->num_tensors);
    fputs(", ", o); json_key(o, "num_params"); fprintf(o, "%" PRIu64, in->num_params);
    fputs(", ", o); json_key(o, "weight_dtype"); json_str(o, weight_dtype(in));
    fputs(", ", o); json_key(o, "weight_bytes"); fprintf(o, "%" PRIu64, in->weight_bytes_f16 + in->weight_bytes_f32);
    fputs(", ", o); json_key(o, "weight_bytes_f16"); fprintf(o, "%" PRIu64, in->weight_bytes_f16);
    fputs(", ", o); json_key(o, "weight_bytes_f32"); fprintf(o, "%" PRIu64, in->weight_bytes_f32);
    fputs(", ", o); json_key(o, "num_classes"); fprintf(o, "%d", in->num_classes);
    if (with_ops) {
        fputs(", ", o); json_key(o, "ops"); fputc('[', o);
        for (int i = 0; i < in->num_ops; i++) {
            effcam_op_info op;
            memset(&op, 0, sizeof op);
            if (i) fputs(", ", o);
            if (effcam_get_op_info(model, i, &op) != EFFCAM_OK) { fputs("null", o); continue; }
            fputc('{', o);
            json_key(o, "index"); fprintf(o, "%d", i);
            fputs(", ", o); json_key(o, "type"); json_str(o, op.type);
            fputs(", ", o); json_key(o, "name"); json_str(o, op.name);
            fputs(", ", o); json_key(o, "act"); json_str(o, op.act);
            fputs(", ", o); json_key(o, "kernel"); fprintf(o, "[%d, %d]", op.kh, op.kw);
            fputs(", ", o); json_key(o, "stride"); fprintf(o, "[%d, %d]", op.sh, op.sw);
            fputs(", ", o); json_key(o, "cin"); fprintf(o, "%d", op.cin);
            fputs(", ", o); json_key(o, "cout"); fprintf(o, "%d", op.cout);
            fputs(", ", o); json_key(o, "params"); fprintf(o, "%" PRIu64, op.params);
            fputs(", ", o); json_key(o, "weights"); json_str(o, op.weights ? op.weights : "");
            fputc('}', o);
        }
        fputc(']', o);
    }
    fputs(", ", o); json_key(o, "taps"); fputc('[', o);
    for (int i = 0; i < in->num_taps; i++) {
        if (i) fputs(", ", o);
        json_str(o, effcam_tap_name(model, i));
    }
    fputs("], ", o); json_key(o, "default_tap"); json_str(o, in->default_tap);
    fputs(", ", o); json_key(o, "labels"); fputc('[', o);
    for (int c = 0; c < in->num_classes; c++) {
        if (c) fputs(", ", o);
        json_str(o, effcam_label(model, c));
    }
    fputs("]}\n", o);
}

static void print_text(const char *path, const effcam_model *model,
                       const effcam_info *in, int with_ops) {
    printf("file:          %s (%" PRIu64 " bytes)\n", path, in->file_bytes);
    printf("name:          %s\n", in->name && in->name[0] ? in->name : "(none)");
    printf("source:        %s\n", cli_source_name(in->source));
    printf("input:         %dx%dx%d (HxWxC), channel order %s\n", in->input_height,
           in->input_width, in->input_channels, cli_channel_order_name(in->channel_order));
    printf("preprocessing: x' = x * mul + add, x in 0..255\n");
    printf("  mul:         %.9g %.9g %.9g\n", in->pre_mul[0], in->pre_mul[1], in->pre_mul[2]);
    printf("  add:         %.9g %.9g %.9g\n", in->pre_add[0], in->pre_add[1], in->pre_add[2]);
    printf("resize:        %s, %s", cli_resize_name(in->resize_policy),
           cli_filter_name(in->resize_filter));
    if (in->resize_policy == 1 && in->crop_num > 0)
        printf(" (shorter side to size*%d/%d, then centre crop)", in->crop_den, in->crop_num);
    printf("\n");
    printf("head:          %d classes%s\n", in->num_classes,
           in->head_softmax ? ", the source model ended in softmax" : "");
    printf("ops:           %d, tensors %d, params %" PRIu64 "\n", in->num_ops,
           in->num_tensors, in->num_params);
    if (in->weight_bytes_f16 && in->weight_bytes_f32)
        printf("weights:       mixed: f16 %" PRIu64 " bytes + f32 %" PRIu64 " bytes = %" PRIu64 " bytes\n",
               in->weight_bytes_f16, in->weight_bytes_f32, in->weight_bytes_f16 + in->weight_bytes_f32);
    else
        printf("weights:       %s, %" PRIu64 " bytes (conv / dense / SE weight tensors; biases are f32)\n",
               weight_dtype(in), in->weight_bytes_f16 + in->weight_bytes_f32);

    if (with_ops && in->num_ops > 0) {
        printf("\n%5s  %-8s %-28s %-9s %-7s %-5s %13s %12s  %s\n", "index", "type",
               "name", "act", "kernel", "strd", "cin->cout", "params", "weights");
        for (int i = 0; i < in->num_ops; i++) {
            effcam_op_info op;
            memset(&op, 0, sizeof op);
            effcam_status st = effcam_get_op_info(model, i, &op);
            if (st != EFFCAM_OK) {
                printf("%5d  (%s)\n", i, effcam_strerror(st));
                continue;
            }
            char k[24], s[24], io[32];
            snprintf(k, sizeof k, "%dx%d", op.kh, op.kw);
            snprintf(s, sizeof s, "%dx%d", op.sh, op.sw);
            snprintf(io, sizeof io, "%d->%d", op.cin, op.cout);
            printf("%5d  %-8s %-28s %-9s %-7s %-5s %13s %12" PRIu64 "  %s\n", i,
                   op.type ? op.type : "?", op.name && op.name[0] ? op.name : "-",
                   op.act ? op.act : "-", k, s, io, op.params,
                   op.weights && op.weights[0] ? op.weights : "-");
        }
    }

    printf("\ntaps (%d):", in->num_taps);
    if (in->num_taps == 0) printf(" none");
    printf("\n");
    for (int i = 0; i < in->num_taps; i++) {
        const char *t = effcam_tap_name(model, i);
        int def = t && in->default_tap && strcmp(t, in->default_tap) == 0;
        printf("  %c %s%s\n", def ? '*' : ' ', t ? t : "?", def ? "  (default)" : "");
    }

    printf("\nlabels (%d classes):\n", in->num_classes);
    int any = 0;
    for (int c = 0; c < in->num_classes; c++) {
        const char *l = effcam_label(model, c);
        if (!l) continue;
        any = 1;
        printf("  %4d  %s\n", c, l);
    }
    if (!any) printf("  (none stored: classes are shown by index)\n");
}

int cmd_info(int argc, char **argv) {
    const char *model_path = NULL;
    int json = 0, with_ops = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (cli_is_help(a)) { info_usage(stdout); return CLI_OK; }
        if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--no-ops") == 0) with_ops = 0;
        else if (a[0] == '-' && a[1] != '\0')
            return cli_usage_error("info", "unknown option '%s'", a);
        else if (!model_path) model_path = a;
        else return cli_usage_error("info", "unexpected argument '%s'", a);
    }
    if (!model_path) return cli_usage_error("info", "missing MODEL");

    effcam_spec spec;
    effcam_error err;
    effcam_model *model = NULL;
    effcam_ctx *ctx = NULL;
    memset(&spec, 0, sizeof spec);
    memset(&err, 0, sizeof err);
    /* Loading always makes a workspace, which info does not use: plan it
     * for a small input first, and at the model's own size only if the
     * graph refuses the small one. */
    spec.height = spec.width = 32;
    effcam_status st = effcam_load_file(model_path, &spec, EFFCAM_LOAD_IN_PLACE,
                                        NULL, 0, &model, &ctx, &err);
    if (st == EFFCAM_E_DIMS) {
        spec.height = spec.width = 0;
        memset(&err, 0, sizeof err);
        st = effcam_load_file(model_path, &spec, EFFCAM_LOAD_IN_PLACE, NULL, 0,
                              &model, &ctx, &err);
    }
    if (st != EFFCAM_OK) {
        cli_report(model_path, st, err.message);
        return CLI_FAIL;
    }
    effcam_info in;
    memset(&in, 0, sizeof in);
    st = effcam_get_info(model, &in);
    if (st != EFFCAM_OK) {
        cli_report(model_path, st, "effcam_get_info");
        effcam_free(model);
        return CLI_FAIL;
    }
    if (json) print_json(model_path, model, &in, with_ops);
    else print_text(model_path, model, &in, with_ops);
    effcam_free(model);
    return CLI_OK;
}
