/* Shared test helpers: deterministic random data, error metrics, files. */
#ifndef EFFCAM_TEST_UTIL_H
#define EFFCAM_TEST_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* xorshift64* PRNG, deterministic across platforms. */
typedef struct tu_rng { uint64_t s; } tu_rng;
void tu_seed(tu_rng *r, uint64_t seed);
uint64_t tu_next(tu_rng *r);
float tu_uniform(tu_rng *r, float lo, float hi);
int tu_int(tu_rng *r, int lo, int hi); /* inclusive */
void tu_fill(tu_rng *r, float *x, size_t n, float lo, float hi);
/* n random fp16 weights in [lo, hi]. */
void tu_fill_f16(tu_rng *r, uint16_t *w, size_t n, float lo, float hi);
/* n random kernel weights in [lo, hi] of dtype wdt (EC_WDT_*: fp16 bits or
 * plain floats, which are then generally not fp16-representable);
 * malloc'ed. */
void *tu_weights(tu_rng *r, int wdt, size_t n, float lo, float hi);
/* Element i of such weights as a double. */
double tu_weight(const void *w, int wdt, size_t i);

/* ||a - b|| / max(||b||, tiny) */
double tu_rel_l2(const float *a, const float *b, size_t n);
double tu_max_abs_diff(const float *a, const float *b, size_t n);

/* Reads a whole file into malloc'ed memory (tests only). NULL if absent. */
void *tu_read_file(const char *path, size_t *bytes);
/* getenv with a default */
const char *tu_env(const char *name, const char *def);
/* Prints a loud skip line (visible in ctest -V / CI logs). */
void tu_skip_note(const char *what, const char *why);
#endif
