/* Firmware-style effcam: no heap at all.
 *  - the .ecw model is linked into the binary (model_blob.c, .incbin);
 *  - the arena is a static buffer of exactly EMBED_ARENA_BYTES, computed at
 *    build time by `effcam plan MODEL --size HxW --in-place --compact --bytes`;
 *  - the model is loaded with EFFCAM_LOAD_IN_PLACE: the weights stay in
 *    read-only memory, the arena holds only tables and activations;
 *  - predict runs on a built-in test pattern and prints the top-1.
 * Built with EMBED_COUNT_ALLOC (embed_noheap), every malloc/free in the
 * process is counted from just before load to the end of predict, and the
 * program fails if there was any. */
#include <stdint.h>
#include <stdio.h>

#include "effcam.h"
#include "embed_arena.h"
#ifdef EMBED_COUNT_ALLOC
#include <stdlib.h>

#include "alloc_count.h"
#endif

extern const unsigned char embed_model_start[];
extern const unsigned char embed_model_end[];

static _Alignas(64) unsigned char arena[EMBED_ARENA_BYTES];

/* A built-in test pattern: colour gradients and a checkerboard. */
#define PATTERN_H 120
#define PATTERN_W 160
static uint8_t pattern[PATTERN_H * PATTERN_W * 3];

/* stdout's buffer, so that printing does not make libc allocate one. */
static char stdout_buf[1024];

static void make_pattern(void) {
    for (int y = 0; y < PATTERN_H; y++)
        for (int x = 0; x < PATTERN_W; x++) {
            uint8_t *p = pattern + (y * PATTERN_W + x) * 3;
            p[0] = (uint8_t)(x * 255 / (PATTERN_W - 1));
            p[1] = (uint8_t)(y * 255 / (PATTERN_H - 1));
            p[2] = ((x / 20 + y / 20) & 1) ? 220 : 30;
        }
}

int main(void) {
    setvbuf(stdout, stdout_buf, _IOLBF, sizeof stdout_buf);
    make_pattern();
    effcam_set_threads(1);

    effcam_spec spec = {0};
    spec.height = EMBED_HEIGHT;
    spec.width = EMBED_WIDTH;
    spec.mode = EFFCAM_MODE_PREDICT;
    size_t model_bytes = (size_t)(embed_model_end - embed_model_start);

    effcam_model *model = NULL;
    effcam_ctx *ctx = NULL;
    effcam_error err = {0};
    int cls = -1;
    float prob = 0.0f;

#ifdef EMBED_COUNT_ALLOC
    /* A self-check: the counter must see an allocation made now. */
    void *(*volatile alloc_fn)(size_t) = malloc;
    void (*volatile free_fn)(void *) = free;
    alloc_count_arm(1);
    free_fn(alloc_fn(16));
    alloc_count_arm(0);
    if (alloc_count_allocs() != 1 || alloc_count_frees() != 1) {
        printf("embed_noheap: the allocation counter does not work (%zu/%zu)\n",
               alloc_count_allocs(), alloc_count_frees());
        return 1;
    }
    size_t allocs0 = alloc_count_allocs(), frees0 = alloc_count_frees();
    alloc_count_arm(1);
#endif
    /* in place, and compact: no load-time Winograd weights in the arena */
    effcam_status st = effcam_load_memory(embed_model_start, model_bytes, &spec,
                                          EFFCAM_LOAD_IN_PLACE | EFFCAM_LOAD_COMPACT, arena,
                                          sizeof arena, &model, &ctx, &err);
    if (st == EFFCAM_OK)
        st = effcam_predict_rgb8(ctx, pattern, PATTERN_H, PATTERN_W, 0);
    int got = st == EFFCAM_OK ? effcam_top_k(ctx, 1, &cls, &prob) : 0;
#ifdef EMBED_COUNT_ALLOC
    alloc_count_arm(0);
    size_t allocs = alloc_count_allocs() - allocs0;
    size_t frees = alloc_count_frees() - frees0;
#endif

    if (st != EFFCAM_OK) {
        printf("embed: %s (%s)\n", effcam_strerror(st), err.message);
        return 1;
    }
    const char *label = got > 0 ? effcam_label(model, cls) : NULL;
    printf("embed: model %zu bytes linked in, static arena %zu bytes "
           "(high water %zu)\n",
           model_bytes, sizeof arena, effcam_workspace_high_water(ctx));
    printf("top-1: class %d (%s) p=%.4f\n", cls, label ? label : "no label",
           (double)prob);
    effcam_free(model); /* nothing to release: all memory is the caller's */
#ifdef EMBED_COUNT_ALLOC
    printf("heap calls between load and the end of predict: %zu allocations, "
           "%zu frees\n", allocs, frees);
    if (allocs || frees) {
        printf("FAIL: the heap was used\n");
        return 1;
    }
    printf("OK: no heap\n");
#endif
    return got == 1 ? 0 : 1;
}
