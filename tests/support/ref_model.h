/* A naive, double-precision interpreter of an .ecw file, written
 * independently of lib/ (own parsing, direct loops), for end-to-end checks
 * of the engine on C-built models. */
#ifndef EFFCAM_REF_MODEL_H
#define EFFCAM_REF_MODEL_H
#include <stddef.h>
#include <stdint.h>
/* input: raw pixels NHWC (0..255 space); preprocessing applied here.
 * logits: [classes]. tap_name (optional): its activation into tap_out
 * (malloc'ed, NHWC, *tap_h x *tap_w x *tap_c). Returns 0 on success. */
int ref_model_run(const uint8_t *file, int h, int w, const float *input, float *logits, const char *tap_name,
                  float **tap_out, int *tap_h, int *tap_w, int *tap_c);
/* The same, in double, with element `idx` of the tap (in the tap's own
 * space: output, pre-activation or pre-BN) moved by `delta` before the rest
 * of the network runs: finite differences of the score w.r.t. a layer. */
int ref_model_run_perturbed(const uint8_t *file, int h, int w, const float *input, double *logits, const char *tap_name,
                            size_t idx, double delta);
#endif
