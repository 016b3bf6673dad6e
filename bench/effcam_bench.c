/* effcam-bench: latency, per-op profile, Grad-CAM cost, cold start and peak
 * memory of one model at one input size and thread count.
 *
 *   effcam-bench MODEL.ecw [--size HxW] [--threads N] [--runs N] [--warmup N]
 *                [--gradcam LAYER,...] [--profile] [--json] ...
 *
 * See usage() for every option. One process measures one point; the driver
 * (bench/run_all.sh) runs it in a fresh process per point, interleaved with
 * the peers. No timing is asserted anywhere. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_profile.h"
#include "bench_util.h"
#include "effcam.h"

#define MAX_LAYERS 8
#define MAX_ARGV 64

static void usage(FILE *f) {
    fprintf(f,
        "Usage: effcam-bench MODEL.ecw [options]\n"
        "\n"
        "  --size HxW | N      input size (default: the model's own)\n"
        "  --threads N         effcam_set_threads(N) (default 1)\n"
        "  --runs N            timed predictions (default 30)\n"
        "  --warmup N          untimed predictions first (default 3)\n"
        "  --gradcam L,...     also time predict + Grad-CAM (logit target) in a\n"
        "                      GRADCAM workspace sharing the model, per layer;\n"
        "                      'top' (the model's default tap), 'mid', 'early'\n"
        "                      (features.N/2, features.2 when the model has\n"
        "                      features.* taps) or any tap name\n"
        "  --profile           per-op profile (kernels timed one by one)\n"
        "  --profile-top N     ops listed in the text profile (default 15)\n"
        "  --cold-runs N       time N fresh processes of --cold-cmd (default 5)\n"
        "  --cold-cmd CMD...   the rest of the command line: a command to time\n"
        "                      from fork to exit (e.g. the effcam CLI); '{}' in\n"
        "                      its arguments is not expanded\n"
        "  --fma-peak          also measure the FMA peak at --threads threads\n"
        "  --in-place          load with EFFCAM_LOAD_IN_PLACE (mmap)\n"
        "  --compact           load with EFFCAM_LOAD_COMPACT (Winograd weights\n"
        "                      transformed per call, not at load)\n"
        "  --check PREFIX      compare the logits on PREFIX.probe.f32 (normalised\n"
        "                      NHWC) with PREFIX.probe_logits.f32 (PyTorch's)\n"
        "  --json              one JSON object on stdout instead of text\n"
        "  -h, --help          this help\n");
}

static int parse_size(const char *s, int *h, int *w) {
    char *e;
    long a = strtol(s, &e, 10);
    long b = a;
    if (*e == 'x' || *e == 'X') b = strtol(e + 1, &e, 10);
    if (*e || a < 1 || b < 1 || a > 16384 || b > 16384) return -1;
    *h = (int)a;
    *w = (int)b;
    return 0;
}

static int parse_int(const char *s, int lo, int hi, int *out) {
    char *e;
    long v = strtol(s, &e, 10);
    if (*e || e == s || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* "features.N" taps: the largest N, or -1. */
static int max_feature_index(const effcam_model *m, int ntaps) {
    int best = -1;
    for (int i = 0; i < ntaps; i++) {
        const char *t = effcam_tap_name(m, i);
        int k;
        char tail;
        if (t && sscanf(t, "features.%d%c", &k, &tail) == 1 && k > best) best = k;
    }
    return best;
}

static void resolve_layer(const effcam_model *m, const effcam_info *info, const char *want,
                          char *out, size_t cap) {
    int fmax = max_feature_index(m, info->num_taps);
    if (strcmp(want, "top") == 0 && info->default_tap) snprintf(out, cap, "%s", info->default_tap);
    else if (strcmp(want, "mid") == 0 && fmax >= 0) snprintf(out, cap, "features.%d", (fmax + 1) / 2);
    else if (strcmp(want, "early") == 0 && fmax >= 2) snprintf(out, cap, "features.2");
    else snprintf(out, cap, "%s", want);
}

typedef struct cold_result {
    bench_stats wall;
    double max_rss_mb;
    int ok;
} cold_result;

static cold_result time_cold(char **cmd, int runs) {
    cold_result r;
    memset(&r, 0, sizeof r);
    double *t = calloc((size_t)runs, sizeof *t);
    if (!t) return r;
    long max_kb = 0;
    int ok = 1;
    for (int i = 0; i < runs; i++) {
        double a = bench_now_ms();
        pid_t pid = fork();
        if (pid < 0) { ok = 0; break; }
        if (pid == 0) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) { dup2(fd, 1); close(fd); }
            execvp(cmd[0], cmd);
            _exit(127);
        }
        int status = 0;
        struct rusage ru;
        memset(&ru, 0, sizeof ru);
        /* wait4 is BSD/GNU; waitpid + RUSAGE_CHILDREN (a running max) instead */
        if (waitpid(pid, &status, 0) < 0) { ok = 0; break; }
        t[i] = bench_now_ms() - a;
        getrusage(RUSAGE_CHILDREN, &ru);
        if (ru.ru_maxrss > max_kb) max_kb = ru.ru_maxrss;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "effcam-bench: cold command failed (status %d)\n", status);
            ok = 0;
            break;
        }
    }
    if (ok) {
        r.wall = bench_stats_of(t, runs);
        r.max_rss_mb = (double)max_kb / 1024.0;
        r.ok = 1;
    }
    free(t);
    return r;
}

/* Reads exactly n floats from path; 0 on success. */
static int read_f32(const char *path, float *dst, size_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t got = fread(dst, sizeof *dst, n, f);
    int extra = fgetc(f) != EOF;
    fclose(f);
    return got == n && !extra ? 0 : -1;
}

/* Max |effcam - ref| / max |ref| over the logits, and argmax agreement. */
static int check_logits(effcam_ctx *ctx, const char *prefix, int h, int w, int classes, double *rel,
                        int *same_top1) {
    char path[4096];
    size_t n = (size_t)h * w * 3;
    float *x = malloc(n * sizeof *x), *ref = malloc((size_t)classes * sizeof *ref);
    int rc = -1;
    snprintf(path, sizeof path, "%s.probe.f32", prefix);
    if (x && ref && read_f32(path, x, n) == 0) {
        snprintf(path, sizeof path, "%s.probe_logits.f32", prefix);
        if (read_f32(path, ref, (size_t)classes) == 0 &&
            effcam_predict_f32(ctx, x, h, w, EFFCAM_INPUT_NORMALIZED) == EFFCAM_OK) {
            const float *l = effcam_logits(ctx);
            double md = 0, mr = 0;
            int a = 0, b = 0;
            for (int c = 0; c < classes; c++) {
                double d = l[c] - ref[c];
                if (d < 0) d = -d;
                if (d > md) md = d;
                if ((ref[c] < 0 ? -ref[c] : ref[c]) > mr) mr = ref[c] < 0 ? -ref[c] : ref[c];
                if (l[c] > l[a]) a = c;
                if (ref[c] > ref[b]) b = c;
            }
            *rel = mr > 0 ? md / mr : md;
            *same_top1 = a == b;
            rc = 0;
        }
    }
    free(x);
    free(ref);
    return rc;
}

static int cmp_prof_desc(const void *a, const void *b) {
    double x = ((const bench_op_prof *)a)->median_ms, y = ((const bench_op_prof *)b)->median_ms;
    return (x < y) - (x > y);
}

static void jstr(const char *s) {
    putchar('"');
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
        else putchar(*s);
    }
    putchar('"');
}

/* Text profile: per op type, then the slowest ops. */
static void print_profile(const bench_op_prof *prof, int n, double sum, int top) {
    const char *types[16];
    double tms[16], tfl[16];
    int nt = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < nt && strcmp(types[k], prof[i].type_name) != 0) k++;
        if (k == nt && nt < 16) { types[nt] = prof[i].type_name; tms[nt] = tfl[nt] = 0; nt++; }
        if (k < nt) { tms[k] += prof[i].median_ms; tfl[k] += prof[i].flops; }
    }
    printf("    %-10s %9s %6s %9s %8s\n", "op type", "ms", "share", "GFLOP", "GFLOP/s");
    for (int k = 0; k < nt; k++)
        printf("    %-10s %9.3f %5.1f%% %9.4f %8.1f\n", types[k], tms[k], 100 * tms[k] / sum, tfl[k] / 1e9,
               tms[k] > 0 ? tfl[k] / (tms[k] * 1e6) : 0);
    bench_op_prof *sorted = malloc(sizeof *sorted * (size_t)n);
    if (!sorted) return;
    memcpy(sorted, prof, sizeof *sorted * (size_t)n);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_prof_desc);
    printf("    slowest ops:\n    %4s %-8s %-28s %-16s %-16s %3s %8s %8s\n", "#", "type", "name", "in", "out", "k/s",
           "ms", "GFLOP/s");
    for (int i = 0; i < n && i < top; i++) {
        const bench_op_prof *p = &sorted[i];
        char in[32], out[32];
        snprintf(in, sizeof in, "%dx%dx%d", p->in_h, p->in_w, p->in_c);
        snprintf(out, sizeof out, "%dx%dx%d", p->out_h, p->out_w, p->out_c);
        printf("    %4d %-8s %-28.28s %-16s %-16s %d/%d %8.3f %8.1f\n", p->index, p->type_name, p->name, in, out,
               p->kh, p->sh, p->median_ms, p->median_ms > 0 ? p->flops / (p->median_ms * 1e6) : 0);
    }
    free(sorted);
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *gradcam_arg = NULL, *check_prefix = NULL;
    int h = 0, w = 0, threads = 1, runs = 30, warmup = 3, profile = 0, json = 0;
    int profile_top = 15, cold_runs = 5, fma = 0;
    unsigned flags = 0;
    char **cold_cmd = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) { usage(stdout); return 0; }
        else if (strcmp(a, "--size") == 0) { bad = !v || parse_size(v, &h, &w); i++; }
        else if (strcmp(a, "--threads") == 0) { bad = !v || parse_int(v, 1, 256, &threads); i++; }
        else if (strcmp(a, "--runs") == 0) { bad = !v || parse_int(v, 1, 1000000, &runs); i++; }
        else if (strcmp(a, "--warmup") == 0) { bad = !v || parse_int(v, 0, 1000000, &warmup); i++; }
        else if (strcmp(a, "--profile-top") == 0) { bad = !v || parse_int(v, 1, 100000, &profile_top); i++; }
        else if (strcmp(a, "--cold-runs") == 0) { bad = !v || parse_int(v, 1, 10000, &cold_runs); i++; }
        else if (strcmp(a, "--gradcam") == 0) { bad = !v; gradcam_arg = v; i++; }
        else if (strcmp(a, "--check") == 0) { bad = !v; check_prefix = v; i++; }
        else if (strcmp(a, "--profile") == 0) profile = 1;
        else if (strcmp(a, "--json") == 0) json = 1;
        else if (strcmp(a, "--fma-peak") == 0) fma = 1;
        else if (strcmp(a, "--in-place") == 0) flags |= EFFCAM_LOAD_IN_PLACE;
        else if (strcmp(a, "--compact") == 0) flags |= EFFCAM_LOAD_COMPACT;
        else if (strcmp(a, "--cold-cmd") == 0) {
            if (i + 1 >= argc) bad = 1;
            else { cold_cmd = argv + i + 1; i = argc; }
        } else if (a[0] == '-') bad = 1;
        else if (!model_path) model_path = a;
        else bad = 1;
        if (bad) {
            fprintf(stderr, "effcam-bench: bad argument near '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!model_path) { usage(stderr); return 2; }

    double t_start = bench_now_ms();
    effcam_set_threads(threads);
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.height = h;
    spec.width = w;
    spec.mode = EFFCAM_MODE_PREDICT;
    effcam_error err;
    effcam_plan plan;
    effcam_status st = effcam_plan_file(model_path, &spec, flags, &plan, &err);
    if (st != EFFCAM_OK) {
        fprintf(stderr, "effcam-bench: plan %s: %s (%s)\n", model_path, effcam_strerror(st), err.message);
        return 1;
    }
    effcam_model *model = NULL;
    effcam_ctx *ctx = NULL;
    double t0 = bench_now_ms();
    st = effcam_load_file(model_path, &spec, flags, NULL, 0, &model, &ctx, &err);
    double load_ms = bench_now_ms() - t0;
    if (st != EFFCAM_OK) {
        fprintf(stderr, "effcam-bench: load %s: %s (%s)\n", model_path, effcam_strerror(st), err.message);
        return 1;
    }
    effcam_info info;
    effcam_get_info(model, &info);
    h = plan.height;
    w = plan.width;

    /* input: deterministic pseudo-random RGB 0..255 at the planned size */
    size_t n_in = (size_t)h * w * 3;
    float *img = malloc(n_in * sizeof *img);
    double *lat = malloc(sizeof(double) * (size_t)runs);
    double *lat2 = malloc(sizeof(double) * (size_t)runs);
    if (!img || !lat || !lat2) { fprintf(stderr, "effcam-bench: out of memory\n"); return 1; }
    uint32_t seed = 7u;
    for (size_t k = 0; k < n_in; k++) {
        seed = seed * 1664525u + 1013904223u;
        img[k] = (float)(seed >> 24);
    }

    /* ---- predict latency ---------------------------------------------- */
    for (int r = 0; r < warmup; r++) effcam_predict_f32(ctx, img, h, w, 0);
    for (int r = 0; r < runs; r++) {
        double a = bench_now_ms();
        st = effcam_predict_f32(ctx, img, h, w, 0);
        lat[r] = bench_now_ms() - a;
        if (st != EFFCAM_OK) {
            fprintf(stderr, "effcam-bench: predict: %s\n", effcam_strerror(st));
            return 1;
        }
    }
    double first_to_result_ms = bench_now_ms() - t_start;
    bench_stats pred = bench_stats_of(lat, runs);
    double *pred_lat = malloc(sizeof(double) * (size_t)runs); /* sorted copy for --json */
    if (!pred_lat) { fprintf(stderr, "effcam-bench: out of memory\n"); return 1; }
    memcpy(pred_lat, lat, sizeof(double) * (size_t)runs);
    int top1 = 0;
    float p1 = 0;
    effcam_top_k(ctx, 1, &top1, &p1);
    size_t hwm_predict = bench_vm_hwm();
    size_t high_water = effcam_workspace_high_water(ctx);
    double flops = bench_model_flops(ctx, model);
    double check_rel = -1;
    int check_top1 = 0, check_ok = 0;
    if (check_prefix) {
        check_ok = check_logits(ctx, check_prefix, h, w, info.num_classes, &check_rel, &check_top1) == 0;
        if (!check_ok) fprintf(stderr, "effcam-bench: --check %s: files missing or wrong size\n", check_prefix);
    }

    /* ---- Grad-CAM ------------------------------------------------------ */
    int n_layers = 0;
    char layer_req[MAX_LAYERS][64], layer[MAX_LAYERS][128];
    bench_stats gc_stats[MAX_LAYERS], gc_pred[MAX_LAYERS], gc_only[MAX_LAYERS];
    size_t gc_bytes[MAX_LAYERS];
    int gc_ok[MAX_LAYERS];
    bench_op_prof *bprof[MAX_LAYERS] = {0}; /* --profile: the backward, op by op */
    int bprof_n[MAX_LAYERS];
    double bprof_sum[MAX_LAYERS];
    if (gradcam_arg) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", gradcam_arg);
        for (char *tok = strtok(buf, ","); tok && n_layers < MAX_LAYERS; tok = strtok(NULL, ",")) {
            snprintf(layer_req[n_layers], sizeof layer_req[0], "%s", tok);
            resolve_layer(model, &info, tok, layer[n_layers], sizeof layer[0]);
            n_layers++;
        }
    }
    double *gonly = malloc(sizeof(double) * (size_t)runs);
    for (int L = 0; L < n_layers; L++) {
        gc_ok[L] = 0;
        effcam_spec gs = spec;
        gs.mode = EFFCAM_MODE_GRADCAM;
        gs.layer = layer[L];
        gs.method = EFFCAM_CAM_GRADCAM;
        effcam_ctx *g = NULL;
        gc_bytes[L] = 0;
        st = effcam_workspace_bytes(model, &gs, &gc_bytes[L], &err);
        if (st == EFFCAM_OK) st = effcam_ctx_init(model, &gs, NULL, 0, &g, &err);
        if (st != EFFCAM_OK) {
            fprintf(stderr, "effcam-bench: gradcam workspace for %s: %s (%s)\n", layer[L],
                    effcam_strerror(st), err.message);
            continue;
        }
        effcam_cam_opts o = {-1, EFFCAM_TARGET_LOGIT};
        const float *raw;
        int rh, rw;
        for (int r = 0; r < warmup; r++) {
            effcam_predict_f32(ctx, img, h, w, 0);
            effcam_predict_f32(g, img, h, w, 0);
            effcam_gradcam(g, &o, &raw, &rh, &rw);
        }
        /* interleaved: predict (predict workspace), then predict + Grad-CAM */
        for (int r = 0; r < runs && st == EFFCAM_OK; r++) {
            double a = bench_now_ms();
            effcam_predict_f32(ctx, img, h, w, 0);
            double b = bench_now_ms();
            st = effcam_predict_f32(g, img, h, w, 0);
            double c = bench_now_ms();
            if (st == EFFCAM_OK) st = effcam_gradcam(g, &o, &raw, &rh, &rw);
            double d = bench_now_ms();
            lat2[r] = b - a;
            lat[r] = d - b;
            gonly[r] = d - c;
        }
        if (st != EFFCAM_OK) {
            fprintf(stderr, "effcam-bench: gradcam %s: %s\n", layer[L], effcam_strerror(st));
            effcam_ctx_free(g);
            continue;
        }
        gc_stats[L] = bench_stats_of(lat, runs);
        gc_pred[L] = bench_stats_of(lat2, runs);
        gc_only[L] = bench_stats_of(gonly, runs);
        gc_ok[L] = 1;
        if (profile) {
            bprof[L] = malloc(sizeof(bench_op_prof) * (size_t)info.num_ops);
            if (!bprof[L] || bench_profile_backward(g, model, runs < 5 ? 5 : runs, bprof[L], &bprof_n[L], &bprof_sum[L])) {
                fprintf(stderr, "effcam-bench: backward profile at %s failed\n", layer[L]);
                free(bprof[L]);
                bprof[L] = NULL;
            }
        }
        effcam_ctx_free(g);
    }
    free(gonly);

    /* ---- profile -------------------------------------------------------- */
    bench_op_prof *prof = NULL;
    double prof_sum = 0;
    if (profile) {
        prof = calloc((size_t)info.num_ops, sizeof *prof);
        if (!prof || bench_profile(ctx, model, runs < 5 ? 5 : runs, warmup > 0 ? 1 : 0, prof, &prof_sum)) {
            fprintf(stderr, "effcam-bench: profile failed\n");
            free(prof);
            prof = NULL;
        }
    }

    /* ---- cold start, FMA peak -------------------------------------------- */
    cold_result cold;
    memset(&cold, 0, sizeof cold);
    if (cold_cmd) cold = time_cold(cold_cmd, cold_runs);
    double fma_gflops = fma ? bench_fma_peak(threads, 0.3) : 0;
    size_t hwm_end = bench_vm_hwm();

    /* ---- report ------------------------------------------------------- */
    const double MB = 1024.0 * 1024.0;
    if (json) {
        printf("{\"tool\": \"effcam-bench\", \"model\": ");
        jstr(model_path);
        printf(", \"name\": ");
        jstr(info.name);
        printf(", \"h\": %d, \"w\": %d, \"threads\": %d, \"runs\": %d, \"warmup\": %d", h, w, threads, runs, warmup);
        printf(", \"classes\": %d, \"ops\": %d, \"params\": %llu, \"gflop\": %.6f", info.num_classes,
               info.num_ops, (unsigned long long)info.num_params, flops / 1e9);
        printf(", \"load_ms\": %.3f, \"start_to_result_ms\": %.3f", load_ms, first_to_result_ms);
        printf(", \"predict\": {\"median_ms\": %.4f, \"min_ms\": %.4f, \"p90_ms\": %.4f, \"mean_ms\": %.4f, \"max_ms\": %.4f}",
               pred.median, pred.min, pred.p90, pred.mean, pred.max);
        printf(", \"predict_ms\": [");
        for (int r = 0; r < runs; r++) printf("%s%.4f", r ? ", " : "", pred_lat[r]);
        printf("]");
        printf(", \"top1\": %d, \"top1_prob\": %.6g", top1, p1);
        printf(", \"plan\": {\"total_bytes\": %zu, \"model_bytes\": %zu, \"weights_bytes\": %zu, \"workspace_bytes\": %zu, "
               "\"activation_bytes\": %zu, \"scratch_bytes\": %zu, \"high_water\": %zu}",
               plan.total_bytes, plan.model_bytes, plan.weights_bytes, plan.workspace_bytes,
               plan.activation_bytes, plan.scratch_bytes, high_water);
        printf(", \"peak_rss_predict_bytes\": %zu, \"peak_rss_bytes\": %zu", hwm_predict, hwm_end);
        printf(", \"gradcam\": [");
        for (int L = 0, k = 0; L < n_layers; L++) {
            if (!gc_ok[L]) continue;
            printf("%s{\"request\": ", k++ ? ", " : "");
            jstr(layer_req[L]);
            printf(", \"layer\": ");
            jstr(layer[L]);
            printf(", \"workspace_bytes\": %zu, \"median_ms\": %.4f, \"min_ms\": %.4f, \"p90_ms\": %.4f, "
                   "\"gradcam_only_median_ms\": %.4f, \"predict_median_ms\": %.4f, \"predict_min_ms\": %.4f",
                   gc_bytes[L], gc_stats[L].median, gc_stats[L].min, gc_stats[L].p90, gc_only[L].median,
                   gc_pred[L].median, gc_pred[L].min);
            if (bprof[L] && prof) { /* the backward op by op, and the same ops' forward */
                double fwd = 0;
                for (int q = 0; q < bprof_n[L]; q++) fwd += prof[bprof[L][q].index].median_ms;
                printf(", \"backward_ops\": %d, \"backward_profile_sum_ms\": %.4f, \"same_ops_forward_ms\": %.4f, "
                       "\"forward_profile_sum_ms\": %.4f",
                       bprof_n[L], bprof_sum[L], fwd, prof_sum);
            }
            printf("}");
        }
        printf("]");
        if (prof) {
            printf(", \"profile_sum_ms\": %.4f, \"profile\": [", prof_sum);
            for (int i = 0; i < info.num_ops; i++) {
                const bench_op_prof *p = &prof[i];
                printf("%s{\"i\": %d, \"type\": ", i ? ", " : "", p->index);
                jstr(p->type_name);
                printf(", \"name\": ");
                jstr(p->name);
                printf(", \"in\": [%d, %d, %d], \"out\": [%d, %d, %d], \"k\": %d, \"s\": %d, \"mflop\": %.4f, "
                       "\"median_ms\": %.5f, \"min_ms\": %.5f}",
                       p->in_h, p->in_w, p->in_c, p->out_h, p->out_w, p->out_c, p->kh, p->sh, p->flops / 1e6,
                       p->median_ms, p->min_ms);
            }
            printf("]");
        }
        if (cold_cmd) {
            printf(", \"cold\": {\"ok\": %d, \"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"p90_ms\": %.3f, "
                   "\"max_rss_bytes\": %.0f, \"cmd\": ",
                   cold.ok, cold_runs, cold.wall.median, cold.wall.min, cold.wall.p90, cold.max_rss_mb * MB);
            jstr(cold_cmd[0]);
            printf("}");
        }
        if (fma) printf(", \"fma_peak_gflops\": %.2f", fma_gflops);
        if (check_prefix)
            printf(", \"check\": {\"ok\": %d, \"max_rel_logit_diff\": %.3g, \"same_top1\": %d}", check_ok,
                   check_rel, check_top1);
        printf("}\n");
    } else {
        printf("effcam-bench %s (%s) @%dx%d, %d thread(s), %d runs after %d warm-up\n", model_path, info.name, h, w,
               threads, runs, warmup);
        printf("  model: %d ops, %llu params, %d classes, %.3f GFLOP per prediction\n", info.num_ops,
               (unsigned long long)info.num_params, info.num_classes, flops / 1e9);
        printf("  plan: total %.2f MiB = model %.2f + workspace %.2f (activations %.2f, scratch %.2f); high water %.2f MiB\n",
               plan.total_bytes / MB, plan.model_bytes / MB, plan.workspace_bytes / MB, plan.activation_bytes / MB,
               plan.scratch_bytes / MB, high_water / MB);
        printf("  load %.1f ms; predict median %.2f ms, min %.2f, p90 %.2f (%.1f GFLOP/s at the median)\n", load_ms,
               pred.median, pred.min, pred.p90, flops / (pred.median * 1e6));
        printf("  peak RSS (VmHWM) after predict %.1f MiB, at exit %.1f MiB\n", hwm_predict / MB, hwm_end / MB);
        for (int L = 0; L < n_layers; L++) {
            if (!gc_ok[L]) continue;
            printf("  gradcam %-6s %-14s predict+cam median %.2f ms (min %.2f) = %.2fx predict (%.2f ms same rounds); "
                   "cam alone %.2f ms; workspace %.2f MiB\n",
                   layer_req[L], layer[L], gc_stats[L].median, gc_stats[L].min, gc_stats[L].median / gc_pred[L].median,
                   gc_pred[L].median, gc_only[L].median, gc_bytes[L] / MB);
        }
        if (prof) {
            printf("  profile: sum of per-op medians %.2f ms (predict median %.2f)\n", prof_sum, pred.median);
            print_profile(prof, info.num_ops, prof_sum, profile_top);
        }
        for (int L = 0; L < n_layers; L++) {
            if (!gc_ok[L] || !bprof[L]) continue;
            printf("  backward profile to %s: %d ops, sum of per-op medians %.2f ms (cam alone %.2f)\n", layer[L],
                   bprof_n[L], bprof_sum[L], gc_only[L].median);
            if (prof) { /* the same ops' forward: what the backward is up against */
                double fwd = 0;
                for (int k = 0; k < bprof_n[L]; k++) fwd += prof[bprof[L][k].index].median_ms;
                printf("    the same ops' forward: %.2f ms; backward / forward %.2f; predict + Grad-CAM at backward == "
                       "forward would be %.2fx predict\n",
                       fwd, fwd > 0 ? bprof_sum[L] / fwd : 0, 1.0 + fwd / prof_sum);
            }
            print_profile(bprof[L], bprof_n[L], bprof_sum[L], profile_top);
        }
        if (cold_cmd) {
            if (cold.ok)
                printf("  cold start (%s ..., %d fresh processes): median %.1f ms, min %.1f, p90 %.1f; child peak RSS %.1f MiB\n",
                       cold_cmd[0], cold_runs, cold.wall.median, cold.wall.min, cold.wall.p90, cold.max_rss_mb);
            else
                printf("  cold start: the command failed\n");
        }
        if (check_prefix && check_ok)
            printf("  check vs PyTorch: max |dlogit| / max |logit| = %.3g, same top-1: %s\n", check_rel,
                   check_top1 ? "yes" : "NO");
        if (fma) printf("  FMA peak at %d thread(s): %.1f GFLOP/s; predict median = %.1f%% of it\n", threads, fma_gflops,
                        100.0 * flops / (pred.median * 1e6) / fma_gflops);
    }
    free(prof);
    for (int L = 0; L < n_layers; L++) free(bprof[L]);
    free(pred_lat);
    free(img);
    free(lat);
    free(lat2);
    effcam_free(model);
    return 0;
}
