/* The .ecw binary layout (docs/FORMAT.md is the specification; this header
 * only names its constants). All integers little-endian, read with the
 * helpers in ecw_read.c, never by casting the file to a struct. */
#ifndef EFFCAM_ECW_FORMAT_H
#define EFFCAM_ECW_FORMAT_H

#include <stdint.h>

#define ECW_MAGIC "EFFCAMW\0"      /* 8 bytes */
#define ECW_VERSION 1u
#define ECW_BYTE_ORDER 0x01020304u /* stored LE: 04 03 02 01 */
#define ECW_HEADER_BYTES 256u
#define ECW_ALIGN 64u

#define ECW_OP_BYTES 64u
#define ECW_TENSOR_BYTES 48u
#define ECW_TAP_BYTES 32u
#define ECW_LABEL_BYTES 4u

#define ECW_NONE 0xFFFFFFFFu /* "no string / no tensor" as u32 */

/* Limits the reader enforces (hostile files). */
#define ECW_MAX_OPS 1024u
#define ECW_MAX_TENSORS 16384u
#define ECW_MAX_TAPS 8192u
#define ECW_MAX_LABELS 100000u
#define ECW_MAX_CHANNELS 65536u
#define ECW_MAX_KERNEL 15u
#define ECW_MAX_STRIDE 4u
#define ECW_MAX_STRING 1024u
#define ECW_MAX_INPUT 16384 /* max input height / width */

/* Header field offsets. */
enum {
    ECWH_MAGIC = 0,          /* u8[8]  */
    ECWH_VERSION = 8,        /* u32    */
    ECWH_BYTE_ORDER = 12,    /* u32    */
    ECWH_HEADER_BYTES = 16,  /* u32    */
    ECWH_FLAGS = 20,         /* u32    */
    ECWH_FILE_BYTES = 24,    /* u64    */
    ECWH_N_OPS = 32,         /* u32    */
    ECWH_N_TENSORS = 36,     /* u32    */
    ECWH_N_TAPS = 40,        /* u32    */
    ECWH_N_LABELS = 44,      /* u32    */
    ECWH_OPS_OFF = 48,       /* u64    */
    ECWH_TENSORS_OFF = 56,   /* u64    */
    ECWH_TAPS_OFF = 64,      /* u64    */
    ECWH_LABELS_OFF = 72,    /* u64    */
    ECWH_STRINGS_OFF = 80,   /* u64    */
    ECWH_STRINGS_BYTES = 88, /* u64    */
    ECWH_DATA_OFF = 96,      /* u64    */
    ECWH_DATA_BYTES = 104,   /* u64    */
    ECWH_INPUT_H = 112,      /* u32    */
    ECWH_INPUT_W = 116,      /* u32    */
    ECWH_INPUT_C = 120,      /* u32    */
    ECWH_CHANNEL_ORDER = 124,/* u32    */
    ECWH_PRE_MUL = 128,      /* f32[3] */
    ECWH_PRE_ADD = 140,      /* f32[3] */
    ECWH_RESIZE_POLICY = 152,/* u32    */
    ECWH_RESIZE_FILTER = 156,/* u32    */
    ECWH_CROP_NUM = 160,     /* u32    */
    ECWH_CROP_DEN = 164,     /* u32    */
    ECWH_DEFAULT_TAP = 168,  /* u32 (ECW_NONE) */
    ECWH_SOURCE = 172,       /* u32    */
    ECWH_NAME = 176,         /* u32 string offset (ECW_NONE) */
    ECWH_RESERVED0 = 180,    /* u32 0  */
    ECWH_BODY_CRC = 184,     /* u32 CRC-32 of bytes [header_bytes, file_bytes) */
    ECWH_HEADER_CRC = 188    /* u32 CRC-32 of bytes [0, 188)  */
    /* 192..255 reserved, zero */
};

#define ECW_FLAG_HEAD_SOFTMAX 1u

/* Op record (64 bytes). Op i writes value i+1; value 0 is the input. */
enum {
    ECWO_TYPE = 0,   /* u16 */
    ECWO_ACT = 2,    /* u8  */
    ECWO_ACT2 = 3,   /* u8  */
    ECWO_FLAGS = 4,  /* u32 */
    ECWO_IN0 = 8,    /* i32 value id */
    ECWO_IN1 = 12,   /* i32 value id or -1 */
    ECWO_KH = 16,    /* u16 x4: kh kw sh sw */
    ECWO_PAD = 24,   /* u16 x4: top left bottom right */
    ECWO_CIN = 32,   /* u32 */
    ECWO_COUT = 36,  /* u32 */
    ECWO_CMID = 40,  /* u32 */
    ECWO_T0 = 44,    /* i32 x4 tensor indices, -1 none */
    ECWO_NAME = 60   /* u32 string offset (ECW_NONE) */
};

#define ECW_OPF_PAD_SAME 1u /* TF "same": padding computed from the input size */

enum ecw_op_type {
    ECW_OP_CONV2D = 1, /* k x k, groups 1. t0 f16 [cout,kh,kw,cin], t1 f32 [cout] */
    ECW_OP_DWCONV = 2, /* depthwise.      t0 f16 [kh,kw,c],        t1 f32 [c]    */
    ECW_OP_PWCONV = 3, /* 1x1 stride 1.   t0 f16 [cout,cin],       t1 f32 [cout] */
    ECW_OP_SE = 4,     /* squeeze-excite. t0 f16 [cmid,c] t1 f32 [cmid]
                                          t2 f16 [c,cmid] t3 f32 [c];
                          act = squeeze activation, act2 = gate           */
    ECW_OP_ADD = 5,    /* in0 + in1 (same shape), then act                  */
    ECW_OP_GAP = 6,    /* global average pool -> 1 x 1 x c                 */
    ECW_OP_DENSE = 7,  /* 1x1xcin -> 1x1xcout. t0 f16 [cout,cin] t1 f32 [cout] */
    ECW_OP_ACT = 8,    /* standalone activation, same shape                */
    ECW_OP_TYPE_COUNT
};

enum ecw_act {
    ECW_ACT_NONE = 0,
    ECW_ACT_RELU = 1,
    ECW_ACT_RELU6 = 2,
    ECW_ACT_SILU = 3,
    ECW_ACT_SIGMOID = 4,
    ECW_ACT_HSWISH = 5,   /* x * relu6(x + 3) / 6 */
    ECW_ACT_HSIGMOID = 6, /* relu6(x + 3) / 6     */
    ECW_ACT_COUNT
};

enum ecw_dtype { ECW_F16 = 1, ECW_F32 = 2 };

/* Tensor record (48 bytes). */
enum {
    ECWT_DTYPE = 0,  /* u32 */
    ECWT_NDIM = 4,   /* u32 1..4 */
    ECWT_DIMS = 8,   /* u32 x4, unused = 1 */
    ECWT_OFFSET = 24,/* u64 from data_off, multiple of 64 */
    ECWT_NBYTES = 32,/* u64 = prod(dims) * elem size */
    ECWT_NAME = 40,  /* u32 string offset (ECW_NONE) */
    ECWT_RESERVED = 44
};

/* Tap record (32 bytes): a named point in the graph. */
enum {
    ECWP_NAME = 0,   /* u32 string offset */
    ECWP_VALUE = 4,  /* i32 value id (1..n_ops) */
    ECWP_KIND = 8,   /* u32 ecw_tap_kind */
    ECWP_SCALE = 12, /* i32 tensor f32 [c] (PRE_BN) or -1 */
    ECWP_SHIFT = 16  /* i32 tensor f32 [c] (PRE_BN) or -1 */
    /* 20..31 reserved zero */
};

enum ecw_tap_kind {
    ECW_TAP_OUTPUT = 0, /* the op's output (after its fused activation)     */
    ECW_TAP_PREACT = 1, /* the op's output before its fused activation      */
    ECW_TAP_PRE_BN = 2  /* before a folded batch norm:
                           tap = (preact - shift) / scale, per channel      */
};

enum ecw_source { ECW_SRC_UNKNOWN = 0, ECW_SRC_TORCHVISION = 1, ECW_SRC_KERAS = 2, ECW_SRC_ONNX = 3 };

#endif
