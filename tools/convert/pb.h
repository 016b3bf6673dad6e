/* A minimal protobuf wire-format reader for hostile input (no allocation,
 * no recursion). Every varint, length and field number is checked against
 * the buffer; callers decode one message level at a time with pb_next. */
#ifndef EFFCAM_PB_H
#define EFFCAM_PB_H
#include <stddef.h>
#include <stdint.h>

#include "effcam.h"

typedef struct pb_buf { const uint8_t *p; size_t n; } pb_buf;

enum { PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_I32 = 5 };

typedef struct pb_field {
    uint32_t num;  /* field number, 1 .. 2^29-1 */
    int wire;      /* PB_VARINT, PB_I64, PB_LEN or PB_I32 */
    uint64_t v;    /* varint / fixed value */
    pb_buf b;      /* PB_LEN payload (inside the parent buffer) */
} pb_field;

typedef struct pb_cur { const uint8_t *p, *end; const char *what; } pb_cur;

/* Fills err (status + formatted message); returns the status. */
effcam_status cv_fail(effcam_error *err, effcam_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

void pb_init(pb_cur *c, pb_buf b, const char *what);
/* 1: a field was read into *f; 0: end of the message; <0: error (err set). */
int pb_next(pb_cur *c, pb_field *f, effcam_error *err);
/* Checks the wire type of a known field; 0 ok, -1 error (err set). */
int pb_want(const pb_field *f, int wire, const char *msg, const char *field, effcam_error *err);

/* Repeated scalar field `num` of message `msg` (packed or not), decoded as
 * int64 (kind PB_VARINT), float (PB_I32) or double (PB_I64). With out ==
 * NULL only counts. *count = the number of elements (all of them; at most
 * cap are stored). 0 ok, -1 error. */
int pb_repeated(pb_buf msg, uint32_t num, int kind, void *out, size_t cap, size_t *count, const char *what,
                effcam_error *err);

/* String helpers for pb_buf slices. */
int pb_eq(pb_buf a, const char *s);
/* Copies into dst (NUL-terminated, truncated to cap-1). */
void pb_cstr(pb_buf a, char *dst, size_t cap);
#endif
