#define _POSIX_C_SOURCE 200809L
#include "bench_util.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define BENCH_HAVE_FMA_KERNEL 1
#endif

double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_stats bench_stats_of(double *v, int n) {
    bench_stats s;
    memset(&s, 0, sizeof s);
    s.n = n;
    if (n <= 0) return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.max = v[n - 1];
    s.median = (n & 1) ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    int r = (int)((90 * (long)n + 99) / 100); /* nearest rank, 1-based */
    if (r < 1) r = 1;
    s.p90 = v[r - 1];
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i];
    s.mean = sum / n;
    return s;
}

static size_t status_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t kb = 0, klen = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = (size_t)strtoull(line + klen + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb * 1024u;
}

size_t bench_vm_hwm(void) { return status_kb("VmHWM"); }
size_t bench_vm_rss(void) { return status_kb("VmRSS"); }

#ifdef BENCH_HAVE_FMA_KERNEL
/* 12 independent accumulators hide the FMA latency (4 cycles x 2 pipes). */
__attribute__((target("avx2,fma"))) static double fma_loop(long iters, float *sink) {
    __m256 a[12];
    const __m256 m = _mm256_set1_ps(0.9999999f), c = _mm256_set1_ps(1e-7f);
    for (int k = 0; k < 12; k++) a[k] = _mm256_set1_ps(1.0f + (float)k);
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < 12; k++) a[k] = _mm256_fmadd_ps(a[k], m, c);
    }
    __m256 s = a[0];
    for (int k = 1; k < 12; k++) s = _mm256_add_ps(s, a[k]);
    float out[8];
    _mm256_storeu_ps(out, s);
    *sink = out[0];
    return (double)iters * 12.0 * 8.0 * 2.0;
}

/* Same with 512-bit vectors: on CPUs with full-width AVX-512 (this
 * machine's AMD EPYC) it reaches ~2x the AVX2 loop, and effcam's own GEMM
 * (lib/ops/gemm.c) runs AVX-512, so that is the peak to compare with. */
__attribute__((target("avx512f"))) static double fma_loop512(long iters, float *sink) {
    __m512 a[12];
    const __m512 m = _mm512_set1_ps(0.9999999f), c = _mm512_set1_ps(1e-7f);
    for (int k = 0; k < 12; k++) a[k] = _mm512_set1_ps(1.0f + (float)k);
    for (long i = 0; i < iters; i++) {
        for (int k = 0; k < 12; k++) a[k] = _mm512_fmadd_ps(a[k], m, c);
    }
    __m512 s = a[0];
    for (int k = 1; k < 12; k++) s = _mm512_add_ps(s, a[k]);
    float out[16];
    _mm512_storeu_ps(out, s);
    *sink = out[0];
    return (double)iters * 12.0 * 16.0 * 2.0;
}

typedef struct fma_job { double ms, flops; float sink; int w512; } fma_job;
/* Chunks of 2^18 iterations (~1 ms) until the time is up. */
static void *fma_thread(void *p) {
    fma_job *j = p;
    double t0 = bench_now_ms();
    j->flops = 0;
    do {
        j->flops += j->w512 ? fma_loop512(1L << 17, &j->sink) : fma_loop(1L << 18, &j->sink);
    } while (bench_now_ms() - t0 < j->ms);
    return NULL;
}
#endif

double bench_fma_peak(int threads, double seconds) {
#ifdef BENCH_HAVE_FMA_KERNEL
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    double best = 0;
    const int w512 = __builtin_cpu_supports("avx512f");
    for (int rep = 0; rep < (w512 ? 6 : 3); rep++) { /* with AVX-512: 3 of each width, the best counts */
        pthread_t th[64];
        fma_job jobs[64];
        double t0 = bench_now_ms();
        for (int i = 0; i < threads; i++) {
            jobs[i].ms = seconds * 1e3;
            jobs[i].w512 = w512 && (rep & 1);
            pthread_create(&th[i], NULL, fma_thread, &jobs[i]);
        }
        double flops = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            flops += jobs[i].flops;
        }
        double dt = bench_now_ms() - t0;
        double g = flops / (dt * 1e6);
        if (g > best) best = g;
    }
    return best;
#else
    (void)threads;
    (void)seconds;
    return 0;
#endif
}
