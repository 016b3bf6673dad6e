/* libFuzzer target for the ONNX converter: any bytes go through the
 * protobuf reader and the graph conversion (in memory, no files: external
 * data is refused without a model folder). A converted file must then
 * validate in effcam's own reader, and when it is small it is loaded and
 * run once. ASan/UBSan watch the reader, the converter and the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "effcam.h"
#include "onnx_to_ecw.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ec_convert_opts o;
    ec_convert_defaults(&o);
    uint8_t *ecw = NULL;
    size_t n = 0;
    effcam_error err;
    if (ec_onnx_to_ecw(data, size, &o, &ecw, &n, NULL, &err) != EFFCAM_OK) {
        if (!err.message[0] || ecw || n) abort(); /* every error carries a message, no output */
        return 0;
    }
    effcam_spec spec;
    memset(&spec, 0, sizeof spec);
    effcam_plan p;
    effcam_status st = effcam_plan_memory(ecw, n, &spec, 0, &p, &err);
    if (st == EFFCAM_OK && p.total_bytes <= (32u << 20) && (size_t)p.height * p.width <= 256 * 256) {
        effcam_model *m;
        effcam_ctx *ctx;
        if (effcam_load_memory(ecw, n, &spec, 0, NULL, 0, &m, &ctx, &err) == EFFCAM_OK) {
            float *x = calloc((size_t)p.height * p.width * 3, sizeof(float));
            if (x) effcam_predict_f32(ctx, x, p.height, p.width, 0);
            free(x);
            effcam_free(m);
        }
    }
    free(ecw);
    return 0;
}
