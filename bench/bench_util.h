/* effcam-bench helpers: clocks, statistics, memory, FMA peak. */
#ifndef EFFCAM_BENCH_UTIL_H
#define EFFCAM_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

double bench_now_ms(void); /* CLOCK_MONOTONIC */

typedef struct bench_stats {
    int n;
    double median, min, p90, mean, max;
} bench_stats;
/* Sorts v in place. p90: nearest rank. */
bench_stats bench_stats_of(double *v, int n);

/* From /proc/self/status, in bytes (0 if unavailable). */
size_t bench_vm_hwm(void);
size_t bench_vm_rss(void);

/* Measured fp32 FMA throughput in GFLOP/s with `threads` threads running an
 * independent register-only FMA loop each (AVX2+FMA; 0 if unsupported). */
double bench_fma_peak(int threads, double seconds);

#endif
