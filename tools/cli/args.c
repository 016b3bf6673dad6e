#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_is_help(const char *arg) {
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    fputs("effcam: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (cmd)
        fprintf(stderr, "Try 'effcam %s --help'.\n", cmd);
    else
        fputs("Try 'effcam --help'.\n", stderr);
    return CLI_USAGE;
}

void cli_report(const char *what, effcam_status st, const char *detail) {
    if (detail && detail[0])
        fprintf(stderr, "effcam: %s: %s (%s)\n", what, effcam_strerror(st),
                detail);
    else
        fprintf(stderr, "effcam: %s: %s\n", what, effcam_strerror(st));
}

int cli_opt_value(int argc, char **argv, int *i, const char *name,
                  const char **value) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *value = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) return -1; /* the caller reports it */
    *value = argv[++*i];
    return 1;
}

int cli_parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

int cli_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out) {
    char *end;
    if (!s || !*s || *s == '-') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi) return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_size(const char *s, int *h, int *w) {
    char buf[64];
    long hv, wv;
    if (!s || strlen(s) >= sizeof buf) return -1;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x) x = strchr(buf, 'X');
    if (x) {
        *x = '\0';
        if (cli_parse_long(buf, 1, 16384, &hv) || cli_parse_long(x + 1, 1, 16384, &wv))
            return -1;
    } else {
        if (cli_parse_long(buf, 1, 16384, &hv)) return -1;
        wv = hv;
    }
    *h = (int)hv;
    *w = (int)wv;
    return 0;
}
