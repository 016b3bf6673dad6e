/* A tiny protobuf / ONNX writer for tests: builds small valid ONNX models
 * in memory (independent of the converter's reader) and hostile variants
 * of them, one injected fault at a time. */
#ifndef EFFCAM_ONNX_BUILD_H
#define EFFCAM_ONNX_BUILD_H
#include <stddef.h>
#include <stdint.h>

typedef struct pbw { uint8_t *p; size_t n, cap; } pbw;
void pbw_free(pbw *w);
void pbw_varint(pbw *w, uint64_t v);
void pbw_tag(pbw *w, uint32_t num, int wire);
void pbw_int(pbw *w, uint32_t num, int64_t v);            /* varint field */
void pbw_f32(pbw *w, uint32_t num, float v);              /* fixed32 field */
void pbw_bytes(pbw *w, uint32_t num, const void *p, size_t n);
void pbw_str(pbw *w, uint32_t num, const char *s);
void pbw_msg(pbw *w, uint32_t num, const pbw *sub);        /* appends sub as a sub-message */

/* Faults for ob_tiny. */
enum ob_fault {
    OB_OK = 0,
    OB_WIRE_OPTYPE,    /* NodeProto.op_type as a varint */
    OB_WIRE_DIMS,      /* TensorProto.dims as fixed32 */
    OB_HUGE_LEN,       /* a declared length far past the end */
    OB_VARINT_LONG,    /* an 11-byte varint */
    OB_HUGE_DIM,       /* a weight dim of 2^40 */
    OB_NEG_DIM,        /* a weight dim of -3 */
    OB_OVERFLOW_DIMS,  /* dims whose product overflows 64 bits */
    OB_RAW_SHORT,      /* raw_data shorter than the dims need */
    OB_TYPED_COUNT,    /* float_data with one value too few */
    OB_MISSING_INIT,   /* a Conv weight that nobody produces */
    OB_CYCLE,          /* two nodes feeding each other */
    OB_SELF_LOOP,      /* a node consuming its own output */
    OB_UNKNOWN_OP,     /* op_type "FancyOp" */
    OB_ATTR_TYPE,      /* Conv group given as a FLOAT attribute */
    OB_DUP_OUTPUT,     /* two nodes writing the same output name */
    OB_GROUPED,        /* group = 2 convolution */
    OB_NO_GRAPH,       /* ModelProto without a graph */
    OB_TWO_INPUTS,     /* two graph inputs */
    OB_CHANNELS,       /* a Conv expecting the wrong input channels */
    OB_BN_NOT_AFTER_CONV, /* BatchNormalization after a ReLU */
    OB_DILATED,        /* dilations 2 */
    OB_CLIP_RANGE,     /* Clip(-1, 1) */
    OB_WIRE_GROUP,     /* group attribute value 'i' as fixed64 */
    OB_EXT_ABS,        /* external data at an absolute path */
    OB_EXT_DOTDOT,     /* external data at ../w.bin */
    OB_EXT_OK,         /* external data at w.bin (valid; the test writes it) */
    OB_TYPED_OK,       /* weights in float_data (valid) */
    OB_HEAD_RELU,      /* the last Gemm followed by Relu (no logits) */
    OB_VARIANT_MM,     /* valid, same function: ReduceMean, Reshape, MatMul + Add, Identity/Dropout, Relu6 via Clip attributes */
    OB_FAULT_COUNT
};

/* The tiny model (input 1x3x16x16): Conv3x3 s2 -> BN -> x*Sigmoid(x) ->
 * SE (GAP, Conv, Relu, Conv, Sigmoid, Mul) -> Conv1x1 -> Add(residual)
 * -> Clip(0,6) (Constant min/max) -> x*HardSigmoid(x) -> Pad -> depthwise
 * Conv 3x3 -> HardSwish -> GlobalAveragePool -> Flatten -> Gemm -> Softmax.
 * Node names are torch-style scoped paths (/features/features.0/Conv, ...).
 * ext_w_bytes: for OB_EXT_*, the bytes the external file must hold (malloc'ed). */
int ob_tiny(int fault, uint64_t seed, uint8_t **out, size_t *n, uint8_t **ext_w, size_t *ext_n);
#endif
