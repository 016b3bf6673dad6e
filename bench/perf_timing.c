/* Whole-model predict timing (not a test; not part of the build).
 *   cc -O2 -std=gnu11 -Iinclude -Ilib bench/perf_timing.c BUILD/libeffcam.a \
 *      -lopenblas -ljpeg -lpng -lz -lpthread -lm -o /tmp/perf_timing
 *   /tmp/perf_timing model.ecw threads runs [height width]
 * Prints median / min / max ms of `runs` predicts after 3 warm-ups, the
 * model's forward FLOPs (2 * MACs of conv/dw/pw/dense/SE) and GFLOP/s at
 * the median. Built with -DEFFCAM_PROFILE (library too) it also prints the
 * time per op type. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "effcam.h"
#include "internal.h"

#ifdef EFFCAM_PROFILE
extern double ec_prof_seconds[16];
extern double ec_prof_op_seconds[ECW_MAX_OPS];
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}
static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s model.ecw threads runs [h w]\n", argv[0]); return 2; }
    int threads = atoi(argv[2]), runs = atoi(argv[3]);
#if defined(__x86_64__)
    if (getenv("PERF_FTZ")) __builtin_ia32_ldmxcsr(__builtin_ia32_stmxcsr() | 0x8040); /* FTZ + DAZ (experiment) */
#endif
    effcam_set_threads(threads);
    effcam_spec spec = {0};
    if (argc >= 6) { spec.height = atoi(argv[4]); spec.width = atoi(argv[5]); }
    effcam_model *m;
    effcam_ctx *ctx;
    effcam_error err;
    if (effcam_load_file(argv[1], &spec, 0, NULL, 0, &m, &ctx, &err)) { fprintf(stderr, "%s\n", err.message); return 1; }
    int H = ctx->h, W = ctx->w;
    float *x = malloc(sizeof(float) * (size_t)H * W * 3);
    srand(1);
    for (size_t i = 0; i < (size_t)H * W * 3; i++) x[i] = (float)(rand() % 256);
    double flops = 0;
    for (uint32_t i = 0; i < m->L.n_ops; i++) {
        const ec_op *op = &m->ops[i];
        const ec_buf *o = &ctx->bufs[i + 1], *in = &ctx->bufs[op->in0];
        double hw = (double)o->h * o->w;
        switch (op->type) {
        case ECW_OP_CONV2D: flops += 2 * hw * op->cout * op->kh * op->kw * op->cin; break;
        case ECW_OP_DWCONV: flops += 2 * hw * op->cout * op->kh * op->kw; break;
        case ECW_OP_PWCONV: case ECW_OP_DENSE: flops += 2 * hw * op->cout * op->cin; break;
        case ECW_OP_SE: flops += 4.0 * in->c * op->cmid + 2.0 * in->h * in->w * in->c; break;
        default: break;
        }
    }
    for (int i = 0; i < 3; i++) effcam_predict_f32(ctx, x, H, W, 0);
#ifdef EFFCAM_PROFILE
    memset(ec_prof_seconds, 0, sizeof(double) * 16);
    memset(ec_prof_op_seconds, 0, sizeof(double) * ECW_MAX_OPS);
#endif
    double *t = malloc(sizeof(double) * (size_t)runs), *cpu = malloc(sizeof(double) * (size_t)runs);
    for (int r = 0; r < runs; r++) {
        double c0 = cpu_now(), t0 = now();
        effcam_predict_f32(ctx, x, H, W, 0);
        t[r] = (now() - t0) * 1e3;
        cpu[r] = (cpu_now() - c0) * 1e3;
    }
    qsort(t, (size_t)runs, sizeof(double), cmpd);
    qsort(cpu, (size_t)runs, sizeof(double), cmpd);
    double med = runs % 2 ? t[runs / 2] : 0.5 * (t[runs / 2 - 1] + t[runs / 2]);
    int cls[1];
    effcam_top_k(ctx, 1, cls, NULL);
    printf("%s %dx%d threads=%d runs=%d median %.2f ms min %.2f max %.2f p25 %.2f p75 %.2f  %.2f GFLOP  %.1f GFLOP/s"
           "  cpu median %.2f ms (all threads) top1=%d\n",
           argv[1], H, W, threads, runs, med, t[0], t[runs - 1], t[runs / 4], t[(3 * runs) / 4], flops * 1e-9,
           flops * 1e-9 / (med * 1e-3), cpu[runs / 2], cls[0]);
#ifdef EFFCAM_PROFILE
    for (int k = 0; k < 16; k++)
        if (ec_prof_seconds[k] > 0)
            printf("  %-8s %.2f ms/run\n", ec_op_type_name(k), ec_prof_seconds[k] * 1e3 / runs);
    if (getenv("EFFCAM_PROFILE_OPS"))
        for (uint32_t i = 0; i < m->L.n_ops; i++) {
            const ec_op *op = &m->ops[i];
            const ec_buf *o = &ctx->bufs[i + 1];
            printf("  op %3u %-7s %3dx%-3d cin %4d cout %4d k%d s%d act %d: %.3f ms\n", i, ec_op_type_name(op->type), o->h,
                   o->w, op->cin, op->cout, op->kh, op->sh, op->act, ec_prof_op_seconds[i] * 1e3 / runs);
        }
#endif
    free(t);
    free(cpu);
    free(x);
    effcam_free(m);
    return 0;
}
