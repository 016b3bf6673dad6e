/* A small .ecw writer in C for tests (independent of the Python writer):
 * builds valid models with random weights, and helps mutate them into
 * hostile ones. */
#ifndef EFFCAM_ECW_BUILD_H
#define EFFCAM_ECW_BUILD_H
#include <stddef.h>
#include <stdint.h>

#include "test_util.h"

typedef struct tb_builder tb_builder;

tb_builder *tb_new(int input_h, int input_w);
void tb_free(tb_builder *b);
/* Adds an f16 (dtype 1) or f32 (dtype 2) tensor of random values; returns its index. */
int tb_tensor(tb_builder *b, tu_rng *r, int dtype, int ndim, const int *dims, float lo, float hi);
/* Raw op record; returns the value it writes (index + 1). */
int tb_op(tb_builder *b, int type, int act, int act2, int flags, int in0, int in1, int kh, int kw, int sh, int sw,
          int pt, int pl, int pb, int pr, int cin, int cout, int cmid, int t0, int t1, int t2, int t3, const char *name);
void tb_tap(tb_builder *b, const char *name, int value, int kind, int scale_t, int shift_t);
void tb_label(tb_builder *b, const char *label);
/* Serialises; *out is malloc'ed (64-byte aligned). */
int tb_finish(tb_builder *b, int default_tap, uint8_t **out, size_t *size);

/* The standard test model: stem conv2d 3x3 s2 "same" + silu, dwconv 3x3 +
 * silu, se, pwconv (project), pwconv expand + relu6, dwconv 5x5 s2 explicit
 * pad + hswish, pwconv + add residual, top pwconv + silu, gap, dense(act),
 * dense -> classes. Taps "stem", "block1", "top_conv" (pre-BN), "top_bn"
 * (preact), "top", "pool", "b1_se" (the SE output), "b1_project" (the
 * projection before the residual add), "block1_pre" (the add's
 * pre-activation). Random weights from seed. */
int tb_build_tiny(uint64_t seed, int h, int w, int classes, uint8_t **out, size_t *size);
/* The same model (same random values) with its 11 weight tensors (t0 of
 * conv2d / dwconv / pwconv / dense, t0 and t2 of se) all f16, all f32
 * (values not rounded to fp16), or mixed: f32 for the stem conv2d, the
 * first dwconv, se's W1 (W2 stays f16), the first project pwconv and the
 * first dense; f16 for the rest, so every weighted op type appears in both
 * dtypes. Biases are always f32. */
enum { TB_WEIGHTS_F16 = 0, TB_WEIGHTS_F32, TB_WEIGHTS_MIXED };
int tb_build_tiny_weights(uint64_t seed, int h, int w, int classes, int weights, uint8_t **out, size_t *size);

/* Little-endian field access and CRC repair for mutation tests. */
uint32_t tb_rd32(const uint8_t *p);
uint64_t tb_rd64(const uint8_t *p);
void tb_wr16(uint8_t *p, uint16_t v);
void tb_wr32(uint8_t *p, uint32_t v);
void tb_wr64(uint8_t *p, uint64_t v);
void tb_fix_crcs(uint8_t *file, size_t size);
#endif
