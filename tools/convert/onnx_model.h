/* The parts of an ONNX ModelProto the converter needs, decoded from a
 * protobuf buffer that is treated as hostile. Strings and tensor payloads
 * point into the caller's buffer (which must outlive the model). */
#ifndef EFFCAM_ONNX_MODEL_H
#define EFFCAM_ONNX_MODEL_H
#include <stddef.h>
#include <stdint.h>

#include "pb.h"

#define OX_MAX_DIMS 8
#define OX_MAX_NODES 65536u
#define OX_MAX_INITS 65536u
#define OX_MAX_IO 1048576u    /* node inputs + outputs, whole graph */
#define OX_MAX_ATTRS 262144u  /* attributes, whole graph */
#define OX_MAX_VALUES 65536u  /* graph inputs / outputs */
#define OX_MAX_NUMEL (1ull << 31)

/* TensorProto.DataType values used here */
enum { OX_FLOAT = 1, OX_INT32 = 6, OX_INT64 = 7, OX_FLOAT16 = 10, OX_DOUBLE = 11 };
/* AttributeProto.AttributeType values used here */
enum { OX_A_FLOAT = 1, OX_A_INT = 2, OX_A_STRING = 3, OX_A_TENSOR = 4, OX_A_FLOATS = 6, OX_A_INTS = 7 };

typedef struct ox_tensor {
    pb_buf msg;  /* the TensorProto bytes (typed repeated data is read from here) */
    pb_buf name;
    int ndim;
    int64_t dims[OX_MAX_DIMS];
    uint64_t numel;
    int dtype;
    int has_raw;
    pb_buf raw;
    int external;     /* data_location = EXTERNAL */
    pb_buf location;  /* external_data "location" */
    int64_t ext_offset, ext_length; /* -1 when absent */
} ox_tensor;

typedef struct ox_attr {
    pb_buf name;
    int type;       /* AttributeType (0 if absent: inferred from the fields present) */
    pb_buf msg;     /* the AttributeProto bytes (ints / floats lists) */
    float f;
    int64_t i;
    pb_buf s;
    int has_f, has_i, has_s, has_t;
    ox_tensor t;
} ox_attr;

typedef struct ox_node {
    pb_buf name, op_type, domain;
    pb_buf *in, *out;
    int n_in, n_out;
    ox_attr *attrs;
    int n_attrs;
} ox_node;

typedef struct ox_value_info {
    pb_buf name;
    int ndim;          /* -1: no shape */
    int64_t dims[OX_MAX_DIMS]; /* -1: symbolic / unknown */
} ox_value_info;

typedef struct ox_model {
    int64_t ir_version;
    int64_t opset;     /* default domain ("" or "ai.onnx"); 0 if absent */
    pb_buf graph_name;
    ox_node *nodes;
    int n_nodes;
    ox_tensor *inits;
    int n_inits;
    ox_value_info *inputs, *outputs;
    int n_inputs, n_outputs;
    /* storage */
    pb_buf *io;
    ox_attr *attrs;
} ox_model;

/* Decodes buf (a serialised ModelProto). On error *m is left freed. */
effcam_status ox_parse(const uint8_t *buf, size_t n, ox_model *m, effcam_error *err);
void ox_free(ox_model *m);

/* Parses one TensorProto (also used for attribute tensors). */
effcam_status ox_parse_tensor(pb_buf b, ox_tensor *t, const char *where, effcam_error *err);

/* The tensor's values converted to double (numel of them, malloc'ed).
 * External data is read from base_dir/location (relative, no "..");
 * base_dir NULL refuses external data. */
effcam_status ox_tensor_values(const ox_tensor *t, const char *base_dir, double **out, effcam_error *err);

const ox_attr *ox_find_attr(const ox_node *n, const char *name);
#endif
