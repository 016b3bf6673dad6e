/* Protobuf wire format, read defensively (see pb.h). */
#include "pb.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

effcam_status cv_fail(effcam_error *err, effcam_status st, const char *fmt, ...) {
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

void pb_init(pb_cur *c, pb_buf b, const char *what) {
    c->p = b.p;
    c->end = b.p ? b.p + b.n : b.p;
    c->what = what;
}

static int varint(pb_cur *c, uint64_t *v, effcam_error *err) {
    uint64_t r = 0;
    for (int i = 0; i < 10; i++) {
        if (c->p >= c->end)
            return cv_fail(err, EFFCAM_E_TRUNCATED, "%s: varint runs past the end of the message", c->what), -1;
        uint8_t b = *c->p++;
        if (i == 9 && b > 1) return cv_fail(err, EFFCAM_E_CORRUPT, "%s: varint longer than 64 bits", c->what), -1;
        r |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return cv_fail(err, EFFCAM_E_CORRUPT, "%s: varint longer than 10 bytes", c->what), -1;
}

int pb_next(pb_cur *c, pb_field *f, effcam_error *err) {
    if (c->p >= c->end) return 0;
    uint64_t tag;
    if (varint(c, &tag, err)) return -1;
    uint64_t num = tag >> 3;
    int wire = (int)(tag & 7);
    if (num == 0 || num > 0x1FFFFFFFu)
        return cv_fail(err, EFFCAM_E_CORRUPT, "%s: invalid field number %llu", c->what, (unsigned long long)num), -1;
    f->num = (uint32_t)num;
    f->wire = wire;
    f->v = 0;
    f->b.p = NULL;
    f->b.n = 0;
    size_t left = (size_t)(c->end - c->p);
    switch (wire) {
    case PB_VARINT: return varint(c, &f->v, err) ? -1 : 1;
    case PB_I64:
    case PB_I32: {
        size_t k = wire == PB_I64 ? 8 : 4;
        if (left < k)
            return cv_fail(err, EFFCAM_E_TRUNCATED, "%s: field %u: fixed%d value truncated", c->what, f->num,
                           (int)(8 * k)), -1;
        uint64_t v = 0;
        for (size_t i = 0; i < k; i++) v |= (uint64_t)c->p[i] << (8 * i);
        c->p += k;
        f->v = v;
        return 1;
    }
    case PB_LEN: {
        uint64_t n;
        if (varint(c, &n, err)) return -1;
        left = (size_t)(c->end - c->p);
        if (n > (uint64_t)left)
            return cv_fail(err, EFFCAM_E_TRUNCATED, "%s: field %u declares %llu bytes, only %zu left", c->what, f->num,
                           (unsigned long long)n, left), -1;
        f->b.p = c->p;
        f->b.n = (size_t)n;
        c->p += n;
        return 1;
    }
    default:
        return cv_fail(err, EFFCAM_E_CORRUPT, "%s: field %u has unsupported wire type %d", c->what, f->num, wire), -1;
    }
}

int pb_want(const pb_field *f, int wire, const char *msg, const char *field, effcam_error *err) {
    static const char *const names[] = {"varint", "fixed64", "length-delimited", "group", "group", "fixed32", "?", "?"};
    if (f->wire == wire) return 0;
    cv_fail(err, EFFCAM_E_CORRUPT, "%s.%s (field %u): wire type %s, expected %s", msg, field, f->num,
            names[f->wire & 7], names[wire & 7]);
    return -1;
}

static void store(void *out, size_t cap, size_t i, int kind, uint64_t v) {
    if (!out || i >= cap) return;
    if (kind == PB_VARINT) ((int64_t *)out)[i] = (int64_t)v;
    else if (kind == PB_I32) {
        uint32_t u = (uint32_t)v;
        float x;
        memcpy(&x, &u, 4);
        ((float *)out)[i] = x;
    } else {
        double x;
        memcpy(&x, &v, 8);
        ((double *)out)[i] = x;
    }
}

int pb_repeated(pb_buf msg, uint32_t num, int kind, void *out, size_t cap, size_t *count, const char *what,
                effcam_error *err) {
    pb_cur c;
    pb_init(&c, msg, what);
    pb_field f;
    size_t n = 0;
    int r;
    while ((r = pb_next(&c, &f, err)) > 0) {
        if (f.num != num) continue;
        if (f.wire == kind) {
            store(out, cap, n++, kind, f.v);
        } else if (f.wire == PB_LEN) {
            if (kind == PB_VARINT) {
                pb_cur pc;
                pb_init(&pc, f.b, what);
                while (pc.p < pc.end) {
                    uint64_t v;
                    if (varint(&pc, &v, err)) return -1;
                    store(out, cap, n++, kind, v);
                }
            } else {
                size_t k = kind == PB_I32 ? 4 : 8;
                if (f.b.n % k)
                    return cv_fail(err, EFFCAM_E_CORRUPT, "%s: packed field %u: %zu bytes is not a multiple of %zu",
                                   what, num, f.b.n, k), -1;
                for (size_t i = 0; i < f.b.n; i += k) {
                    uint64_t v = 0;
                    for (size_t j = 0; j < k; j++) v |= (uint64_t)f.b.p[i + j] << (8 * j);
                    store(out, cap, n++, kind, v);
                }
            }
        } else {
            return cv_fail(err, EFFCAM_E_CORRUPT, "%s: repeated field %u has wire type %d", what, num, f.wire), -1;
        }
    }
    if (r < 0) return -1;
    *count = n;
    return 0;
}

int pb_eq(pb_buf a, const char *s) {
    size_t n = strlen(s);
    return a.n == n && (n == 0 || memcmp(a.p, s, n) == 0);
}

void pb_cstr(pb_buf a, char *dst, size_t cap) {
    if (!cap) return;
    size_t n = a.n < cap - 1 ? a.n : cap - 1;
    if (n) memcpy(dst, a.p, n);
    dst[n] = 0;
}
