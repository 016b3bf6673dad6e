/* Status strings and error detail. */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static const char *const k_status[EFFCAM_STATUS_COUNT] = {
    [EFFCAM_OK] = "success",
    [EFFCAM_E_ARG] = "invalid argument",
    [EFFCAM_E_IO] = "file could not be opened, read or mapped",
    [EFFCAM_E_MAGIC] = "not an effcam model file (bad magic)",
    [EFFCAM_E_VERSION] = "unsupported model format version or byte order",
    [EFFCAM_E_TRUNCATED] = "model data is truncated",
    [EFFCAM_E_CORRUPT] = "model file is corrupt or inconsistent",
    [EFFCAM_E_CHECKSUM] = "model checksum mismatch",
    [EFFCAM_E_UNSUPPORTED] = "unsupported operation, activation or mode",
    [EFFCAM_E_DIMS] = "dimensions out of range",
    [EFFCAM_E_OVERFLOW] = "size arithmetic overflow",
    [EFFCAM_E_NOMEM] = "out of memory",
    [EFFCAM_E_BUFFER_SMALL] = "caller-provided buffer is smaller than the plan",
    [EFFCAM_E_IMAGE] = "image could not be decoded",
    [EFFCAM_E_LAYER] = "unknown layer name",
    [EFFCAM_E_MODE] = "workspace was not planned for this request",
    [EFFCAM_E_STATE] = "call out of order",
};

const char *effcam_strerror(effcam_status status) {
    if ((unsigned)status >= EFFCAM_STATUS_COUNT) return "unknown status code";
    return k_status[status];
}

effcam_status ec_fail(effcam_error *err, effcam_status st, const char *fmt, ...) {
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

void ec_ok(effcam_error *err) {
    if (err) { err->status = EFFCAM_OK; err->message[0] = 0; }
}
