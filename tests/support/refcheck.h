/* Shared checks of the engine against golden reference files. */
#ifndef EFFCAM_REFCHECK_H
#define EFFCAM_REFCHECK_H
#include <stddef.h>
#include "effcam.h"
/* Reads dir/name as float32, expecting n floats (0 = any); NULL if absent. */
float *rc_load_f32(const char *dir, const char *name, size_t n, size_t *got);
/* Runs predict on input (raw 0..255, h x w); logits/probs copied out. */
effcam_status rc_predict(const char *ecw, int h, int w, const char *layer, const float *input, float *logits,
                         float *probs, int ncls, float **tap, size_t *tap_n);
/* Grad-CAM raw map and weights for (layer, target, class). */
effcam_status rc_gradcam(const char *ecw, int h, int w, const char *layer, int target, int cls, const float *input,
                         float **raw, size_t *raw_n, float **weights, size_t *weights_n);
int rc_argmax(const float *x, int n);
/* max |minmax(relu(a)) - minmax(relu(b))| */
double rc_norm_maxdiff(const float *a, const float *b, size_t n);
#endif
