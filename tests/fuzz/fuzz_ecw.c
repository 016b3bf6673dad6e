/* libFuzzer target for the .ecw reader, planner and engine: any bytes go to
 * effcam_plan_memory; when they validate and the plan is small, the model is
 * loaded into an exactly-sized arena and run once (predict, and Grad-CAM at
 * the default layer when there is one). ASan watches the arena's edges. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "effcam.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int mode = 0; mode < 2; mode++) {
        effcam_spec spec;
        memset(&spec, 0, sizeof spec);
        spec.mode = mode ? EFFCAM_MODE_GRADCAM : EFFCAM_MODE_PREDICT;
        effcam_plan p;
        effcam_error err;
        if (effcam_plan_memory(data, size, &spec, 0, &p, &err) != EFFCAM_OK) continue;
        if (p.total_bytes > (32u << 20) || (size_t)p.height * p.width > 512 * 512) continue;
        uint8_t *arena = aligned_alloc(64, (p.total_bytes + 63) & ~(size_t)63);
        effcam_model *m;
        effcam_ctx *ctx;
        if (arena && effcam_load_memory(data, size, &spec, EFFCAM_LOAD_NO_CHECKSUM, arena, p.total_bytes, &m, &ctx, &err) ==
                         EFFCAM_OK) {
            float *x = calloc((size_t)p.height * p.width * 3, sizeof(float));
            if (x && effcam_predict_f32(ctx, x, p.height, p.width, 0) == EFFCAM_OK && mode)
                effcam_gradcam(ctx, NULL, NULL, NULL, NULL);
            free(x);
            effcam_free(m);
        }
        free(arena);
    }
    return 0;
}
