#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed * 0x9E3779B97F4A7C15ull + 0x1234567ull; if (!r->s) r->s = 1; }
uint64_t tu_next(tu_rng *r) {
    r->s ^= r->s >> 12; r->s ^= r->s << 25; r->s ^= r->s >> 27;
    return r->s * 0x2545F4914F6CDD1Dull;
}
float tu_uniform(tu_rng *r, float lo, float hi) {
    return lo + (hi - lo) * (float)((tu_next(r) >> 40) * (1.0 / 16777216.0));
}
int tu_int(tu_rng *r, int lo, int hi) { return lo + (int)(tu_next(r) % (uint64_t)(hi - lo + 1)); }
void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) x[i] = tu_uniform(r, lo, hi);
}
void tu_fill_f16(tu_rng *r, uint16_t *w, size_t n, float lo, float hi) {
    for (size_t i = 0; i < n; i++) w[i] = ec_f32_to_f16(tu_uniform(r, lo, hi));
}
void *tu_weights(tu_rng *r, int wdt, size_t n, float lo, float hi) {
    size_t esz = wdt == EC_WDT_F32 ? sizeof(float) : sizeof(uint16_t);
    void *w = malloc((n ? n : 1) * esz);
    if (!w) abort();
    if (wdt == EC_WDT_F32) tu_fill(r, w, n, lo, hi);
    else tu_fill_f16(r, w, n, lo, hi);
    return w;
}
double tu_weight(const void *w, int wdt, size_t i) {
    return wdt == EC_WDT_F32 ? (double)((const float *)w)[i] : (double)ec_f16_to_f32(((const uint16_t *)w)[i]);
}
double tu_rel_l2(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) { double d = (double)a[i] - b[i]; num += d * d; den += (double)b[i] * b[i]; }
    return sqrt(num) / (den > 1e-300 ? sqrt(den) : 1e-150);
}
double tu_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) { double d = fabs((double)a[i] - b[i]); if (d > m || d != d) m = d; }
    return m;
}
void *tu_read_file(const char *path, size_t *bytes) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); long n = ftell(f); fseek(f, 0, SEEK_SET);
    void *p = malloc(n > 0 ? (size_t)n : 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p && bytes) *bytes = (size_t)n;
    return p;
}
const char *tu_env(const char *name, const char *def) { const char *v = getenv(name); return v && *v ? v : def; }
void tu_skip_note(const char *what, const char *why) {
    fprintf(stderr, "SKIPPED: %s: %s\n", what, why);
}
