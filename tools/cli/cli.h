/* effcam command-line tool: shared declarations.
 * The CLI uses only the public API (include/effcam.h). */
#ifndef EFFCAM_CLI_H
#define EFFCAM_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "effcam.h"
#include "effcam_image.h"

/* Default refusal limit for photos (pixels), before anything is decoded. */
#define CLI_IMAGE_DEFAULT_MAX_PIXELS (64u * 1024u * 1024u) /* 64 Mpixel */

/* Exit codes. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Commands: argv[0] is the command name. Return an exit code. */
int cmd_info(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_gradcam(int argc, char **argv);
int cmd_convert(int argc, char **argv);

/* Image limits for photos up to photo_h x photo_w (either orientation),
 * progressive JPEG allowed or not, decoded to out_h x out_w; no rendering
 * (stream_io.c). */
void cli_photo_limits(int photo_h, int photo_w, int progressive, int out_h, int out_w, effcam_image_limits *lim);
/* A streaming image handle with limits fitted to `photo` (stream_io.c). */
effcam_status cli_stream_open(const char *photo, int out_h, int out_w, int render, uint64_t max_pixels,
                              effcam_image **img, effcam_image_plan *plan, effcam_image_info *info, effcam_error *err);

/* ---- argument helpers (args.c) --------------------------------------- */
/* If argv[*i] is option `name` ("--top 5" or "--top=5"), sets *value to its
 * argument, advances *i past it and returns 1. Returns -1 when the argument
 * is missing (the caller reports it), 0 when argv[*i] is not `name`. */
int cli_opt_value(int argc, char **argv, int *i, const char *name,
                  const char **value);
/* "HxW" or "N" (square); 1..16384 each. 0 on success. */
int cli_parse_size(const char *s, int *h, int *w);
/* Decimal integer in [lo, hi]. 0 on success. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
/* Decimal unsigned 64-bit integer in [lo, hi]. 0 on success. */
int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* Prints "effcam: <fmt>" and a hint to run `effcam <cmd> --help`;
 * returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Prints "effcam: <what>: <effcam_strerror(st)> (<detail>)" to stderr; the
 * parenthesis is left out when detail is empty. */
void cli_report(const char *what, effcam_status st, const char *detail);
int cli_is_help(const char *arg);

/* ---- names for enum values (names.c) --------------------------------- */
const char *cli_source_name(int source);
const char *cli_resize_name(int policy);
const char *cli_filter_name(int filter);
const char *cli_channel_order_name(int order);
const char *cli_mode_name(effcam_mode mode);
int cli_parse_mode(const char *s, effcam_mode *mode);
const char *cli_method_name(effcam_cam_method m);
int cli_parse_method(const char *s, effcam_cam_method *m);
double cli_mib(size_t bytes);

/* ---- JSON output (json.c) -------------------------------------------- */
/* Writes s as a JSON string literal (with quotes); NULL writes null. */
void json_str(FILE *f, const char *s);
/* Writes a float with round-trip precision; NaN / inf write null. */
void json_num(FILE *f, double v);
void json_key(FILE *f, const char *key); /* "key": */

#endif
