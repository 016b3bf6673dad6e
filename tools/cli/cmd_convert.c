/* effcam convert IN OUT: ONNX -> .ecw in C (tools/convert); .keras / .h5
 * through tools/keras2ecw.py (Debian's /usr/bin/python3, posix_spawn). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "onnx_to_ecw.h"

extern char **environ;

#ifndef EFFCAM_SOURCE_DIR
#define EFFCAM_SOURCE_DIR ""
#endif
#ifndef EFFCAM_DATA_DIR
#define EFFCAM_DATA_DIR ""
#endif

static void convert_usage(FILE *f) {
    fputs(
        "Usage: effcam convert IN OUT [options]\n"
        "\n"
        "Converts a model to .ecw. IN.onnx: the C converter (torchvision-style\n"
        "EfficientNet / MobileNet exported with torch.onnx.export, opsets 11-17;\n"
        "see docs/CONVERT.md). IN.keras / IN.h5: runs tools/keras2ecw.py with\n"
        "/usr/bin/python3 (EFFCAM_KERAS2ECW overrides the script, EFFCAM_PYTHON\n"
        "the interpreter).\n"
        "\n"
        "Options:\n"
        "  --labels FILE|a,b,c  class labels: a file (one per line) or a comma list\n"
        "  --mean R,G,B         the normalisation mean the ONNX graph expects on\n"
        "                       0..1 RGB input (default 0.485,0.456,0.406)\n"
        "  --std R,G,B          its standard deviation (default 0.229,0.224,0.225)\n"
        "  --size HxW           model input size (default: the graph input's, else 224)\n"
        "  --name NAME          model name stored in the file\n"
        "  --f32-weights        f32 weight tensors instead of f16\n"
        "  --opset-check        refuse opsets outside the tested 11..17\n"
        "  -h, --help           this help\n",
        f);
}

static int parse3(const char *s, float v[3]) {
    char *end;
    for (int k = 0; k < 3; k++) {
        errno = 0;
        double d = strtod(s, &end);
        if (end == s || errno) return -1;
        v[k] = (float)d;
        if (k < 2) {
            if (*end != ',') return -1;
            s = end + 1;
        }
    }
    return *end ? -1 : 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

/* labels: a readable file (one per line) or a comma-separated list */
static char *read_labels(const char *arg, char ***labels, int *n) {
    char *buf = NULL;
    FILE *f = fopen(arg, "rb");
    int file = f != NULL;
    if (f) {
        size_t cap = 0, len = 0;
        for (;;) {
            if (len + 4096 + 1 > cap) {
                cap = cap ? cap * 2 : 8192;
                char *nb = realloc(buf, cap);
                if (!nb) { free(buf); fclose(f); return NULL; }
                buf = nb;
            }
            size_t r = fread(buf + len, 1, 4096, f);
            len += r;
            if (r < 4096) break;
        }
        fclose(f);
        buf[len] = 0;
    } else {
        buf = strdup(arg);
        if (!buf) return NULL;
    }
    char sep = file ? '\n' : ',';
    int count = 1;
    for (char *p = buf; *p; p++) count += *p == sep;
    *labels = calloc((size_t)count, sizeof **labels);
    if (!*labels) { free(buf); return NULL; }
    *n = 0;
    char *s = buf;
    for (;;) {
        char *e = strchr(s, sep);
        if (e) *e = 0;
        size_t l = strlen(s);
        if (l && s[l - 1] == '\r') s[l - 1] = 0;
        if (!(file && !e && !*s)) (*labels)[(*n)++] = s; /* no empty last line */
        if (!e) break;
        s = e + 1;
    }
    return buf;
}

static int run_keras(const char *in, const char *out, const char *labels_arg, const char *size_arg, const char *name,
                     int f32) {
    const char *script = getenv("EFFCAM_KERAS2ECW");
    char path[4096];
    struct stat sb;
    if (!script || !*script) {
        snprintf(path, sizeof path, "%s/tools/keras2ecw.py", EFFCAM_SOURCE_DIR);
        if (!EFFCAM_SOURCE_DIR[0] || stat(path, &sb) != 0) snprintf(path, sizeof path, "%s/effcam/keras2ecw.py", EFFCAM_DATA_DIR);
        script = path;
    }
    if (stat(script, &sb) != 0) {
        fprintf(stderr, "effcam: convert: cannot find keras2ecw.py (tried %s; set EFFCAM_KERAS2ECW)\n", script);
        return CLI_FAIL;
    }
    const char *py = getenv("EFFCAM_PYTHON");
    if (!py || !*py) py = "/usr/bin/python3";
    char **labels = NULL;
    int n_labels = 0;
    char *lbuf = NULL;
    int label_file = 0;
    if (labels_arg) {
        struct stat lb;
        label_file = stat(labels_arg, &lb) == 0;
        if (!label_file && !(lbuf = read_labels(labels_arg, &labels, &n_labels))) return CLI_FAIL;
    }
    char **av = calloc((size_t)n_labels * 2 + 16, sizeof *av);
    if (!av) { free(labels); free(lbuf); return CLI_FAIL; }
    int k = 0;
    av[k++] = (char *)py;
    av[k++] = (char *)script;
    av[k++] = (char *)in;
    av[k++] = (char *)out;
    if (label_file) { av[k++] = "--labels"; av[k++] = (char *)labels_arg; }
    for (int i = 0; i < n_labels; i++) { av[k++] = "--label"; av[k++] = labels[i]; }
    if (size_arg) { av[k++] = "--size"; av[k++] = (char *)size_arg; }
    if (name) { av[k++] = "--name"; av[k++] = (char *)name; }
    if (f32) av[k++] = "--f32-weights";
    av[k] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, py, NULL, NULL, av, environ);
    free(av);
    free(labels);
    free(lbuf);
    if (rc != 0) {
        fprintf(stderr, "effcam: convert: cannot run %s: %s\n", py, strerror(rc));
        return CLI_FAIL;
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return CLI_FAIL;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? CLI_OK : CLI_FAIL;
}

int cmd_convert(int argc, char **argv) {
    const char *pos[2] = {NULL, NULL};
    int npos = 0;
    ec_convert_opts o;
    ec_convert_defaults(&o);
    const char *labels_arg = NULL, *size_arg = NULL;
    int opset_check = 0, mean_std = 0;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int r;
        if (cli_is_help(argv[i])) { convert_usage(stdout); return CLI_OK; }
        if ((r = cli_opt_value(argc, argv, &i, "--labels", &v))) {
            if (r < 0) return cli_usage_error("convert", "--labels needs a value");
            labels_arg = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--mean", &v))) {
            if (r < 0 || parse3(v, o.mean)) return cli_usage_error("convert", "--mean needs R,G,B");
            mean_std = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--std", &v))) {
            if (r < 0 || parse3(v, o.std) || !(o.std[0] > 0 && o.std[1] > 0 && o.std[2] > 0))
                return cli_usage_error("convert", "--std needs three positive numbers R,G,B");
            mean_std = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--size", &v))) {
            if (r < 0 || cli_parse_size(v, &o.input_h, &o.input_w)) return cli_usage_error("convert", "--size needs HxW");
            size_arg = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--name", &v))) {
            if (r < 0) return cli_usage_error("convert", "--name needs a value");
            o.name = v;
        } else if (strcmp(argv[i], "--f32-weights") == 0) {
            o.f32_weights = 1;
        } else if (strcmp(argv[i], "--opset-check") == 0) {
            opset_check = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("convert", "unknown option '%s'", argv[i]);
        } else {
            if (npos == 2) return cli_usage_error("convert", "too many arguments");
            pos[npos++] = argv[i];
        }
    }
    if (npos != 2) return cli_usage_error("convert", "expected IN and OUT");
    if (ends_with(pos[0], ".keras") || ends_with(pos[0], ".h5")) {
        if (mean_std) return cli_usage_error("convert", "--mean/--std apply to ONNX input only (Keras models carry their preprocessing)");
        return run_keras(pos[0], pos[1], labels_arg, size_arg, o.name, o.f32_weights);
    }
    char **labels = NULL;
    char *lbuf = NULL;
    if (labels_arg) {
        lbuf = read_labels(labels_arg, &labels, &o.n_labels);
        if (!lbuf) { fprintf(stderr, "effcam: convert: out of memory\n"); return CLI_FAIL; }
        o.labels = (const char *const *)labels;
    }
    ec_convert_info info;
    effcam_error err;
    effcam_status st = ec_onnx_convert_file(pos[0], pos[1], &o, &info, &err);
    free(labels);
    free(lbuf);
    if (st) {
        cli_report("convert", st, err.message);
        return CLI_FAIL;
    }
    int tested = info.opset >= 11 && info.opset <= 17;
    if (!tested) {
        fprintf(stderr, "effcam: convert: %s opset %lld (tested: 11..17)\n", opset_check ? "refusing" : "warning:",
                (long long)info.opset);
        if (opset_check) {
            remove(pos[1]);
            return CLI_FAIL;
        }
    }
    printf("%s: %d ops, %d tensors, %d taps, %d classes, opset %lld, default tap %s%s\n", pos[1], info.n_ops, info.n_tensors,
           info.n_taps, info.n_classes, (long long)info.opset, info.default_tap[0] ? info.default_tap : "(none)",
           info.head_softmax ? ", softmax head" : "");
    return CLI_OK;
}
