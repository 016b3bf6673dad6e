/* effcam: command-line front end to the effcam library.
 *   effcam info MODEL
 *   effcam plan MODEL [options]
 *   effcam predict MODEL IMAGE... [options]
 *   effcam convert IN OUT [options]
 * Exit codes: 0 ok, 1 runtime error, 2 usage error. */
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fputs(
        "Usage: effcam COMMAND [ARGS...]\n"
        "       effcam --help | --version\n"
        "\n"
        "EfficientNet-family classifiers and Grad-CAM in a memory footprint\n"
        "known exactly before anything is allocated.\n"
        "\n"
        "Commands:\n"
        "  info MODEL              describe a .ecw model: input, preprocessing,\n"
        "                          ops, taps, labels\n"
        "  plan MODEL              exact memory needed (model + one workspace)\n"
        "  predict MODEL IMAGE...  classify JPEG / PNG images\n"
        "  gradcam MODEL IMAGE     predict, explain, write the heatmap overlay\n"
        "  convert IN OUT          ONNX (or .keras / .h5) -> .ecw\n"
        "\n"
        "Run 'effcam COMMAND --help' for a command's options.\n"
        "Exit status: 0 success, 1 runtime error, 2 usage error.\n",
        f);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("effcam %d.%d.%d\n", EFFCAM_VERSION_MAJOR, EFFCAM_VERSION_MINOR,
               EFFCAM_VERSION_PATCH);
        return CLI_OK;
    }
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 1, argv + 1);
    if (strcmp(cmd, "plan") == 0) return cmd_plan(argc - 1, argv + 1);
    if (strcmp(cmd, "predict") == 0) return cmd_predict(argc - 1, argv + 1);
    if (strcmp(cmd, "gradcam") == 0) return cmd_gradcam(argc - 1, argv + 1);
    if (strcmp(cmd, "convert") == 0) return cmd_convert(argc - 1, argv + 1);
    return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
